import type { Context } from 'hono';
import { hasMediaType, readText } from '../api/validate';
import { AppError } from '../lib/errors';

/**
 * The dashboard's forms are small (an API key, a CSRF token, a duration), and sign-in takes
 * requests from anyone: the body is counted as it streams in and refused past this, so a
 * huge upload is never buffered.
 */
const MAX_FORM_BYTES = 16 * 1024;

/**
 * The posted form's fields, from the type the dashboard's own forms send
 * (`application/x-www-form-urlencoded`; a field sent twice keeps its last value). Any other
 * type is 415 and a body over 16 KiB 413, not an internal error.
 */
export async function readForm(c: Context): Promise<Record<string, string>> {
  // The session check reads the CSRF field before the route reads the rest: one read of the stream.
  const read = formsRead.get(c.req.raw) ?? parseForm(c);
  formsRead.set(c.req.raw, read);
  return read;
}

const formsRead = new WeakMap<Request, Promise<Record<string, string>>>();

async function parseForm(c: Context): Promise<Record<string, string>> {
  const type = c.req.header('content-type');
  if (type === undefined || !hasMediaType(type, 'application', 'x-www-form-urlencoded')) {
    throw new AppError('unsupported_media_type', 'send the form from the dashboard page (content-type: application/x-www-form-urlencoded)', { status: 415 });
  }
  // fromEntries defines every name as an own field, `__proto__` included, never a prototype.
  return Object.fromEntries(new URLSearchParams(await readText(c, MAX_FORM_BYTES)));
}
