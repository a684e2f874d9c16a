/**
 * The little statistics the gate and compare need, written out so the rule is visible
 * and testable: medians, the Mann–Whitney U test (Wilcoxon rank-sum), one- and two-sided,
 * and Holm's correction for many tests.
 *
 * Mann–Whitney suits benchmark runs: it assumes no distribution (run-to-run latency is
 * skewed and has outliers), uses only the order of the values, and one odd run moves it
 * by one rank, not by its size. The p-value is exact (enumerating every split of the
 * pooled runs, which also handles ties exactly) up to EXACT_LIMIT splits, and the normal
 * approximation with tie and continuity correction beyond.
 */

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Midranks (1-based) of the pooled values: ties share the average of their ranks. */
export function midranks(values: number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let k = 0; k < order.length; ) {
    let end = k;
    while (end + 1 < order.length && order[end + 1]!.v === order[k]!.v) end++;
    const r = (k + end) / 2 + 1;
    for (let j = k; j <= end; j++) ranks[order[j]!.i] = r;
    k = end + 1;
  }
  return ranks;
}

export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) r = (r * (n - i + 1)) / i;
  return Math.round(r);
}

const EXACT_LIMIT = 200_000;

export interface MannWhitney {
  /** U of the `greater` sample: pairs where it is larger, ties counting 1/2 */
  u: number;
  /** one-sided p-value for "greater is stochastically larger than less" */
  p: number;
  method: 'exact' | 'normal';
}

/**
 * One-sided test that `greater` tends to be larger than `less`.
 * Exact: P(U ≥ u) over all C(n1+n2, n1) equally likely assignments of the pooled midranks.
 */
export function mannWhitneyGreater(greater: number[], less: number[]): MannWhitney {
  const n1 = greater.length;
  const n2 = less.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, p: 1, method: 'exact' };
  const ranks = midranks([...greater, ...less]);
  const rankSum = ranks.slice(0, n1).reduce((a, b) => a + b, 0);
  const offset = (n1 * (n1 + 1)) / 2;
  const u = rankSum - offset;
  const N = n1 + n2;
  if (binomial(N, n1) <= EXACT_LIMIT) {
    let atLeast = 0;
    let total = 0;
    const idx = Array.from({ length: n1 }, (_, i) => i);
    // Enumerate every n1-subset of the pooled ranks in lexicographic order.
    for (;;) {
      let sum = 0;
      for (const i of idx) sum += ranks[i]!;
      total++;
      if (sum - offset >= u - 1e-9) atLeast++;
      let k = n1 - 1;
      while (k >= 0 && idx[k] === N - n1 + k) k--;
      if (k < 0) break;
      idx[k]!++;
      for (let j = k + 1; j < n1; j++) idx[j] = idx[j - 1]! + 1;
    }
    return { u, p: atLeast / total, method: 'exact' };
  }
  const mean = (n1 * n2) / 2;
  const ties = new Map<number, number>();
  for (const r of ranks) ties.set(r, (ties.get(r) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) tieTerm += t ** 3 - t;
  const variance = ((n1 * n2) / 12) * (N + 1 - tieTerm / (N * (N - 1)));
  if (variance <= 0) return { u, p: 1, method: 'normal' };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { u, p: 1 - normalCdf(z), method: 'normal' };
}

/**
 * Two-sided test that the samples come from one distribution: twice the smaller tail.
 * Doubling an exact one-sided p keeps the test's false-positive rate at most alpha.
 */
export function mannWhitneyTwoSided(a: number[], b: number[]): MannWhitney {
  const up = mannWhitneyGreater(a, b);
  const down = mannWhitneyGreater(b, a);
  return { u: up.u, p: Math.min(1, 2 * Math.min(up.p, down.p)), method: up.method };
}

/** The smallest p-value any data could give with these sample sizes (no ties): one- or two-sided. */
export function smallestPossibleP(n1: number, n2: number, sides: 1 | 2 = 1): number {
  if (n1 === 0 || n2 === 0) return 1;
  return Math.min(1, sides / binomial(n1 + n2, n1));
}

/** The fewest runs per side (equal sides) with which the test can reach alpha at all. */
export function runsNeeded(alpha: number, sides: 1 | 2 = 1): number {
  let n = 1;
  while (smallestPossibleP(n, n, sides) > alpha) n++;
  return n;
}

/**
 * Holm–Bonferroni adjusted p-values, in the order given: H_i is rejected at family-wise
 * error rate alpha iff adjusted[i] ≤ alpha, whatever the dependence between the tests.
 * Step-down: the k-th smallest p (0-based) is multiplied by m − k, and the running
 * maximum keeps a hypothesis from being rejected when a smaller p was not.
 */
export function holmAdjust(ps: number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

export function mean(values: number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n − 1). */
export function stdev(values: number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}
