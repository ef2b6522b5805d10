import { z } from 'zod';
import { errorSchema, SHARED_RESPONSE_SCHEMAS, WEBHOOK_BODIES } from '../response-schemas';
import { OPERATIONS, type Auth, type Named, type Operation } from './operations';

/*
 * The OpenAPI 3.1 document, built from the operations table and the zod schemas the routes
 * parse with (`io: 'input'`: defaults make a field optional) and answer with (`io: 'output'`).
 * Pure and deterministic: `npm run openapi` writes it to docs/openapi.json, a test compares.
 */

type JsonSchema = Record<string, unknown>;

const SCHEMA_REF = '#/components/schemas/';
const ERROR_REF = { $ref: `${SCHEMA_REF}Error` };

/** The error answers every route may give, by status, shared under components/responses. */
const ERROR_RESPONSES: Record<number, { name: string; description: string; headers?: Record<string, unknown> }> = {
  400: { name: 'BadRequest', description: 'The input is invalid: `error.issues` names each field and why (code `validation_failed`, `invalid_json`, or a more specific one)' },
  401: { name: 'Unauthorized', description: 'Credentials missing or not valid for this route (code `unauthorized`)' },
  403: { name: 'Forbidden', description: 'Allowed to other callers, not to this one: a live top-up without the owner\'s grant (code `topup_not_permitted`)' },
  404: { name: 'NotFound', description: 'No such resource for this caller (code `not_found`)' },
  409: { name: 'Conflict', description: 'The request conflicts with the current state: exists already, a quota is reached, or the state does not allow it' },
  410: { name: 'Gone', description: 'Expired (code `confirmation_expired`)' },
  413: { name: 'PayloadTooLarge', description: 'The body is larger than 64 KiB (code `payload_too_large`)' },
  415: { name: 'UnsupportedMediaType', description: 'The body was not sent as `content-type: application/json` (code `unsupported_media_type`)' },
  429: {
    name: 'TooManyRequests',
    description: 'Rate limited per tenant, or per client IP without a valid key (code `rate_limited`); or a confirmation mail too soon (`resend_too_soon`, `confirmation_mail_limit`)',
    headers: { 'retry-after': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } } },
  },
  502: { name: 'BadGateway', description: 'An upstream refused or failed: the chain\'s RPC node or Telegram (codes `rpc_unavailable`, `read_failed`, `telegram_error`, ...)' },
  503: { name: 'ServiceUnavailable', description: 'The deployment\'s configuration is invalid; the message names the setting (code `invalid_config`)' },
};

const SECURITY_SCHEMES = {
  apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'mwk_<16 hex>_<43 base64url>', description: 'A tenant API key, issued by the deployment owner with POST /v1/keys: `Authorization: Bearer mwk_…`. Only its hash is stored.' },
  adminToken: { type: 'http', scheme: 'bearer', description: 'The deployment owner\'s ADMIN_TOKEN (a secret of at least 32 characters): `Authorization: Bearer <ADMIN_TOKEN>`.' },
  telegramSecret: { type: 'apiKey', in: 'header', name: 'X-Telegram-Bot-Api-Secret-Token', description: 'TELEGRAM_WEBHOOK_SECRET, which Telegram echoes on every update.' },
} as const;

/** The Standard Webhooks headers every delivery carries (https://www.standardwebhooks.com). */
const WEBHOOK_HEADERS = [
  { name: 'webhook-id', description: 'The event id (the body\'s `id`): the same on every retry, so the receiver deduplicates on it', schema: { type: 'string' } },
  { name: 'webhook-timestamp', description: 'When this attempt was signed, in unix seconds; reject one too far from your clock to stop replays', schema: { type: 'string', pattern: '^\\d+$' } },
  {
    name: 'webhook-signature',
    description: '`v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`, keyed with the channel\'s secret (`whsec_…` from POST /v1/channels, base64 after the prefix). Verify it over the raw body before parsing, e.g. with a Standard Webhooks library',
    schema: { type: 'string', pattern: '^v1,' },
  },
].map((header) => ({ ...header, in: 'header', required: true }));

const WEBHOOK_RESPONSES = {
  '2XX': { description: 'Delivered: any 2xx. The answer\'s body is ignored.' },
  '410': { description: 'Gone: the receiver no longer wants these webhooks. The channel is disabled at once (its `disabledReason` says so) and nothing more is sent to it.' },
  default: {
    description: 'Any other answer (3xx: redirects are not followed; other 4xx; 429; 5xx), a network error or a timeout: the delivery is retried with backoff, after `retry-after` when the receiver sends a usable one, until it is dead-lettered (GET /v1/deliveries?status=dead).',
  },
};

/** One webhook per event family: a POST of the event\'s JSON body, signed, to every webhook channel of the watch. */
function webhookEntries(): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.entries(WEBHOOK_BODIES).map(([family, { name, types }]) => [
      family,
      {
        post: {
          operationId: `webhook${name}`,
          tags: ['Webhooks'],
          summary: types.map((type) => `\`${type}\``).join(', '),
          description: `marginwatch POSTs this body to the URL of each webhook channel the event goes to (other channel types get the same event formatted for them). Events: ${types.join(', ')}.`,
          parameters: WEBHOOK_HEADERS,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: `${SCHEMA_REF}${name}` } } } },
          responses: WEBHOOK_RESPONSES,
        },
      },
    ]),
  );
}

/** Error statuses an operation can answer, from what it takes and who may call it. */
export function errorStatusesOf(operation: Operation): number[] {
  const statuses = new Set<number>(operation.errors ?? []);
  if (operation.path.startsWith('/v1/') || operation.path.startsWith('/telegram/')) [429, 503].forEach((status) => statuses.add(status));
  if (operation.auth !== 'none') statuses.add(401);
  if (operation.query) statuses.add(400);
  if (operation.pathParams) statuses.add(404);
  if (operation.body) [400, 413, ...(operation.auth === 'telegramSecret' ? [] : [415])].forEach((status) => statuses.add(status));
  return [...statuses].sort((a, b) => a - b);
}

/** `/v1/watches/:id` → `/v1/watches/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Named schemas as components, one registry per direction; a schema used inside another is referenced, not repeated. */
function componentSchemas(named: readonly Named[], io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  const byName = new Map<string, z.ZodType>();
  for (const { name, schema } of named) {
    const seen = byName.get(name);
    if (seen && seen !== schema) throw new Error(`two different schemas are named ${name}`);
    if (!seen) registry.add(schema, { id: name });
    byName.set(name, schema);
  }
  const { schemas } = z.toJSONSchema(registry, { io, target: 'draft-2020-12', unrepresentable: 'any', uri: (id) => `${SCHEMA_REF}${id}` }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => {
      const { $schema: _dialect, $id: _id, ...rest } = schema;
      return [name, rest];
    }),
  );
}

function securityOf(auth: Auth): Array<Record<string, string[]>> | undefined {
  return auth === 'none' ? undefined : [{ [auth]: [] }];
}

function parametersOf(operation: Operation): JsonSchema[] {
  const path = Object.entries(operation.pathParams ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema: toJsonSchema(schema, 'input') }));
  if (!operation.query) return path;
  const query = toJsonSchema(operation.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return [
    ...path,
    ...Object.entries(query.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: (query.required ?? []).includes(name), schema })),
  ];
}

function successOf(operation: Operation): JsonSchema {
  const { success } = operation;
  if (success.status === 204) return { description: success.description };
  const schema = success.body ? { $ref: `${SCHEMA_REF}${success.body.name}` } : success.contentType === 'text/html' ? { type: 'string' } : { type: 'object' };
  return { description: success.description, content: { [success.contentType ?? 'application/json']: { schema } } };
}

function operationObject(operation: Operation): JsonSchema {
  const responses: Record<string, unknown> = { [String(operation.success.status)]: successOf(operation) };
  for (const status of errorStatusesOf(operation)) {
    const override = operation.errorBodies?.[status];
    responses[String(status)] = override
      ? { description: ERROR_RESPONSES[status]!.description, content: { 'application/json': { schema: { $ref: `${SCHEMA_REF}${override.name}` } } } }
      : { $ref: `#/components/responses/${ERROR_RESPONSES[status]!.name}` };
  }
  responses.default = { description: 'Any other error, e.g. 405 `method_not_allowed` or 500 `internal_error` (never with internal details)', content: { 'application/json': { schema: ERROR_REF } } };
  const parameters = parametersOf(operation);
  const security = securityOf(operation.auth);
  return {
    operationId: operationIdOf(operation),
    tags: [operation.tag],
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    ...(security ? { security } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? { requestBody: { required: !operation.body.optional, content: { 'application/json': { schema: { $ref: `${SCHEMA_REF}${operation.body.name}` } } } } }
      : {}),
    responses,
  };
}

/** `post /v1/watches/:id/silence` → `postV1WatchesIdSilence`: stable, and unique because (method, path) is. */
export function operationIdOf(operation: Pick<Operation, 'method' | 'path'>): string {
  const words = operation.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return operation.method + words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
}

export function buildOpenApiDocument(operations: readonly Operation[] = OPERATIONS): JsonSchema {
  const requestSchemas = componentSchemas(operations.flatMap((operation) => (operation.body ? [operation.body] : [])), 'input');
  const responseSchemas = componentSchemas(
    [{ name: 'Error', schema: errorSchema }, ...Object.entries(SHARED_RESPONSE_SCHEMAS).map(([name, schema]) => ({ name, schema })), ...operations.flatMap((operation) => [...(operation.success.body ? [operation.success.body] : []), ...Object.values(operation.errorBodies ?? {})])],
    'output',
  );
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const path = openApiPath(operation.path);
    paths[path] = { ...paths[path], [operation.method]: operationObject(operation) };
  }
  const usedErrors = new Set(operations.flatMap(errorStatusesOf));
  return {
    openapi: '3.1.1',
    info: {
      title: 'marginwatch API',
      version: '1',
      description:
        'Margin-call alerting for on-chain lending positions. Tenants call /v1 with an API key; the deployment owner issues keys and grants top-ups with the ADMIN_TOKEN. Every error answers `{"error":{"code","message","issues?"}}`; amounts and health factors are decimal strings.',
    },
    tags: [...[...new Set(operations.map((operation) => operation.tag))].map((name) => ({ name })), { name: 'Webhooks', description: 'The events marginwatch POSTs to webhook channels; see `webhooks`.' }],
    paths,
    webhooks: webhookEntries(),
    components: {
      schemas: { ...requestSchemas, ...responseSchemas },
      responses: Object.fromEntries(
        Object.entries(ERROR_RESPONSES)
          .filter(([status]) => usedErrors.has(Number(status)))
          .map(([, response]) => [response.name, { description: response.description, ...(response.headers ? { headers: response.headers } : {}), content: { 'application/json': { schema: ERROR_REF } } }]),
      ),
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

let built: JsonSchema | undefined;

/** The document of this build, made once per isolate. */
export function openApiDocument(): JsonSchema {
  built ??= buildOpenApiDocument();
  return built;
}

/** The committed form (docs/openapi.json): two-space indented, with a final newline. */
export function openApiDocumentText(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
