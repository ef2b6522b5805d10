/*
 * Standard normal CDF and the closed-form first-passage probability of geometric Brownian
 * motion, kept for explanation text ("under a normal model this would be …"). The product's
 * estimate is the filtered historical simulation in worst-move-table.ts, because real
 * crypto moves have fat tails that this model misses by orders of magnitude.
 */

/** Φ(x), via erfc with fractional error below 1.2e-7 (Numerical Recipes `erfcc`), good far into the tails. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const value = t * Math.exp(poly);
  return x >= 0 ? value : 2 - value;
}

/**
 * Probability that a driftless GBM price (a martingale: log drift ν = −σ²/2) falls to
 * `barrier` × today's price at any time within `days`, given its volatility per √day.
 * With b = −ln(barrier) > 0 and s = σ√T:
 *   P = Φ((−b − νT)/s) + e^{−2νb/σ²} Φ((−b + νT)/s) = Φ(−b/s + s/2) + e^{b} Φ(−b/s − s/2)
 * 1 when the barrier is at or above today's price; 0 without volatility or time.
 */
export function gbmFirstPassageDown(barrier: number, volatilityPerSqrtDay: number, days: number): number {
  if (!(barrier > 0)) return 0;
  if (barrier >= 1) return 1;
  const s = volatilityPerSqrtDay * Math.sqrt(days);
  if (!(s > 0)) return 0;
  const b = -Math.log(barrier);
  return Math.min(1, normalCdf(-b / s + s / 2) + Math.exp(b) * normalCdf(-b / s - s / 2));
}

/**
 * Probability that the same driftless GBM rises to `barrier` (> 1) × today's price within
 * `days`: with b = ln(barrier) and s = σ√T, P = Φ(−b/s − s/2) + e^{−b} Φ(−b/s + s/2).
 */
export function gbmFirstPassageUp(barrier: number, volatilityPerSqrtDay: number, days: number): number {
  if (barrier <= 1) return 1;
  const s = volatilityPerSqrtDay * Math.sqrt(days);
  if (!(s > 0)) return 0;
  const b = Math.log(barrier);
  return Math.min(1, normalCdf(-b / s - s / 2) + Math.exp(-b) * normalCdf(-b / s + s / 2));
}
