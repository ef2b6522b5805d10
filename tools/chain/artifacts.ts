// Loads the compiled Aave v3 contracts shipped in @aave/core-v3 (Hardhat artifacts) and links
// their external libraries, so that the market we deploy is the audited bytecode, not a mock.

import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Abi, Address, Hex } from 'viem';

/** Offsets are in bytes, into the creation bytecode. */
type LinkReferences = Record<string, Record<string, { start: number; length: number }[]>>;

export interface Artifact {
  contractName: string;
  sourceName: string;
  abi: Abi;
  bytecode: Hex;
  linkReferences: LinkReferences;
}

const require = createRequire(import.meta.url);
const packageRoot = dirname(require.resolve('@aave/core-v3/package.json'));

/** The installed @aave/core-v3 version: part of the chain cache key. */
export const aaveCoreVersion: string = (
  JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }
).version;

let index: Map<string, string> | undefined;

/** contract name → artifact path, built once by walking artifacts/contracts. */
function artifactIndex(): Map<string, string> {
  if (index) return index;
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.json') && !entry.name.endsWith('.dbg.json')) {
        const name = entry.name.slice(0, -'.json'.length);
        // Names are unique in this package today; refuse to guess if a future version breaks that.
        if (found.has(name)) found.set(name, '');
        else found.set(name, path);
      }
    }
  };
  walk(join(packageRoot, 'artifacts', 'contracts'));
  index = found;
  return found;
}

const cache = new Map<string, Artifact>();

export function loadArtifact(contractName: string): Artifact {
  const cached = cache.get(contractName);
  if (cached) return cached;
  const path = artifactIndex().get(contractName);
  if (path === undefined) throw new Error(`no Aave artifact named ${contractName}`);
  if (path === '') throw new Error(`several Aave artifacts are named ${contractName}`);
  const artifact = JSON.parse(readFileSync(path, 'utf8')) as Artifact;
  cache.set(contractName, artifact);
  return artifact;
}

/** Names of the libraries an artifact must be linked against. */
export function requiredLibraries(artifact: Artifact): string[] {
  return Object.values(artifact.linkReferences).flatMap((byName) => Object.keys(byName));
}

/**
 * Returns the creation bytecode with every library placeholder replaced by its deployed address.
 * Throws when a required library is missing, rather than deploying code that would call 0x__.
 */
export function linkBytecode(artifact: Artifact, libraries: Record<string, Address>): Hex {
  let code = artifact.bytecode;
  for (const byName of Object.values(artifact.linkReferences)) {
    for (const [name, refs] of Object.entries(byName)) {
      const address = libraries[name];
      if (address === undefined) throw new Error(`${artifact.contractName} needs library ${name}`);
      const hex = address.slice(2).toLowerCase();
      for (const { start, length } of refs) {
        if (length !== 20) throw new Error(`unexpected link length ${length} in ${artifact.contractName}`);
        const at = 2 + start * 2; // skip "0x", two hex characters a byte
        code = `${code.slice(0, at)}${hex}${code.slice(at + 40)}` as Hex;
      }
    }
  }
  if (code.includes('__')) throw new Error(`${artifact.contractName} still has unlinked placeholders`);
  return code;
}
