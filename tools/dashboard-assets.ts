// Copies uPlot's browser build from node_modules into public/dashboard/vendor, where Workers
// static assets serve it (the dashboard loads nothing from a CDN). The copies are committed so
// `wrangler deploy` and the Deploy button need no build step; test/node/dashboard-assets.test.ts
// fails when they differ from the installed uPlot. Run after upgrading uplot: npm run dashboard:assets

import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const VENDOR_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'dashboard', 'vendor');
/** [file in the uplot package, name under public/dashboard/vendor]. */
export const VENDORED_FILES: Array<[string, string]> = [
  ['dist/uPlot.iife.min.js', 'uPlot.iife.min.js'],
  ['dist/uPlot.min.css', 'uPlot.min.css'],
  ['LICENSE', 'uPlot.LICENSE.txt'],
];

export function uplotRoot(): string {
  return dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  mkdirSync(VENDOR_DIR, { recursive: true });
  for (const [from, to] of VENDORED_FILES) copyFileSync(join(uplotRoot(), from), join(VENDOR_DIR, to));
  console.log(`copied ${VENDORED_FILES.length} uPlot files into ${VENDOR_DIR}`);
}
