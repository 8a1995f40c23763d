/**
 * 95% confidence intervals by the percentile bootstrap: draw the evaluated split again with replacement
 * many times (seeded), recompute each figure, and keep the 2.5th and 97.5th percentiles. Where the
 * patients are known (`groups`), whole patients are drawn, since images of one patient are not
 * independent; otherwise images. Runs in the training worker (thousands of resamples); pure, no tfjs.
 */
import { mulberry32 } from '../core/random';

export type IntervalMetric = 'accuracy' | 'sensitivity' | 'specificity' | 'precision' | 'auc';
export const INTERVAL_METRICS: readonly IntervalMetric[] = [
  'accuracy',
  'sensitivity',
  'specificity',
  'precision',
  'auc',
];

/** [low, high]; NaN ends when the figure is undefined in too many resamples (e.g. no positives). */
export type Interval = [number, number];

export interface BootstrapInput {
  /** One-vs-rest score of the positive class per image; predicted positive when >= threshold. */
  scores: ArrayLike<number>;
  /** 1 where the image is of the positive class. */
  positive: ArrayLike<number>;
  threshold: number;
  /** 1 where the image's predicted class is right, for accuracy (default: the threshold decision is right). */
  correct?: ArrayLike<number>;
  /** Patient of each image; absent: each image is its own unit. */
  groups?: ArrayLike<number>;
  resamples?: number;
  seed?: number;
}

export interface BootstrapResult {
  intervals: Record<IntervalMetric, Interval>;
  /** What was resampled: patients (groups) or images, and how many of them. */
  unit: 'patients' | 'images';
  units: number;
  resamples: number;
}

export const DEFAULT_RESAMPLES = 1000;

/**
 * Percentile intervals for accuracy, sensitivity, specificity, precision and AUC at `threshold`.
 * A resample where a figure is undefined (no positives drawn, say) is left out of that figure's
 * percentiles; when more than half are, its interval is [NaN, NaN].
 */
export function bootstrapIntervals(input: BootstrapInput): BootstrapResult {
  const { scores, positive, threshold, resamples = DEFAULT_RESAMPLES, seed = 1 } = input;
  const n = scores.length;
  if (positive.length !== n) throw new RangeError(`bootstrapIntervals: ${n} scores but ${positive.length} labels.`);
  const correct =
    input.correct ??
    Uint8Array.from({ length: n }, (_, i) => ((scores[i] >= threshold ? 1 : 0) === (positive[i] ? 1 : 0) ? 1 : 0));
  const units = unitsOf(n, input.groups);
  // One sort for every resample: AUC then walks the images in score order with each one's draw count.
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const anyNaN = Array.from({ length: n }, (_, i) => scores[i]).some(Number.isNaN);
  const random = mulberry32(seed);
  const weight = new Uint32Array(n);
  const draws: Record<IntervalMetric, number[]> = {
    accuracy: [],
    sensitivity: [],
    specificity: [],
    precision: [],
    auc: [],
  };

  for (let r = 0; r < resamples; r++) {
    weight.fill(0);
    for (let k = 0; k < units.length; k++) {
      for (const i of units[Math.floor(random() * units.length)]) weight[i]++;
    }
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    let right = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weight[i];
      if (w === 0) continue;
      total += w;
      if (correct[i]) right += w;
      const called = scores[i] >= threshold;
      if (positive[i]) {
        if (called) tp += w;
        else fn += w;
      } else if (called) fp += w;
      else tn += w;
    }
    draws.accuracy.push(total ? right / total : NaN);
    draws.sensitivity.push(tp + fn ? tp / (tp + fn) : NaN);
    draws.specificity.push(tn + fp ? tn / (tn + fp) : NaN);
    draws.precision.push(tp + fp ? tp / (tp + fp) : NaN);
    draws.auc.push(anyNaN ? NaN : weightedAuc(scores, positive, weight, order));
  }
  const intervals = Object.fromEntries(INTERVAL_METRICS.map((m) => [m, percentileInterval(draws[m])])) as Record<
    IntervalMetric,
    Interval
  >;
  return { intervals, unit: input.groups ? 'patients' : 'images', units: units.length, resamples };
}

/** The images of each unit: one list a group (in first-seen order), or one image each. */
function unitsOf(n: number, groups: ArrayLike<number> | undefined): number[][] {
  if (!groups) return Array.from({ length: n }, (_, i) => [i]);
  if (groups.length < n) throw new RangeError(`bootstrapIntervals: ${groups.length} groups for ${n} images.`);
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = byGroup.get(groups[i]);
    if (list) list.push(i);
    else byGroup.set(groups[i], [i]);
  }
  return [...byGroup.values()];
}

/** Mann–Whitney AUC with each image counted `weight[i]` times; `order` sorts the scores ascending. */
function weightedAuc(
  scores: ArrayLike<number>,
  positive: ArrayLike<number>,
  weight: Uint32Array,
  order: Uint32Array,
): number {
  let negativesBelow = 0;
  let positives = 0;
  let u = 0;
  for (let start = 0; start < order.length;) {
    const value = scores[order[start]];
    let p = 0;
    let q = 0;
    let end = start;
    while (end < order.length && scores[order[end]] === value) {
      const i = order[end];
      if (positive[i]) p += weight[i];
      else q += weight[i];
      end++;
    }
    u += p * negativesBelow + 0.5 * p * q;
    negativesBelow += q;
    positives += p;
    start = end;
  }
  return positives && negativesBelow ? u / (positives * negativesBelow) : NaN;
}

/** The 2.5th and 97.5th percentiles (linear between order statistics) of the defined draws. */
export function percentileInterval(draws: number[], level = 0.95): Interval {
  const defined = draws.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (defined.length === 0 || defined.length * 2 < draws.length) return [NaN, NaN];
  const tail = (1 - level) / 2;
  return [quantile(defined, tail), quantile(defined, 1 - tail)];
}

function quantile(sorted: number[], q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}
