import { describe, expect, it } from 'vitest';
import { appErrorOf } from '../helpers/app-error-of';
import { describeRegime, parseRegimeOption, parseRegimeOptions } from '../../src/risk/backtest-regime-option';

describe('backtest --regime option', () => {
  it('parses MEASURE:HOURS:EDGES into a regime dimension, in the order given; none means the production regime', () => {
    expect(parseRegimeOption('drawdown:336:-2,-1')).toEqual({ measure: 'drawdown', hours: 336, edges: [-2, -1] });
    expect(parseRegimeOptions(['return:72:-2.5,-2,-1.5,-1,-0.5,0,1', 'return:336:-1,0'])).toEqual([
      { measure: 'return', hours: 72, edges: [-2.5, -2, -1.5, -1, -0.5, 0, 1] },
      { measure: 'return', hours: 336, edges: [-1, 0] },
    ]);
    expect(parseRegimeOptions([])).toBeUndefined();
    expect(describeRegime(parseRegimeOptions(['return:72:-1,0', 'drawdown:336:-2,-1'])!)).toBe('72 h return (edges -1, 0) × 336 h drawdown (edges -2, -1)');
  });

  it.each([
    ['drawdown:336', 'not three parts'],
    ['peak:336:-1', 'unknown measure "peak"'],
    ['return:0:-1', 'hours "0"'],
    ['return:1.5:-1', 'hours "1.5"'],
    ['return:2000:-1', 'hours "2000"'],
    ['drawdown:336:-1,x', 'must be numbers'],
    ['drawdown:336:-1,', 'must be numbers'],
    ['drawdown:336:-1,-2', 'must increase strictly'],
    ['drawdown:336:-1,-1', 'must increase strictly'],
  ])('rejects %s with invalid_regime_option naming the problem', (text, why) => {
    const error = appErrorOf(() => parseRegimeOption(text));
    expect(error.code).toBe('invalid_regime_option');
    expect(error.message).toContain(why);
  });
});
