import type { LocalChain } from '../../tools/chain';

/*
 * Control routes for the monitor tests (mounted by control-server.ts): mine blocks and read
 * the head the real chain is at, and a dead-man's-switch receiver that counts its pings.
 */

type Route = (body: Record<string, unknown>) => Promise<unknown>;

export function monitorControlRoutes(chain: LocalChain): Record<string, Route> {
  let heartbeats = 0;
  return {
    /** Mines `blocks` blocks (default 1) and answers the new head: its number and its own time. */
    'POST /monitor/mine': async (body) => {
      await chain.actions.mine(Number(body.blocks ?? 1));
      const head = await chain.publicClient.getBlock();
      return { number: head.number.toString(), timestamp: Number(head.timestamp) };
    },
    /** The heartbeat receiver: HEARTBEAT_URL points here. */
    'GET /monitor/heartbeat': async () => {
      heartbeats += 1;
      return { ok: true };
    },
    'POST /monitor/heartbeats': async () => ({ count: heartbeats }),
  };
}
