/**
 * Evaluation metrics for a trained classifier: pure functions over the scores and labels that
 * the training worker sends back (`TestResult`). No TensorFlow, no DOM.
 *
 * Conventions:
 * - A metric whose denominator is 0 is NaN ("undefined"), never 0 or 1, so the page can show "—"
 *   instead of a misleading number (e.g. precision when nothing is predicted positive).
 * - Binary decisions: an image is predicted positive when its score is >= the threshold
 *   (a NaN score is therefore predicted negative).
 * - Arrays of different lengths, classes out of range and similar misuse throw a RangeError.
 */
import {
  checkClass,
  checkSameLength,
  hasNaN,
  ratio,
  scoreWidth,
  sortedIndices,
  type ScoredResult,
} from '../core/metricHelpers';
import { rocAuc } from '../core/rocAuc';

export type { ScoredResult } from '../core/metricHelpers';
export { rocAuc } from '../core/rocAuc';
// More than two classes live in multiClass.ts; their names stay importable from here.
export {
  argmaxPredictions,
  confusionMatrix,
  multiClassMetrics,
  type ClassMetrics,
  type MultiClassMetrics,
} from './multiClass';

export interface BinaryMetrics {
  /** Predicted positive when score >= threshold. */
  threshold: number;
  /** The class index counted as "positive". */
  positiveClass: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** (tp + tn) / n; NaN when there are no images. */
  accuracy: number;
  /** Recall, true-positive rate: tp / (tp + fn); NaN when there are no positive images. */
  sensitivity: number;
  /** True-negative rate: tn / (tn + fp); NaN when there are no negative images. */
  specificity: number;
  /** Positive predictive value: tp / (tp + fp); NaN when nothing is predicted positive. */
  precision: number;
  /** 2tp / (2tp + fp + fn) (= harmonic mean of precision and recall); NaN only when tp = fp = fn = 0. */
  f1: number;
  /** Area under the ROC curve (threshold-free); NaN without both positive and negative images. */
  auc: number;
}

export interface RocPoint {
  /** False-positive rate, fp / negatives, at this threshold. */
  fpr: number;
  /** True-positive rate, tp / positives, at this threshold. */
  tpr: number;
  /** Images with score >= threshold are predicted positive (Infinity for the (0,0) start). */
  threshold: number;
}

// ---------------------------------------------------------------- binary

/**
 * The probability of `positiveClass` for each image: for a binary result (one score per image,
 * P(class 1)) the scores themselves, or 1 - score when positiveClass is 0; for a multi-class
 * result the column `positiveClass` of the row-major `count × numClasses` matrix.
 */
export function binaryScores(result: ScoredResult, positiveClass: number): Float32Array {
  const width = scoreWidth(result);
  checkClass(positiveClass, result.numClasses, 'binaryScores');
  const n = result.labels.length;
  const out = new Float32Array(n);
  if (width === 1) {
    for (let i = 0; i < n; i++) out[i] = positiveClass === 1 ? result.scores[i] : 1 - result.scores[i];
  } else {
    for (let i = 0; i < n; i++) out[i] = result.scores[i * width + positiveClass];
  }
  return out;
}

/**
 * Confusion counts and the usual rates of a one-vs-rest decision: an image is predicted positive
 * when its score >= threshold, and is truly positive when its label is `positiveClass`.
 * Undefined rates are NaN (see `BinaryMetrics`).
 */
export function binaryMetrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  positiveClass: number,
  threshold = 0.5,
): BinaryMetrics {
  checkSameLength(scores, labels, 'binaryMetrics');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const predictedPositive = scores[i] >= threshold;
    const positive = labels[i] === positiveClass;
    if (positive) {
      if (predictedPositive) tp++;
      else fn++;
    } else if (predictedPositive) fp++;
    else tn++;
  }
  return {
    threshold,
    positiveClass,
    tp,
    fp,
    tn,
    fn,
    accuracy: ratio(tp + tn, scores.length),
    sensitivity: ratio(tp, tp + fn),
    specificity: ratio(tn, tn + fp),
    precision: ratio(tp, tp + fp),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    auc: rocAuc(scores, labels, positiveClass),
  };
}

/**
 * The ROC curve as a step list: the start (0,0) at threshold Infinity, then one point per distinct
 * score from the highest down (tied scores make a single, possibly diagonal, step), predicted
 * positive meaning score >= threshold; the last point, at the lowest score, is (1,1).
 * Empty when there are no positives or no negatives, or a score is NaN (the rates are undefined).
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, positiveClass: number): RocPoint[] {
  checkSameLength(scores, labels, 'rocCurve');
  if (hasNaN(scores)) return [];
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === positiveClass) positives++;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return [];

  const order = sortedIndices(scores);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let end = order.length; end > 0;) {
    const value = scores[order[end - 1]];
    while (end > 0 && scores[order[end - 1]] === value) {
      if (labels[order[end - 1]] === positiveClass) tp++;
      else fp++;
      end--;
    }
    points.push({ fpr: fp / negatives, tpr: tp / positives, threshold: value });
  }
  return points;
}

// ---------------------------------------------------------------- choices

/**
 * The class to call "positive" in binary metrics: of two classes, the one whose name is not
 * NORMAL (case-insensitive, surrounding spaces ignored); otherwise class 1 (0 if there is only one class).
 */
export function defaultPositiveClass(classNames: string[]): number {
  if (classNames.length < 2) return 0;
  const isNormal = (name: string) => name.trim().toLowerCase() === 'normal';
  if (classNames.length === 2 && isNormal(classNames[1]) && !isNormal(classNames[0])) return 0;
  return 1;
}

/**
 * Per-class loss weights in the Keras / scikit-learn 'balanced' convention,
 * total / (numClasses * count), so that every class weighs the same in total; a class without
 * images gets weight 0.
 */
export function classWeights(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((count) => (count > 0 ? total / (counts.length * count) : 0));
}
