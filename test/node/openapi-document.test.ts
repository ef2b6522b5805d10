import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Validator } from '@seriousme/openapi-schema-validator';
import { buildOpenApiDocument, openApiDocumentText } from '../../src/api/openapi/document';
import { OPERATIONS } from '../../src/api/openapi/operations';
import { addressProblem, createWatchSchema } from '../../src/config/api-schemas';
import { topUpPolicySchema, type StoredTopUpPolicy } from '../../src/config/topup-policy';
import { buildTopUpEvent } from '../../src/topup/events';
import { buildMonitorEvent } from '../../src/notify/event-body';
import { createContract } from '../helpers/openapi-contract';
import { alertEventFixture } from '../helpers/fixtures';

/*
 * The OpenAPI document on its own: valid OpenAPI 3.1, the committed copy equal to what the code
 * generates (the drift check CI runs), and its address patterns producing addresses the API
 * accepts. test/workers/openapi.test.ts checks the routes' real answers against it.
 */

const COMMITTED = join(import.meta.dirname, '..', '..', 'docs', 'openapi.json');
type Json = Record<string, any>;
const document = buildOpenApiDocument() as Json;

describe('the OpenAPI document', () => {
  it('validates against the OpenAPI 3.1 schema', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('docs/openapi.json is exactly what the code generates (run `npm run openapi` after changing a route or schema)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(openApiDocumentText());
  });

  it('has one operation per route with a unique operationId, and every $ref resolves', () => {
    const ids = Object.values(document.paths as Record<string, Json>).flatMap((item) => Object.values(item).map((operation) => (operation as Json).operationId));
    expect(ids).toHaveLength(OPERATIONS.length);
    expect(new Set(ids).size).toBe(ids.length);
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/(schemas|responses)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(0);
    for (const [, kind, name] of refs) expect(document.components[kind!][name!], `${kind}/${name}`).toBeDefined();
  });

  it('describes auth: tenant routes take the API key, owner routes the admin token, the Telegram webhook its secret header', () => {
    const security = (method: string, path: string) => document.paths[path][method].security;
    expect(security('post', '/v1/watches')).toEqual([{ apiKey: [] }]);
    expect(security('post', '/v1/keys')).toEqual([{ adminToken: [] }]);
    expect(security('put', '/v1/admin/tenants/{tenantId}/topup')).toEqual([{ adminToken: [] }]);
    expect(security('post', '/telegram/webhook')).toEqual([{ telegramSecret: [] }]);
    expect(security('get', '/health')).toBeUndefined();
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('every error answer uses the one error shape', () => {
    for (const [name, response] of Object.entries(document.components.responses as Record<string, Json>)) {
      expect(response.content['application/json'].schema, name).toEqual({ $ref: '#/components/schemas/Error' });
    }
    expect(document.components.schemas.Error.required).toEqual(['error']);
    expect(document.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);
  });

  it('addresses generated from the documented pattern are ones the API accepts (account, protocolAddress, top-up asset)', () => {
    const request = document.components.schemas.CreateWatchRequest;
    const accountPattern = new RegExp(request.properties.account.pattern);
    expect(request.properties.protocolAddress.pattern).toBe(request.properties.account.pattern);
    const assetPattern = new RegExp(request.properties.topUp.properties.asset.pattern);
    fc.assert(
      fc.property(fc.stringMatching(accountPattern), fc.stringMatching(assetPattern), (account, asset) => {
        // The zero address matches the pattern once in 16^40; it is refused by name.
        fc.pre(!/^0x0{40}$/.test(account));
        expect(addressProblem(account)).toBeNull();
        const parsed = createWatchSchema.safeParse({ chainId: 1, protocol: 'aave-v3', market: 'aave-v3:ethereum:core', account, protocolAddress: account });
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
        const policy = topUpPolicySchema.safeParse({ mode: 'supply', asset, triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '2' });
        expect(policy.success, JSON.stringify(policy.error?.issues)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('request defaults make fields optional, and closed bodies say so (additionalProperties: false)', () => {
    const request = document.components.schemas.CreateWatchRequest;
    expect(request.required).toEqual(['chainId', 'protocol', 'market', 'account']);
    expect(request.additionalProperties).toBe(false);
    expect(request.properties.channels.default).toEqual([]);
    expect(document.components.schemas.PatchWatchRequest.minProperties).toBe(1);
  });
});

describe("the document's webhooks", () => {
  const contract = createContract(document);

  it('each is a POST of a body component with the three Standard Webhooks headers, answered 2XX (delivered) or 410 (channel disabled); every event type is taken by exactly one', () => {
    const webhooks = document.webhooks as Record<string, Json>;
    expect(Object.keys(webhooks)).toEqual(['alert', 'monitor', 'condition', 'topup', 'channelTest']);
    const types: string[] = [];
    for (const [name, item] of Object.entries(webhooks)) {
      expect(Object.keys(item), name).toEqual(['post']);
      const post = item.post as Json;
      expect(post.parameters.map((parameter: Json) => [parameter.name, parameter.in, parameter.required]), name).toEqual([
        ['webhook-id', 'header', true],
        ['webhook-timestamp', 'header', true],
        ['webhook-signature', 'header', true],
      ]);
      expect(Object.keys(post.responses).sort(), name).toEqual(['2XX', '410', 'default']);
      const ref = String(post.requestBody.content['application/json'].schema.$ref);
      const schema = (document.components.schemas as Record<string, Json>)[ref.split('/').pop()!]!;
      types.push(...(schema.properties.type.enum ?? [schema.properties.type.const]));
    }
    expect(types.sort()).toEqual([
      'alert.escalated', 'alert.reminder', 'alert.resolved', 'alert.triggered', 'channel.test', 'condition.cleared', 'condition.raised',
      'monitor.degraded', 'monitor.recovered', 'topup.executed', 'topup.failed', 'topup.skipped',
    ]);
  });

  // The workers contract test validates bodies a real receiver got; these are the kinds it does not drive.
  const policy: StoredTopUpPolicy = {
    enabled: true, mode: 'supply', asset: '0x0000000000000000000000000000000000000b7c', symbol: 'WBTC', decimals: 8,
    triggerHealthFactor: 1.2, targetHealthFactor: 1.5, maxAmountPerAction: '1', maxAmountPerDay: '2', cooldownSeconds: 600, dryRun: false,
  };
  const watch = { id: 'w_0123456789abcdef0123', label: 'vault', chainId: 1, protocol: 'aave-v3', market: '0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2' as const, account: '0x1111111111111111111111111111111111111111' as const };
  const trigger = { watchId: watch.id, episode: 3, slot: 1 };
  const bodies = {
    'topup.executed (the debt repaid in full: health factor after ∞)': buildTopUpEvent({
      type: 'topup.executed', trigger, watch, policy, createdAt: new Date('2026-11-25T03:12:09Z'), amount: 28_205_129n, amountNeeded: 28_205_129n, reachesTarget: true, cappedBy: ['per_action'],
      healthFactorBefore: 1_170_000_000_000_000_000n, healthFactorAfter: null, blockNumber: 19_000_123n, txHash: `0x${'ab'.repeat(32)}`, approveTxHash: `0x${'cd'.repeat(32)}`, message: 'supplied',
      wallet: { address: '0x2222222222222222222222222222222222222222', balance: 100_000_000n },
    }),
    'topup.failed': buildTopUpEvent({ type: 'topup.failed', trigger, watch, policy, createdAt: new Date(0), reason: 'rpc_stale', message: 'the node is lagging' }),
    'topup.skipped (stopped: market not trusted)': buildTopUpEvent({ type: 'topup.skipped', trigger, watch, policy, createdAt: new Date(0), reason: 'market_not_trusted', message: 'not trusted' }),
    'alert.reminder with a next-price trigger': alertEventFixture('vault', { type: 'alert.reminder', level: 'critical', previousLevel: 'critical', trigger: 'next_price' }),
    'monitor.degraded (stale: no error)': buildMonitorEvent({ effect: { type: 'monitor.degraded', eventId: 'evt_m_1', at: 1_700_000_000_000, since: 1_699_999_000_000, reason: 'stale', lastError: null }, watch }),
  };
  it.each(Object.entries(bodies))('the body of %s, built by its real builder, validates against its webhook', (_name, body) => {
    expect(contract.webhookProblems(JSON.parse(JSON.stringify(body)))).toEqual([]);
  });
});
