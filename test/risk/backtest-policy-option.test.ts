import { describe, expect, it } from 'vitest';
import { appErrorOf } from '../helpers/app-error-of';
import { describePolicySpec, parsePolicyOption, parsePolicyOptions } from '../../src/risk/backtest-policy-option';

const defaults = { staticLevels: { warning: 1.5, marginCall: 1.25, critical: 1.1 }, riskLevels: { warning: 0.01, marginCall: 0.05, critical: 0.2 } };

describe('backtest --policy option', () => {
  it.each([
    ['a=static', { healthFactor: defaults.staticLevels, probability: null }],
    ['a=static:hf=1.35,1.2,1.1', { healthFactor: { warning: 1.35, marginCall: 1.2, critical: 1.1 }, probability: null }],
    ['a=risk', { healthFactor: defaults.staticLevels, probability: defaults.riskLevels }],
    ['a=risk:hf=1.1002,1.1001,1.1', { healthFactor: { warning: 1.1002, marginCall: 1.1001, critical: 1.1 }, probability: defaults.riskLevels }],
    ['a=risk:p=0.005,0.025,0.1:hf=1.3,1.15,1.1', { healthFactor: { warning: 1.3, marginCall: 1.15, critical: 1.1 }, probability: { warning: 0.005, marginCall: 0.025, critical: 0.1 } }],
    ['a=probability', { healthFactor: null, probability: defaults.riskLevels }],
    ['a=probability:p=0.005,0.03,0.15', { healthFactor: null, probability: { warning: 0.005, marginCall: 0.03, critical: 0.15 } }],
  ])('%s parses to its health-factor thresholds and probability levels, defaults for the parts left out', (text, spec) => {
    expect(parsePolicyOption(text, defaults)).toEqual({ name: 'a', spec });
  });

  it.each([
    ['risk:hf=1.3,1.2,1.1', 'no NAME='],
    ['1x=risk', 'must start with a letter'],
    ['static=static', 'reserved'],
    ['risk=risk:hf=1.3,1.2,1.1', 'reserved'],
    ['probabilityOnly=probability', 'reserved'],
    ['a=worse', 'unknown kind "worse"'],
    ['a=risk:hf=1.3,1.2', 'is not hf=W,M,C'],
    ['a=risk:q=1,2,3', 'is not hf=W,M,C'],
    ['a=risk:hf=1.3,1.2,1.1:hf=1.4,1.2,1.1', 'hf= given twice'],
    // The API's own rules: thresholds strictly decrease and exceed 1; levels strictly increase in (0, 1).
    ['a=risk:hf=1.1,1.2,1.3', 'hf.warning must be greater than marginCall'],
    ['a=static:hf=1.3,1.1,1.1', 'hf.marginCall must be greater than critical'],
    ['a=static:hf=1.3,1.2,1', 'hf.critical must be greater than 1'],
    ['a=risk:hf=1.3,x,1.1', 'hf.marginCall'],
    ['a=probability:p=0.05,0.01,0.2', 'p.warning must be less than marginCall'],
    ['a=probability:p=0.01,0.05,1', 'p.critical must be less than 1'],
    ['a=static:p=0.01,0.05,0.2', 'a static policy has no probability levels'],
    ['a=probability:hf=1.5,1.25,1.1', 'a probability policy has no health-factor thresholds'],
  ])('%s is refused with invalid_policy_option saying "%s"', (text, why) => {
    const error = appErrorOf(() => parsePolicyOption(text, defaults));
    expect(error.code).toBe('invalid_policy_option');
    expect(error.message).toContain(why);
    expect(error.message).toContain(`--policy ${text}`);
  });

  it('collects several values by name and refuses a name given twice', () => {
    expect(Object.keys(parsePolicyOptions(['b=risk:hf=1.35,1.2,1.1', 'a=probability'], defaults))).toEqual(['b', 'a']);
    expect(appErrorOf(() => parsePolicyOptions(['a=risk', 'a=static'], defaults))).toEqual({ code: 'invalid_policy_option', message: '--policy a=static: the name "a" is given twice' });
  });

  it('describes a spec in one line: the worse of both, or the one rule alone', () => {
    expect(describePolicySpec({ healthFactor: { warning: 1.35, marginCall: 1.2, critical: 1.1 }, probability: { warning: 0.005, marginCall: 0.025, critical: 0.1 } })).toBe(
      'worse of HF < 1.35 / 1.2 / 1.1 and 24 h p ≥ 0.5 % / 2.5 % / 10 %',
    );
    expect(describePolicySpec({ healthFactor: null, probability: defaults.riskLevels })).toBe('24 h p ≥ 1 % / 5 % / 20 %');
    expect(describePolicySpec({ healthFactor: defaults.staticLevels, probability: null })).toBe('HF < 1.5 / 1.25 / 1.1');
  });
});
