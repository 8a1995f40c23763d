/**
 * Operating points: the decision threshold a rule picks from VALIDATION scores, to be applied unchanged
 * to the test split (choosing it on test would flatter the test figures). Pure functions, no tfjs.
 * Scores are one-vs-rest probabilities of the positive class; an image is predicted positive when its
 * score >= the threshold (metrics.ts' convention).
 */
import type { ThresholdRule } from '../core/types';
import { rocCurve } from './metrics';

export interface OperatingPoint {
  rule: ThresholdRule;
  /** The target sensitivity (0..1) of the `sensitivity` rule; null for the other rules. */
  target: number | null;
  threshold: number;
  /** Why the rule could not be followed (the threshold is then 0.5); null when it was. */
  fallback: string | null;
}

/**
 * The threshold with the largest Youden J = sensitivity + specificity - 1, among the distinct scores
 * (each as a threshold); on a tie, the highest such threshold (the fewest positive calls).
 * NaN when there are no positives or no negatives, or a score is NaN.
 */
export function youdenThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>, positiveClass: number): number {
  const roc = rocCurve(scores, labels, positiveClass);
  let best = NaN;
  let bestJ = -Infinity;
  // roc[0] is the (0,0) start at threshold Infinity: not a usable threshold.
  for (let k = 1; k < roc.length; k++) {
    const j = roc[k].tpr - roc[k].fpr;
    if (j > bestJ + 1e-12) {
      bestJ = j;
      best = roc[k].threshold;
    }
  }
  return best;
}

/**
 * The highest threshold whose sensitivity is at least `target` (0..1): the most specific decision that
 * still finds that share of the positives. NaN when there are no positives or no negatives, or a score is NaN.
 */
export function sensitivityThreshold(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  positiveClass: number,
  target: number,
): number {
  if (!(target >= 0 && target <= 1)) throw new RangeError(`The target sensitivity must be in 0..1 (got ${target}).`);
  const roc = rocCurve(scores, labels, positiveClass);
  for (let k = 1; k < roc.length; k++) if (roc[k].tpr >= target - 1e-12) return roc[k].threshold;
  return NaN;
}

/** What `rule` picks on these validation scores; 0.5, with the reason, when it cannot pick. */
export function chooseOperatingPoint(
  rule: ThresholdRule,
  targetPercent: number,
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  positiveClass: number,
): OperatingPoint {
  if (rule === 'fixed') return { rule, target: null, threshold: 0.5, fallback: null };
  const target = rule === 'sensitivity' ? targetPercent / 100 : null;
  const threshold =
    rule === 'youden'
      ? youdenThreshold(scores, labels, positiveClass)
      : sensitivityThreshold(scores, labels, positiveClass, target as number);
  if (Number.isFinite(threshold)) return { rule, target, threshold, fallback: null };
  return {
    rule,
    target,
    threshold: 0.5,
    fallback: 'validation has no images of one side of the decision (or a score is not a number), so 0.5 is used',
  };
}

/** In words, for the page: "chosen on validation by maximum Youden J". */
export function describeRule(point: Pick<OperatingPoint, 'rule' | 'target' | 'fallback'>): string {
  if (point.fallback) return `0.5, because ${point.fallback}`;
  switch (point.rule) {
    case 'fixed':
      return 'fixed at 0.5';
    case 'youden':
      return 'chosen on validation by maximum Youden J';
    case 'sensitivity':
      return `chosen on validation for sensitivity at least ${formatPercent(point.target ?? NaN)}`;
  }
}

function formatPercent(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`;
}
