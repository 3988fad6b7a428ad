// McNemar's test for two classifiers scored on the same images: only the discordant pairs count
// (b = images the first model got right and the second wrong, c = the reverse). Pure arithmetic; must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
//
// Which form, and why:
//   - b + c = 0: nothing to test; p = 1 (method 'none').
//   - b + c < EXACT_BELOW (25): the exact conditional (binomial) test. Under the null hypothesis each
//     discordant pair is equally likely to go either way, so min(b, c) ~ Binomial(b + c, 1/2) and the
//     two-sided p-value is min(1, 2 * P(X <= min(b, c))). The chi-square approximation is poor for few
//     discordant pairs; 25 is the usual rule of thumb (e.g. statsmodels' and Dietterich 1998's advice).
//   - otherwise: the chi-square statistic with Edwards' continuity correction,
//     X^2 = max(0, |b - c| - 1)^2 / (b + c), 1 degree of freedom; p = P(chi2_1 >= X^2) = erfc(sqrt(X^2 / 2)).

/** Below this many discordant pairs the exact binomial form is used. */
export const EXACT_BELOW = 25;

export type McNemarMethod = 'none' | 'exact-binomial' | 'chi-square-continuity';

export interface McNemarResult {
  /** Pairs the first model classified correctly and the second did not. */
  b: number;
  /** Pairs the second model classified correctly and the first did not. */
  c: number;
  method: McNemarMethod;
  /** The chi-square statistic (chi-square form), min(b, c) (exact form) or 0 (none). */
  statistic: number;
  /** Two-sided p-value, in [0, 1]. */
  pValue: number;
}

export interface McNemarOptions {
  /** Force a form instead of choosing by the number of discordant pairs. */
  method?: Exclude<McNemarMethod, 'none'>;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0)
    throw new RangeError(`McNemar's test needs a whole number of ${name} pairs of at least 0, got ${v}`);
}

export function mcnemarTest(b: number, c: number, options: McNemarOptions = {}): McNemarResult {
  checkCount('b (first right, second wrong)', b);
  checkCount('c (first wrong, second right)', c);
  const n = b + c;
  if (n === 0) return { b, c, method: 'none', statistic: 0, pValue: 1 };
  const method = options.method ?? (n < EXACT_BELOW ? 'exact-binomial' : 'chi-square-continuity');
  if (method === 'exact-binomial') {
    const k = Math.min(b, c);
    return { b, c, method, statistic: k, pValue: Math.min(1, 2 * binomialCdfHalf(k, n)) };
  }
  const d = Math.max(0, Math.abs(b - c) - 1);
  const statistic = (d * d) / n;
  return { b, c, method, statistic, pValue: chiSquare1Tail(statistic) };
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so large n does not overflow. */
export function binomialCdfHalf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  // log C(n, i) built up term by term: C(n, i) = C(n, i - 1) * (n - i + 1) / i.
  const logHalfN = n * Math.log(0.5);
  let logC = 0;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logC + logHalfN);
  }
  return Math.min(1, sum);
}

/** P(chi2 with 1 degree of freedom >= x) = erfc(sqrt(x / 2)). */
export function chiSquare1Tail(x: number): number {
  if (!(x > 0)) return 1;
  return erfc(Math.sqrt(x / 2));
}

/**
 * Complementary error function, via the continued fraction of the upper incomplete gamma function
 * (erfc(z) = Q(1/2, z^2)) for z >= 1.5 and the series of erf below; relative error near 1e-14.
 */
export function erfc(z: number): number {
  if (z < 0) return 2 - erfc(-z);
  if (z < 1.5) {
    // erf(z) = 2/sqrt(pi) * sum_n (-1)^n z^(2n+1) / (n! (2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz's method on Q(a, x) = e^-x x^a / Gamma(a) * 1 / (x + 1 - a - 1(1 - a)/(x + 3 - a - ...)), a = 1/2.
  const a = 0.5;
  const x = z * z;
  const tiny = 1e-300;
  let bb = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / bb;
  let h = d;
  for (let i = 1; i < 300; i++) {
    const an = -i * (i - a);
    bb += 2;
    d = an * d + bb;
    if (Math.abs(d) < tiny) d = tiny;
    c = bb + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  // Gamma(1/2) = sqrt(pi); e^-x x^(1/2) / sqrt(pi) * h.
  return (Math.exp(-x) * Math.sqrt(x) * h) / Math.sqrt(Math.PI);
}
