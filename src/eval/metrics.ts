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
import type { TestResult } from '../core/types';

/** The part of a `TestResult` that the metrics need. */
export type ScoredResult = Pick<TestResult, 'scores' | 'labels' | 'numClasses'>;

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

export interface ClassMetrics {
  /** Of the images predicted as this class, the share that are: NaN when none is predicted as it. */
  precision: number;
  /** Of the images of this class, the share predicted as it: NaN when the class has no images. */
  recall: number;
  /** 2tp / (2tp + fp + fn); NaN when the class neither occurs nor is predicted. */
  f1: number;
  /** Number of images whose true class this is. */
  support: number;
}

export interface MultiClassMetrics {
  numClasses: number;
  /** Number of images. */
  count: number;
  /** Share of images whose argmax class is their label; NaN when there are no images. */
  accuracy: number;
  perClass: ClassMetrics[];
  /**
   * Unweighted means over the classes that occur in the labels or in the predictions (others are
   * left out); an undefined (NaN) per-class value counts as 0 here, as in scikit-learn's
   * `precision_recall_fscore_support(average='macro', zero_division=0)`. NaN when there are no images.
   */
  macro: { precision: number; recall: number; f1: number };
  /** confusion[trueClass][predictedClass] = number of images. */
  confusion: number[][];
}

// ---------------------------------------------------------------- helpers

function checkSameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} scores but ${b.length} labels.`);
}

function checkClass(c: number, numClasses: number, what: string): void {
  if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
    throw new RangeError(`${what}: class ${c} is not in 0..${numClasses - 1}.`);
  }
}

/** a / b, NaN when b is 0. */
function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

/** How many values per image `result.scores` holds: 1 (binary, P(class 1)) or numClasses. */
function scoreWidth(result: ScoredResult): number {
  const { scores, labels, numClasses } = result;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new RangeError(`numClasses must be a whole number >= 2 (got ${numClasses}).`);
  if (numClasses === 2 && scores.length === labels.length) return 1;
  if (scores.length === labels.length * numClasses) return numClasses;
  throw new RangeError(
    `${scores.length} scores do not fit ${labels.length} images of ${numClasses} classes ` +
      `(expected ${numClasses === 2 ? `${labels.length} or ` : ''}${labels.length * numClasses}).`,
  );
}

function toPositives(labels: ArrayLike<number>, positiveClass: number): boolean[] {
  const out = new Array<boolean>(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === positiveClass;
  return out;
}

/** Image indices sorted by score, ascending; NaN scores make the caller return NaN / [] instead. */
function sortedIndices(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  // A typed copy makes the comparator's reads fast for 100k+ images.
  const s = Float64Array.from(scores);
  return order.sort((a, b) => s[a] - s[b]);
}

function hasNaN(scores: ArrayLike<number>): boolean {
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) return true;
  return false;
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
    positiveClass === undefined ? (truth as ArrayLike<boolean>) : toPositives(truth as ArrayLike<number>, positiveClass);
  if (hasNaN(scores)) return NaN;
  const order = sortedIndices(scores);
  // Walk the tie groups from the lowest score up. Each positive in a group beats every negative
  // below the group and ties (1/2) with each negative inside it.
  let negativesBelow = 0;
  let positives = 0;
  let u = 0;
  for (let start = 0; start < order.length; ) {
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
  for (let end = order.length; end > 0; ) {
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

// ---------------------------------------------------------------- multi-class

/** confusion[trueClass][predictedClass] = number of images. */
export function confusionMatrix(predicted: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number): number[][] {
  checkSameLength(predicted, labels, 'confusionMatrix');
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) {
    checkClass(labels[i], numClasses, `confusionMatrix: label of image ${i}`);
    checkClass(predicted[i], numClasses, `confusionMatrix: prediction for image ${i}`);
    m[labels[i]][predicted[i]]++;
  }
  return m;
}

/**
 * The predicted class of each image: the most probable class (the first one on a tie); for a
 * binary result (P(class 1) per image) class 1 when that is >= 0.5.
 */
export function argmaxPredictions(result: ScoredResult): Uint8Array {
  const width = scoreWidth(result);
  const n = result.labels.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (width === 1) {
      out[i] = result.scores[i] >= 0.5 ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let c = 1; c < width; c++) if (result.scores[i * width + c] > result.scores[i * width + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Accuracy, per-class precision / recall / F1 / support, their macro averages and the confusion matrix of the argmax predictions. */
export function multiClassMetrics(result: ScoredResult): MultiClassMetrics {
  const { labels, numClasses } = result;
  const predicted = argmaxPredictions(result);
  const confusion = confusionMatrix(predicted, labels, numClasses);

  let correct = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < numClasses; c++) {
    const tp = confusion[c][c];
    correct += tp;
    let support = 0;
    let predictedAs = 0;
    for (let k = 0; k < numClasses; k++) {
      support += confusion[c][k];
      predictedAs += confusion[k][c];
    }
    const fp = predictedAs - tp;
    const fn = support - tp;
    perClass.push({
      precision: ratio(tp, predictedAs),
      recall: ratio(tp, support),
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      support,
    });
  }

  // Macro: over classes that occur in labels or predictions; NaN per-class values count as 0.
  const present = perClass.filter((m, c) => m.support > 0 || confusion.some((row) => row[c] > 0));
  const mean = (pick: (m: ClassMetrics) => number) =>
    ratio(
      present.reduce((sum, m) => sum + (Number.isNaN(pick(m)) ? 0 : pick(m)), 0),
      present.length,
    );

  return {
    numClasses,
    count: labels.length,
    accuracy: ratio(correct, labels.length),
    perClass,
    macro: { precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1) },
    confusion,
  };
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
