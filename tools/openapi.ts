import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocumentText } from '../src/api/openapi/document';

/*
 * `npm run openapi` writes docs/openapi.json from the code (the same document GET /openapi.json
 * serves); `npm run openapi -- --check` fails when the committed file differs from it.
 */

const path = join(import.meta.dirname, '..', 'docs', 'openapi.json');
const text = openApiDocumentText();

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(path, 'utf8');
  } catch {
    // Missing counts as different.
  }
  if (committed !== text) {
    console.error('docs/openapi.json differs from what the code generates: run `npm run openapi` and commit it');
    process.exit(1);
  }
  console.log('docs/openapi.json is up to date');
} else {
  writeFileSync(path, text);
  console.log(`wrote docs/openapi.json (${text.length} bytes)`);
}
