/**
 * Metrics of more than two classes: the most probable class as the prediction, the confusion matrix,
 * per-class precision / recall / F1 and their macro averages. Conventions as in metrics.ts.
 */
import { checkClass, checkSameLength, ratio, scoreWidth, type ScoredResult } from '../core/metricHelpers';

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

/** confusion[trueClass][predictedClass] = number of images. */
export function confusionMatrix(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
): number[][] {
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
