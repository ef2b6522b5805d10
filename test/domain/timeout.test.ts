import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../src/lib/timeout';

describe('withTimeout', () => {
  it('aborts the work with a TimeoutError after the given time', async () => {
    const aborted = withTimeout(20, (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    await expect(aborted).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('clears its timer when the work settles, so no timer outlives a finished request', async () => {
    let signalSeen: AbortSignal | undefined;
    expect(await withTimeout(20, async (signal) => ((signalSeen = signal), 'done'))).toBe('done');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(signalSeen!.aborted).toBe(false);
    await expect(withTimeout(20, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
