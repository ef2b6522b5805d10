import { Validator, type Schema } from '@cfworker/json-schema';

/*
 * Checks real responses against an OpenAPI 3.1 document: the operation is found by method and
 * path, the status must be one the operation lists (the catch-all `default` does not count),
 * and the body must validate against that status's JSON Schema (draft 2020-12, formats on).
 * @cfworker/json-schema needs no code generation, so it runs inside workerd.
 */

type Json = Record<string, any>;

export type Operation = { method: string; template: string; operation: Json; pattern: RegExp; literalSegments: number };

export type RecordedResponse = { method: string; path: string; status: number; contentType: string | null; body: unknown };

export type Contract = {
  operations: Operation[];
  find(method: string, path: string): Operation | undefined;
  /** What is wrong with a response by the document; empty when it conforms. */
  problems(response: RecordedResponse): string[];
  /** A validator for a component schema, e.g. `CreateWatchRequest`. */
  schema(name: string): Validator;
  /** What is wrong with a webhook body by the document: its `type` must be one a `webhooks` entry names, and the body must validate against that entry's schema. */
  webhookProblems(body: unknown): string[];
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

export function createContract(document: Json): Contract {
  // The validator walks $defs, not OpenAPI's components: the schemas move there, refs with them.
  const $defs = JSON.parse(JSON.stringify(document.components.schemas).replaceAll('#/components/schemas/', '#/$defs/')) as Record<string, Schema>;
  const validators = new Map<string, Validator>();
  const validatorOf = (schema: Json): Validator => {
    const key = JSON.stringify(schema);
    let validator = validators.get(key);
    if (!validator) {
      const rooted = JSON.parse(JSON.stringify(schema).replaceAll('#/components/schemas/', '#/$defs/')) as Json;
      validator = new Validator({ ...rooted, $defs } as Schema, '2020-12', false);
      validators.set(key, validator);
    }
    return validator;
  };

  const operations: Operation[] = Object.entries(document.paths as Record<string, Json>).flatMap(([template, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({
      method,
      template,
      operation: item[method],
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      literalSegments: template.split('/').filter((segment) => segment && !segment.startsWith('{')).length,
    })),
  );

  const find = (method: string, path: string) =>
    operations
      .filter((operation) => operation.method === method.toLowerCase() && operation.pattern.test(path))
      .sort((a, b) => b.literalSegments - a.literalSegments)[0];

  const component = (schema: Json): Json => (schema.$ref ? document.components.schemas[String(schema.$ref).split('/').pop()!] : schema);
  // Each webhook's body schema, by the event types its `type` property admits.
  const webhookSchemas = new Map<string, Json>();
  for (const [name, item] of Object.entries((document.webhooks ?? {}) as Record<string, Json>)) {
    const schema = item.post?.requestBody?.content?.['application/json']?.schema as Json | undefined;
    if (!schema) continue;
    const type = component(schema).properties?.type as Json | undefined;
    for (const value of type?.enum ?? (type?.const === undefined ? [] : [type.const])) webhookSchemas.set(String(value), { ...schema, 'x-webhook': name });
  }

  const leafErrors = (where: string, result: ReturnType<Validator['validate']>): string[] => {
    // The leaf errors say what is wrong; the wrappers (properties, $ref, ...) only repeat where.
    const leaves = result.errors.filter((error) => !['properties', 'items', '$ref', 'anyOf', 'oneOf', 'allOf'].includes(error.keyword));
    return (leaves.length > 0 ? leaves : result.errors).map((error) => `${where}: ${error.instanceLocation} ${error.error}`);
  };

  const resolve = (response: Json): Json => (response.$ref ? document.components.responses[String(response.$ref).split('/').pop()!] : response);

  return {
    operations,
    find,
    schema: (name) => validatorOf({ $ref: `#/components/schemas/${name}` }),
    problems(response) {
      const operation = find(response.method, response.path);
      const where = `${response.method} ${response.path} → ${response.status}`;
      if (!operation) return [`${where}: no operation in the document`];
      const documented = operation.operation.responses[String(response.status)] as Json | undefined;
      if (!documented) return [`${where}: status not documented for ${operation.method.toUpperCase()} ${operation.template}`];
      const content = resolve(documented).content as Json | undefined;
      if (!content) return response.body === null || response.body === '' ? [] : [`${where}: documented without a body, answered ${JSON.stringify(response.body).slice(0, 200)}`];
      const mediaType = (response.contentType ?? '').split(';')[0]!.trim();
      const media = content[mediaType] as Json | undefined;
      if (!media) return [`${where}: content-type ${mediaType} not documented (${Object.keys(content).join(', ')})`];
      const result = validatorOf(media.schema).validate(response.body);
      return result.valid ? [] : leafErrors(where, result);
    },
    webhookProblems(body) {
      const type = (body as Json | null)?.type;
      const where = `webhook ${String(type)}`;
      const schema = webhookSchemas.get(String(type));
      if (!schema) return [`${where}: no entry of the document's webhooks takes this type`];
      const { 'x-webhook': _name, ...rest } = schema;
      const result = validatorOf(rest).validate(body);
      return result.valid ? [] : leafErrors(where, result);
    },
  };
}
