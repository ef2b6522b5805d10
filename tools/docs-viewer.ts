import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/*
 * Copies the API reference viewer (Swagger UI, Apache-2.0, from the swagger-ui-dist npm
 * package) into the Workers static assets at public/docs/swagger-ui/, where GET /docs loads it.
 * Run by `npm install` (postinstall) and `npm run assets`; the copy is not committed.
 */

const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE'];

const source = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const target = join(import.meta.dirname, '..', 'public', 'docs', 'swagger-ui');
mkdirSync(target, { recursive: true });
for (const file of FILES) copyFileSync(join(source, file), join(target, file));
console.log(`docs viewer: copied ${FILES.length} files of swagger-ui-dist into public/docs/swagger-ui/`);
