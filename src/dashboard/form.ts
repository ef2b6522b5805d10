import type { Context } from 'hono';
import { AppError } from '../lib/errors';

/**
 * The posted form's fields. A body that is not a form of the type it claims (a broken
 * multipart message, say) is the sender's mistake: a 400, not an internal error.
 */
export async function readForm(c: Context): Promise<Record<string, unknown>> {
  try {
    return await c.req.parseBody();
  } catch (error) {
    throw new AppError('invalid_form', 'the form could not be read; send it from the dashboard page', { status: 400, cause: error });
  }
}
