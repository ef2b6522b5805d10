import { startDevStack } from '/work/main/tools/dev-stack';
const t0 = Date.now();
const s = await startDevStack({ onProgress: (l) => console.log(((Date.now()-t0)/1000).toFixed(1), l) });
const key = (await s.api('POST', '/v1/keys', { token: s.adminToken, body: { label: 'x' } }));
console.log(key.status);
const k = key.body.key;
const ch = await s.api('POST', '/v1/channels', { token: k, body: { type: 'webhook', url: s.hookUrl('/a'), label: 'a' } });
s.registerSecret('/a', ch.body.secret);
const acct = await s.openPosition('10', '10000');
const w = await s.api('POST', '/v1/watches', { token: k, body: { chainId: 31337, protocol: 'aave-v3', market: s.chain.market.pool, account: acct, label: 'a', channels: [ch.body.id] } });
console.log(w.status, w.body.id);
for (let i = 0; i < 10; i++) { const r = await s.api('GET', `/v1/watches/${w.body.id}`, { token: k }); console.log(((Date.now()-t0)/1000).toFixed(1), r.body.level, r.body.position?.healthFactor, r.body.lastPolledAt, r.body.lastError); if (r.body.level) break; await new Promise(r => setTimeout(r, 500)); }
await s.setWethPrice(1300);
for (let i = 0; i < 40; i++) { const r = await s.api('GET', `/v1/watches/${w.body.id}`, { token: k }); if (r.body.level !== 'ok') { console.log(((Date.now()-t0)/1000).toFixed(1), r.body.level, r.body.position?.healthFactor, r.body.lastPolledAt); break; } await new Promise(r => setTimeout(r, 1000)); }
await s.receiver.waitFor(e => e.length >= 1, 10000).catch(e => console.log(String(e)));
console.log(s.receiver.events.map(e => [e.id, e.verified, e.status, (e.body as any).type]));
await s.triggerCron(); console.log('cron ok');
console.log(s.logTail(1500));
await s.stop();
console.log('stopped', ((Date.now()-t0)/1000).toFixed(1));
