import type { TestProject } from 'vitest/node';
import { startLocalChain, type LocalChain } from '../../tools/chain';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver';
import { startControlServer } from '../helpers/control-server';
import { deployComet, deployWethComet } from '../../tools/chain/comet';
import { createWethLoanMarket, deployMorpho } from '../../tools/chain/morpho';
import { deployRoundAggregator, pushRounds } from '../../tools/chain/round-aggregator';
import { deployLiquity } from '../../tools/chain/liquity-v2';
import { deployMaker } from '../../tools/chain/maker';
import { deployCdpManager } from '../../tools/chain/maker-fixtures';
import { deployEuler } from '../../tools/chain/euler-v2';
import { deployFluid } from '../../tools/chain/fluid';

declare module 'vitest' {
  export interface ProvidedContext {
    rpcUrl: string;
    market: string;
    comet: string;
    morpho: string;
    /** Contracts of Liquity v2, Fluid, Euler v2 and Maker that top-ups approve and call, and the Morpho market ids: trusted as TOPUP_TRUSTED_MARKETS entries. */
    topUpTargets: string[];
    /** PROTOCOL_CONTRACTS for the local chain: the Maker deployment's Vat, Spotter, Jug, Dog and CdpManager; Fluid's VaultResolver. */
    protocolContracts: string;
    /** USD_PRICE_FEEDS for the local chain: the ETH / USD feed, for the Morpho WETH-loan market's WETH and Fluid's native ETH. */
    usdPriceFeeds: string;
    receiverUrl: string;
    controlUrl: string;
  }
}

let chain: LocalChain | undefined;
let receiver: WebhookReceiver | undefined;
let control: { url: string; stop(): Promise<void> } | undefined;

/**
 * Runs in Node before the workerd tests: a local anvil with real Aave v3, a real webhook
 * receiver, and a small control server through which tests inside workerd move prices
 * and read what the receiver got (they cannot reach Node objects directly).
 */
export default async function setup(project: TestProject) {
  chain = await startLocalChain();
  receiver = await startWebhookReceiver();
  // Compound v3 from the real Comet bytecode in ../shared/protocols (beside the clone here and in CI).
  // Morpho Blue compiled from its npm sources (cached in .cache/morpho-blue after the first run).
  const comet = await deployComet(chain.clients, chain.accounts[0]!);
  const morpho = await deployMorpho(chain.clients, chain.accounts[0]!, (line) => console.log(line));
  // Liquity v2 from the real liquity/bold bytecode in ../shared/protocols.
  const liquity = await deployLiquity(chain.clients, chain.accounts[0]!);
  // Maker (dss) from the real bytecode in ../shared/protocols/maker-dss.
  const maker = await deployMaker(chain.clients, chain.accounts[0]!);
  // Euler v2 (EVC + Euler Vault Kit) from the compiled artifacts in ../shared/protocols, deployed last so the others' addresses stay put.
  const euler = await deployEuler(chain.clients, chain.accounts[0]!);
  // Fluid (liquidity layer, T1 vault, VaultResolver) from ../shared/protocols/fluid, after Euler for the same reason.
  const fluid = await deployFluid(chain.clients, chain.accounts[0]!);
  // A CdpManager of our own (test/fixtures/MakerCdpManager.sol) for Maker vault ids, deployed last for the same reason.
  const cdpManager = await deployCdpManager(chain.clients, maker);
  // Markets whose values are in WETH (a Morpho market lending it, a Comet priced in ETH), valued through an ETH / USD
  // feed the owner names (USD_PRICE_FEEDS); deployed last for the same reason.
  const wethLoan = await createWethLoanMarket(chain.clients, morpho);
  const wethComet = await deployWethComet(chain.clients, comet);
  const ethUsdFeed = await deployRoundAggregator(chain.clients, chain.accounts[0]!, { decimals: 8, firstRoundId: (1n << 64n) + 1n });
  await pushRounds(chain.clients, chain.accounts[0]!, ethUsdFeed, [{ answer: 2_000n * 10n ** 8n, updatedAt: (await chain.clients.publicClient.getBlock()).timestamp }]);
  control = await startControlServer(chain, receiver, { comet: { usdc: comet, weth: wethComet }, morpho: { ...morpho, wethLoan }, liquity, maker: { ...maker, cdpManager }, euler, fluid, ethUsdFeed });
  project.provide('rpcUrl', chain.rpcUrl);
  project.provide('market', chain.market.pool);
  project.provide('comet', comet.comet);
  project.provide('morpho', morpho.morpho);
  // The contracts the other protocols' top-ups approve and call, trusted by the owner as TOPUP_TRUSTED_MARKETS lists them.
  // Morpho markets are trusted by id: the Morpho contract holds markets anyone can create.
  project.provide('topUpTargets', [liquity.branches.WETH.borrowerOperations, fluid.vault, fluid.native.vault, fluid.ethDebt.vault, euler.borrowVault.vault, maker.vat, morpho.id, wethLoan.id, wethComet.comet]);
  project.provide('protocolContracts', JSON.stringify({ '31337': { maker: { vat: maker.vat, spot: maker.spot, jug: maker.jug, dog: maker.dog, cdpManager, daiJoin: maker.daiJoin, [`join:${maker.ilk.name}`]: maker.ilk.join }, fluid: { vaultResolver: fluid.vaultResolver } } }));
  // WETH (the Morpho WETH-loan market's unit) and native ETH (the Fluid WETH/ETH vault's) → the one ETH / USD feed.
  project.provide('usdPriceFeeds', JSON.stringify({ '31337': { [morpho.collateral.asset]: ethUsdFeed, [fluid.ethDebt.debt.asset]: ethUsdFeed, [wethComet.tokens.WETH.asset]: ethUsdFeed } }));
  project.provide('receiverUrl', receiver.url);
  project.provide('controlUrl', control.url);
  return async () => {
    await control?.stop();
    await receiver?.stop();
    await chain?.stop();
  };
}
