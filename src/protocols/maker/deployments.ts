import { getAddress, isAddress, type Address } from 'viem';
import type { ReadContext } from '../read-types';

/*
 * A Maker deployment is four contracts: the Vat holds the vaults, the Spotter the liquidation
 * ratio, the Jug the stability fee, the Dog the liquidation penalty. A watch names the Vat
 * (`protocolAddress`); nothing on chain leads from the Vat to the other three, so they come
 * from here (Ethereum, from ../shared/protocols/README.md) or, on any other chain, from the
 * operator's PROTOCOL_CONTRACTS setting: {"<chainId>": {"maker": {"vat", "spot", "jug", "dog"}}}.
 * The CdpManager, optional there ("cdpManager"), numbers vaults: a watch may name a vault by its
 * id ("cdp:12345") where the deployment has one.
 */

export type MakerContracts = { vat: Address; spot: Address; jug: Address; dog: Address; cdpManager?: Address };

export const MAKER_DEPLOYMENTS: Readonly<Record<number, MakerContracts>> = {
  1: {
    vat: '0x35D1b3F3D7966A1DFe207aa4514C12a259A0492B',
    spot: '0x65C79fcB50Ca1594B025960e539eD7A9a6D434A3',
    jug: '0x19c0976f590D67707E62397C87829d896Dc0f1F1',
    dog: '0x135954d155898D42C90D2a57824C690e0c7BEf1B',
    cdpManager: '0x5ef30b9986345249bc32d8928B7ee64DE9435E39',
  },
};

/** The Vat per chain where Maker has a canonical deployment: the default `protocolAddress`. */
export const MAKER_VATS: Readonly<Record<number, Address>> = Object.fromEntries(Object.entries(MAKER_DEPLOYMENTS).map(([chainId, contracts]) => [chainId, contracts.vat]));

const NAMES = ['vat', 'spot', 'jug', 'dog'] as const;

/**
 * The deployment whose Vat is `vat` on the context's chain: the built-in one, or the
 * operator's; `missing` names what PROTOCOL_CONTRACTS lacks when neither has that Vat.
 */
export function makerContractsFor(context: ReadContext, vat: Address): { ok: true; contracts: MakerContracts } | { ok: false; missing: string } {
  const builtIn = MAKER_DEPLOYMENTS[context.chainId];
  if (builtIn && builtIn.vat.toLowerCase() === vat.toLowerCase()) return { ok: true, contracts: builtIn };
  const given = context.protocolContracts?.maker;
  if (!given || given.vat?.toLowerCase() !== vat.toLowerCase()) return { ok: false, missing: `PROTOCOL_CONTRACTS["${context.chainId}"].maker with "vat": "${vat}"` };
  const absent = NAMES.filter((name) => !given[name] || !isAddress(given[name]!, { strict: false }));
  if (absent.length > 0) return { ok: false, missing: `PROTOCOL_CONTRACTS["${context.chainId}"].maker.${absent.join(', .')}` };
  const contracts: MakerContracts = { vat: getAddress(given.vat), spot: getAddress(given.spot!), jug: getAddress(given.jug!), dog: getAddress(given.dog!) };
  if (given.cdpManager && isAddress(given.cdpManager, { strict: false })) contracts.cdpManager = getAddress(given.cdpManager);
  return { ok: true, contracts };
}
