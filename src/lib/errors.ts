/**
 * Errors are values: a stable machine-readable `code`, a message a user can act on,
 * and the HTTP status an API edge should map it to. Internal causes stay internal.
 */
export type ErrorIssue = { path: string; message: string };

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly issues: ErrorIssue[] | undefined;
  /** For a 429 or 503: when to try again, sent as `retry-after`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: string, message: string, options: { status?: number; issues?: ErrorIssue[]; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? 400;
    this.issues = options.issues;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Turns zod issues into `{path, message}` pairs with dotted paths ("thresholds.warning"). */
export function issuesFromZod(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): ErrorIssue[] {
  return issues.map((issue) => ({
    path: issue.path.map((part) => String(part)).join('.'),
    message: issue.message,
  }));
}
