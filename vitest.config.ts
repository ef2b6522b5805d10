import { defineConfig } from 'vitest/config';

// Two projects: plain Node for pure domain logic, the local chain and end-to-end tests
// (they start anvil, wrangler dev and receivers), and workerd for Durable Objects and routes.
export default defineConfig({
  test: {
    projects: ['vitest.node.config.ts', 'vitest.workers.config.ts'],
  },
});
