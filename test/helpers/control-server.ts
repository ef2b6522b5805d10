import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseUnits, type Address } from 'viem';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import type { LocalChain, ReserveSymbol } from '../../tools/chain';
import type { WebhookReceiver } from './webhook-receiver';
import { handleRpcProxy, topUpControlRoutes } from './topup-control';
import { cometControlRoutes } from './comet-control';
import type { LocalComet } from '../../tools/chain/comet';
import { morphoControlRoutes, type LocalMorphoWithWethLoan } from './morpho-control';
import type { LocalLiquity } from '../../tools/chain/liquity-v2';
import { liquityControlRoutes } from './liquity-control';
import { liquityBranchControlRoutes } from './liquity-branch-control';
import type { LocalMaker } from '../../tools/chain/maker';
import { makerControlRoutes } from './maker-control';
import { eulerControlRoutes } from './euler-control';
import type { LocalEuler } from '../../tools/chain/euler-v2';
import { fluidControlRoutes } from './fluid-control';
import type { LocalFluid } from '../../tools/chain/fluid';
import { monitorControlRoutes } from './monitor-control';
import { pushRounds } from '../../tools/chain/round-aggregator';

/**
 * A loopback control plane for tests that run inside workerd: they cannot touch Node
 * objects, so they ask this server to open positions, move prices and report what the
 * webhook receiver got. Test-only; never part of the product.
 */
export async function startControlServer(chain: LocalChain, receiver: WebhookReceiver, protocols: { comet: { usdc: LocalComet; weth: LocalComet }; morpho: LocalMorphoWithWethLoan; liquity: LocalLiquity; maker: LocalMaker & { cdpManager: Address }; euler: LocalEuler; fluid: LocalFluid; ethUsdFeed: Address }) {
  await seedLiquidity(chain);
  const secrets = new Map<string, string>();
  receiver.setSecret((path) => secrets.get(path.split('?')[0]!) ?? 'whsec_' + Buffer.from('unset-secret-unset-secret-unset!').toString('base64'));

  async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }

  const routes: Record<string, (body: Record<string, unknown>, path: string) => Promise<unknown>> = {
    'POST /open': async (body) => {
      const account = privateKeyToAccount(generatePrivateKey()).address;
      const collateral = (body.collateral as ReserveSymbol | undefined) ?? 'WETH';
      const debt = (body.debt as ReserveSymbol | undefined) ?? 'USDC';
      const reserves = chain.market.reserves;
      const collateralAmount = parseUnits(String(body.collateralAmount ?? '10'), reserves[collateral].decimals);
      const debtAmount = parseUnits(String(body.debtAmount ?? '10000'), reserves[debt].decimals);
      await chain.actions.mint(reserves[collateral].asset, account, collateralAmount);
      await chain.actions.supply(chain.market, account, collateral, collateralAmount);
      if (debtAmount > 0n) await chain.actions.borrow(chain.market, account, debt, debtAmount);
      return { account };
    },
    'POST /price': async (body) => {
      const symbol = body.symbol as ReserveSymbol;
      await chain.actions.setPrice(chain.market, symbol, parseUnits(String(body.price), 8));
      await chain.actions.mine(1);
      return { ok: true };
    },
    ...topUpControlRoutes(chain),
    ...cometControlRoutes(chain, protocols.comet),
    ...morphoControlRoutes(chain, protocols.morpho),
    ...liquityControlRoutes(chain, protocols.liquity),
    ...liquityBranchControlRoutes(chain),
    ...makerControlRoutes(chain, protocols.maker),
    ...eulerControlRoutes(chain, protocols.euler),
    ...fluidControlRoutes(chain, protocols.fluid),
    ...monitorControlRoutes(chain),
    /** A new round (8 decimals) of the ETH / USD feed USD_PRICE_FEEDS names for WETH and native ETH, at `price`, updated `ageSeconds` before the latest block. */
    'POST /eth-usd': async (body) => {
      const latest = await chain.clients.publicClient.getBlock();
      await pushRounds(chain.clients, chain.accounts[0]!, protocols.ethUsdFeed, [{ answer: parseUnits(String(body.price), 8), updatedAt: latest.timestamp - BigInt(Number(body.ageSeconds ?? 0)) }]);
      return { ok: true };
    },
    'POST /mine': async () => {
      await chain.actions.mine(1);
      return { ok: true };
    },
    'POST /account': async (body) => {
      const data = await chain.actions.getUserAccountData(chain.market, body.account as Address);
      return { healthFactor: data.healthFactor.toString(), totalCollateralBase: data.totalCollateralBase.toString(), totalDebtBase: data.totalDebtBase.toString() };
    },
    'POST /receiver/secret': async (body) => {
      secrets.set(String(body.path), String(body.secret));
      return { ok: true };
    },
    'GET /receiver/events': async () => receiver.events.map((event) => ({ id: event.id, verified: event.verified, path: event.path, status: event.status, body: event.body })),
    'POST /receiver/reset': async () => {
      receiver.events.length = 0;
      return { ok: true };
    },
    'POST /receiver/down': async () => {
      await receiver.down();
      return { ok: true };
    },
    'POST /receiver/up': async () => {
      await receiver.up();
      return { ok: true };
    },
    'POST /receiver/respond': async (body) => {
      receiver.respondWith(Number(body.status), (body.headers as Record<string, string> | undefined) ?? {}, undefined, typeof body.path === 'string' ? body.path : undefined);
      return { ok: true };
    },
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (request.method === 'POST' && path.startsWith('/rpc/')) {
      handleRpcProxy(chain, request, response, path).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
        response.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      });
      return;
    }
    const handler = routes[`${request.method} ${path}`];
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    };
    if (!handler) return reply(404, { error: 'no such control route' });
    readJson(request)
      .then((body) => handler(body, path))
      .then((value) => reply(200, value))
      .catch((error: unknown) => reply(500, { error: error instanceof Error ? error.message : String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Borrowers need something to borrow: a lender supplies every reserve once. */
export async function seedLiquidity(chain: LocalChain): Promise<void> {
  const lender = chain.accounts[1]!;
  const amounts: Record<ReserveSymbol, string> = { USDC: '50000000', WETH: '20000', WBTC: '1000' };
  for (const symbol of Object.keys(amounts) as ReserveSymbol[]) {
    const reserve = chain.market.reserves[symbol];
    const amount = parseUnits(amounts[symbol], reserve.decimals);
    await chain.actions.mint(reserve.asset, lender, amount);
    await chain.actions.supply(chain.market, lender, symbol, amount);
  }
}
