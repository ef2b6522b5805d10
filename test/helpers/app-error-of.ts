import { isAppError } from '../../src/lib/errors';

/** The code and message of the AppError `run` throws; fails the test when it throws anything else or nothing. */
export function appErrorOf(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isAppError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an AppError');
}
