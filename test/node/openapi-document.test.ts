import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Validator } from '@seriousme/openapi-schema-validator';
import { buildOpenApiDocument, openApiDocumentText } from '../../src/api/openapi/document';
import { OPERATIONS } from '../../src/api/openapi/operations';
import { addressProblem, createWatchSchema } from '../../src/config/api-schemas';
import { topUpPolicySchema } from '../../src/config/topup-policy';

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
