import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'node',
    environment: 'node',
    include: ['test/domain/**/*.test.ts', 'test/chain/**/*.test.ts', 'test/node/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/risk/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
