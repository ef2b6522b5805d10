/*
 * The backtest's `--policy` option: an extra alert policy to replay beside static, risk and
 * probabilityOnly, written NAME=KIND[:hf=W,M,C][:p=W,M,C]:
 *
 *   static        health-factor thresholds only (a watch without `risk`)
 *   risk          the worse of the health-factor and the 24 h probability level (a risk-enabled watch)
 *   probability   the probability levels alone (no watch can be configured so; for comparison)
 *
 * hf= gives the health-factor thresholds warning, marginCall, critical; p= the probability
 * levels warning, marginCall, critical (fractions: 0.05 is 5 %). A part left out takes the
 * backtest's defaults (1.5, 1.25, 1.1 and 0.01, 0.05, 0.2). Both are checked with the API's own
 * schemas, so a static or risk policy the backtest accepts is a watch a user can configure.
 * Pure: text in, spec out.
 */
import { riskLevelsSchema, thresholdsSchema } from '../config/api-schemas';
import { AppError } from '../lib/errors';
import { BACKTEST_POLICIES, type Levels, type PolicySpec } from './backtest-alerts';

const KINDS = ['static', 'risk', 'probability'] as const;
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/;

export type PolicyOptionDefaults = { staticLevels: Levels; riskLevels: Levels };

/** One `--policy` value → its name and spec; AppError `invalid_policy_option` naming what is wrong. */
export function parsePolicyOption(text: string, defaults: PolicyOptionDefaults): { name: string; spec: PolicySpec } {
  const fail = (why: string) => new AppError('invalid_policy_option', `--policy ${text}: ${why} (expected NAME=KIND[:hf=W,M,C][:p=W,M,C], KIND one of ${KINDS.join(', ')})`);
  const equals = text.indexOf('=');
  // "risk:hf=…" has an '=' but no name: the first '=' must come before any ':'.
  if (equals < 0 || text.slice(0, equals).includes(':')) throw fail('no NAME=');
  const name = text.slice(0, equals);
  if (!NAME.test(name)) throw fail(`name "${name}" must start with a letter and hold only letters, digits, '_', '-', '.' (at most 40)`);
  if ((BACKTEST_POLICIES as readonly string[]).includes(name)) throw fail(`name "${name}" is reserved: ${BACKTEST_POLICIES.join(', ')} are always reported`);
  const [kind, ...parts] = text.slice(equals + 1).split(':');
  if (!(KINDS as readonly string[]).includes(kind ?? '')) throw fail(`unknown kind "${kind}"`);
  const given: { hf?: Levels; p?: Levels } = {};
  for (const part of parts) {
    const match = /^(hf|p)=([^,]*),([^,]*),([^,]*)$/.exec(part);
    if (match === null) throw fail(`"${part}" is not hf=W,M,C or p=W,M,C`);
    const key = match[1] as 'hf' | 'p';
    if (given[key] !== undefined) throw fail(`${key}= given twice`);
    const numbers = match.slice(2, 5).map((value) => (value.trim() === '' ? Number.NaN : Number(value)));
    const levels = { warning: numbers[0], marginCall: numbers[1], critical: numbers[2] };
    const parsed = (key === 'hf' ? thresholdsSchema : riskLevelsSchema).safeParse(levels);
    if (!parsed.success) throw fail(parsed.error.issues.map((issue) => `${key}.${issue.path.join('.')} ${issue.message}`).join('; '));
    given[key] = parsed.data;
  }
  if (kind === 'static' && given.p !== undefined) throw fail('a static policy has no probability levels');
  if (kind === 'probability' && given.hf !== undefined) throw fail('a probability policy has no health-factor thresholds');
  const healthFactor = kind === 'probability' ? null : (given.hf ?? defaults.staticLevels);
  const probability = kind === 'static' ? null : (given.p ?? defaults.riskLevels);
  return { name, spec: { healthFactor, probability } };
}

/** Every `--policy` value, by name; AppError `invalid_policy_option` when a name repeats. */
export function parsePolicyOptions(texts: readonly string[], defaults: PolicyOptionDefaults): Record<string, PolicySpec> {
  const specs: Record<string, PolicySpec> = {};
  for (const text of texts) {
    const { name, spec } = parsePolicyOption(text, defaults);
    if (Object.hasOwn(specs, name)) throw new AppError('invalid_policy_option', `--policy ${text}: the name "${name}" is given twice`);
    specs[name] = spec;
  }
  return specs;
}

/** One line describing a spec, e.g. "worse of HF < 1.35 / 1.2 / 1.1 and 24 h p ≥ 1 % / 5 % / 20 %". */
export function describePolicySpec(spec: PolicySpec): string {
  const hf = spec.healthFactor && `HF < ${spec.healthFactor.warning} / ${spec.healthFactor.marginCall} / ${spec.healthFactor.critical}`;
  const percent = (value: number) => `${Number((value * 100).toPrecision(6))} %`;
  const p = spec.probability && `24 h p ≥ ${percent(spec.probability.warning)} / ${percent(spec.probability.marginCall)} / ${percent(spec.probability.critical)}`;
  return hf && p ? `worse of ${hf} and ${p}` : (hf ?? p ?? 'nothing');
}
