import { createApp } from './api/app';
import { heartbeat } from './cron/scheduled';

export { Directory } from './durable/directory';
export { Shard } from './durable/shard';
export { Tenant } from './durable/tenant';
export { TopUp } from './durable/topup';

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(heartbeat(env));
  },
} satisfies ExportedHandler<Env>;
