import fc from 'fast-check';

/*
 * fast-check arbitraries for values a JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it)
 * describes: the values a client generating requests from the document would send. Covers the
 * keywords the marginwatch document uses; anything else is an error, so a new keyword is noticed.
 */

type Json = Record<string, any>;

const HANDLED = new Set([
  '$ref', 'type', 'properties', 'required', 'additionalProperties', 'items', 'maxItems', 'minItems', 'enum', 'const',
  'pattern', 'format', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'anyOf', 'oneOf', 'default', 'description', 'examples', 'minProperties',
]);

export function arbitraryOf(schema: Json, components: Record<string, Json>): fc.Arbitrary<unknown> {
  const unknown = Object.keys(schema).filter((key) => !HANDLED.has(key));
  if (unknown.length > 0) throw new Error(`schema keywords not handled by the generator: ${unknown.join(', ')}`);
  if (schema.$ref) return fc.constant(null).chain(() => arbitraryOf(components[String(schema.$ref).split('/').pop()!]!, components));
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  const branches = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (branches) return fc.oneof(...branches.map((branch) => arbitraryOf(branch, components)));
  if (Array.isArray(schema.type)) return fc.oneof(...(schema.type as string[]).map((type) => arbitraryOf({ ...schema, type }, components)));
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: bound(schema, 'min', Number.MIN_SAFE_INTEGER, 1), max: bound(schema, 'max', Number.MAX_SAFE_INTEGER, 1) });
    case 'number':
      return fc.double({ min: schema.minimum ?? schema.exclusiveMinimum ?? -1e9, max: schema.maximum ?? schema.exclusiveMaximum ?? 1e9, minExcluded: schema.exclusiveMinimum !== undefined, maxExcluded: schema.exclusiveMaximum !== undefined, noNaN: true, noDefaultInfinity: true });
    case 'string':
      return stringOf(schema);
    case 'array':
      return fc.array(arbitraryOf(schema.items ?? {}, components), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 5) });
    case 'object':
      return objectOf(schema, components);
    default:
      // No type: any JSON value (e.g. the passthrough part of a Telegram update).
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function bound(schema: Json, side: 'min' | 'max', fallback: number, step: number): number {
  const inclusive = side === 'min' ? schema.minimum : schema.maximum;
  const exclusive = side === 'min' ? schema.exclusiveMinimum : schema.exclusiveMaximum;
  if (inclusive !== undefined) return Math.max(Math.min(inclusive, Number.MAX_SAFE_INTEGER), Number.MIN_SAFE_INTEGER);
  if (exclusive !== undefined) return side === 'min' ? exclusive + step : exclusive - step;
  return fallback;
}

function stringOf(schema: Json): fc.Arbitrary<string> {
  if (schema.pattern) {
    const pattern = fc.stringMatching(new RegExp(schema.pattern));
    const { minLength = 0, maxLength = Infinity } = schema as { minLength?: number; maxLength?: number };
    return minLength === 0 && maxLength === Infinity ? pattern : pattern.filter((value) => value.length >= minLength && value.length <= maxLength);
  }
  const length = { minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? 40 };
  if (schema.format === 'uri') return fc.webUrl();
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true, min: new Date('2000-01-01'), max: new Date('2100-01-01') }).map((date) => date.toISOString());
  return fc.string({ ...length, maxLength: Math.min(length.maxLength, 60) });
}

function objectOf(schema: Json, components: Record<string, Json>): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = (schema.required ?? []) as string[];
  const known = fc.record(Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, arbitraryOf(property, components)])), { requiredKeys: required });
  const withMinimum = schema.minProperties ? known.filter((value) => Object.keys(value as object).length >= schema.minProperties) : known;
  if (schema.additionalProperties === false || schema.additionalProperties === undefined && Object.keys(properties).length > 0) return withMinimum;
  // Open objects (`additionalProperties` true or a schema) get extra members too.
  return fc.tuple(withMinimum, fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })).map(([value, extra]) => ({ ...extra, ...(value as object) }));
}
