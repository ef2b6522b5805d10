import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeDeployData, parseAbi, type Abi, type Address, type Hex } from 'viem';
import { deployCode, sendContractTx, type LocalClients } from './actions';

/*
 * A Chainlink-style aggregator whose rounds a test writes (test/fixtures/RoundAggregator.sol,
 * the project's own fixture), compiled with solc-js 0.8.19 on first use (about a second).
 */

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const aggregatorAbi = parseAbi(['function pushRounds(int256[] answers, uint256[] updatedAts)']);

let compiled: { abi: Abi; bytecode: Hex } | undefined;

function roundAggregatorArtifact(): { abi: Abi; bytecode: Hex } {
  if (compiled) return compiled;
  const solc = require('solc') as { compile(input: string): string };
  const source = readFileSync(resolve(ROOT, 'test/fixtures/RoundAggregator.sol'), 'utf8');
  const input = { language: 'Solidity', sources: { 'RoundAggregator.sol': { content: source } }, settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } } };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as { errors?: { severity: string; formattedMessage: string }[]; contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>> };
  const errors = (output.errors ?? []).filter((error) => error.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((error) => error.formattedMessage).join('\n'));
  const contract = output.contracts['RoundAggregator.sol']!['RoundAggregator']!;
  return (compiled = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` });
}

/** An aggregator of `decimals` whose first round id is `firstRoundId` (phase << 64 | round places rounds inside a phase). */
export async function deployRoundAggregator(clients: LocalClients, admin: Address, input: { decimals: number; firstRoundId: bigint }): Promise<Address> {
  const { abi, bytecode } = roundAggregatorArtifact();
  return deployCode(clients, admin, encodeDeployData({ abi, bytecode, args: [input.decimals, input.firstRoundId] }), 'RoundAggregator');
}

/** Appends rounds (answers in the feed's decimals, updatedAt in unix seconds), the last one becoming latestRoundData. */
export async function pushRounds(clients: LocalClients, admin: Address, aggregator: Address, rounds: { answer: bigint; updatedAt: bigint }[]): Promise<void> {
  await sendContractTx(clients, admin, { address: aggregator, abi: aggregatorAbi, functionName: 'pushRounds', args: [rounds.map((round) => round.answer), rounds.map((round) => round.updatedAt)] });
}
