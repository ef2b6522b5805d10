import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError, issuesFromZod } from '../lib/errors';

const MAX_BODY_BYTES = 64 * 1024;

/** Reads and parses a JSON body against a schema; any problem is a 4xx naming the field. */
export async function parseJsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().includes('application/json')) {
    throw new AppError('unsupported_media_type', 'send the body as JSON with content-type: application/json', { status: 415 });
  }
  const json = await readJson(c);
  return parseValue(schema, json);
}

/** Reads a JSON body of at most `maxBytes`; too large → 413, not JSON → 400. */
export async function readJson(c: Context, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const text = await c.req.text();
  if (text.length > maxBytes) throw new AppError('payload_too_large', `the body must be at most ${maxBytes} bytes`, { status: 413 });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('invalid_json', 'the body is not valid JSON', { status: 400 });
  }
}

export function parseValue<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error.issues).map((issue) => ({ ...issue, path: issue.path === '' ? '(body)' : issue.path }));
    const first = issues[0];
    throw new AppError('validation_failed', first ? `${first.path}: ${first.message}` : 'the request is invalid', { status: 400, issues });
  }
  return parsed.data;
}
