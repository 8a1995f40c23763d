/**
 * Area under the ROC curve, shared by the evaluation (eval/metrics) and the dataset's health checks
 * (data/classShortcuts): one rank statistic, so both layers read AUC the same way. No TensorFlow, no DOM.
 */
import { checkSameLength, hasNaN, ratio, sortedIndices, toPositives } from './metricHelpers';

/**
 * Area under the ROC curve, computed as the Mann–Whitney U statistic: the share of
 * (positive, negative) pairs in which the positive image scores higher, a tie counting 1/2.
 * Sort-based, O(n log n). NaN when there are no positives or no negatives, or a score is NaN.
 *
 * Either `rocAuc(scores, isPositive)` or `rocAuc(scores, labels, positiveClass)`.
 */
export function rocAuc(scores: ArrayLike<number>, isPositive: ArrayLike<boolean>): number;
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, positiveClass: number): number;
export function rocAuc(
  scores: ArrayLike<number>,
  truth: ArrayLike<boolean> | ArrayLike<number>,
  positiveClass?: number,
): number {
  checkSameLength(scores, truth, 'rocAuc');
  const positive: ArrayLike<boolean> =
    positiveClass === undefined
      ? (truth as ArrayLike<boolean>)
      : toPositives(truth as ArrayLike<number>, positiveClass);
  if (hasNaN(scores)) return NaN;
  const order = sortedIndices(scores);
  // Walk the tie groups from the lowest score up. Each positive in a group beats every negative
  // below the group and ties (1/2) with each negative inside it.
  let negativesBelow = 0;
  let positives = 0;
  let u = 0;
  for (let start = 0; start < order.length;) {
    const value = scores[order[start]];
    let end = start;
    let p = 0;
    let q = 0;
    while (end < order.length && scores[order[end]] === value) {
      if (positive[order[end]]) p++;
      else q++;
      end++;
    }
    u += p * negativesBelow + 0.5 * p * q;
    negativesBelow += q;
    positives += p;
    start = end;
  }
  return ratio(u, positives * negativesBelow);
}
