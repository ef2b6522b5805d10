import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VENDOR_DIR, VENDORED_FILES, uplotRoot } from '../../tools/dashboard-assets';

describe('dashboard static assets', () => {
  it('serves the installed uPlot: each committed copy in public/dashboard/vendor equals the package file (run npm run dashboard:assets after an upgrade)', () => {
    for (const [from, to] of VENDORED_FILES) {
      expect(readFileSync(join(VENDOR_DIR, to)).equals(readFileSync(join(uplotRoot(), from))), `${to} differs from uplot/${from}`).toBe(true);
    }
  });
});
