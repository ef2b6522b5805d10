import { z } from 'zod';
import { decodePageCursor } from '../lib/page-cursor';

export const LIST_PAGE_DEFAULT = 100;
export const LIST_PAGE_MAX = 1000;

/** `?limit=&cursor=` of the list routes (GET /v1/watches, GET /v1/channels). */
export const listPageSchema = z.object({
  limit: z.coerce.number({ error: 'must be an integer' }).int('must be an integer').min(1, 'must be at least 1').max(LIST_PAGE_MAX, `must be at most ${LIST_PAGE_MAX}`).default(LIST_PAGE_DEFAULT),
  cursor: z
    .string()
    .transform((value, ctx) => {
      const key = decodePageCursor(value);
      if (key === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a nextCursor returned by the previous page' });
        return z.NEVER;
      }
      return key;
    })
    .optional(),
});
