/**
 * Runs `work` with a signal that aborts after `ms` (a DOMException named TimeoutError, as
 * AbortSignal.timeout gives), and clears the timer once the work settles, body reads included.
 * AbortSignal.timeout's timer stays armed until it fires, and a Workers isolate allows 10,000
 * active timers: an outbox draining thousands of events within one timeout window hit that
 * limit, after which every fetch of the isolate failed ("exceeded the number of active timeouts").
 */
export async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
