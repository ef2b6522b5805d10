import type { Context } from 'hono';
import type { z } from 'zod';
import { AppError, issuesFromZod } from '../lib/errors';

export const MAX_BODY_BYTES = 64 * 1024;

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^\\s*(${TOKEN})/(${TOKEN})\\s*(?:;\\s*${TOKEN}=(?:${TOKEN}|"(?:[^"\\\\]|\\\\.)*")\\s*)*$`);

/** Whether a content-type header is `type/subtype`, parameters allowed (`; charset=utf-8`); the type itself is compared exactly. */
export function hasMediaType(header: string, type: string, subtype: string): boolean {
  const match = MEDIA_TYPE.exec(header);
  return match !== null && match[1]!.toLowerCase() === type && match[2]!.toLowerCase() === subtype;
}

function isJsonContentType(header: string): boolean {
  return hasMediaType(header, 'application', 'json');
}

const unsupportedMediaType = () => new AppError('unsupported_media_type', 'send the body as JSON with content-type: application/json', { status: 415 });

/**
 * Reads and parses a JSON body against a schema; any problem is a 4xx naming the field.
 * `optional`: an empty body (any content-type) parses as `{}`.
 */
export async function parseJsonBody<T extends z.ZodType>(c: Context, schema: T, options: { optional?: boolean } = {}): Promise<z.infer<T>> {
  const type = c.req.header('content-type');
  if (options.optional) {
    const text = await readText(c);
    if (text.trim() === '') return parseValue(schema, {});
    if (type === undefined || !isJsonContentType(type)) throw unsupportedMediaType();
    return parseValue(schema, parseJson(text));
  }
  if (type === undefined || !isJsonContentType(type)) throw unsupportedMediaType();
  return parseValue(schema, await readJson(c));
}

/** Reads a JSON body of at most `maxBytes`; too large → 413, not JSON → 400. */
export async function readJson(c: Context, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  return parseJson(await readText(c, maxBytes));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('invalid_json', 'the body is not valid JSON', { status: 400 });
  }
}

/**
 * The body as UTF-8 text, counted in bytes while it streams in: the read stops at
 * `maxBytes` + 1 whatever content-length claims, so a huge body is never buffered.
 */
export async function readText(c: Context, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const tooLarge = () => new AppError('payload_too_large', `the body must be at most ${maxBytes} bytes`, { status: 413 });
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const body = c.req.raw.body;
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new AppError('invalid_json', 'the body is not valid UTF-8', { status: 400 });
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
