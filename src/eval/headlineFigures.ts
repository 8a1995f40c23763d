/**
 * A saved run's headline figures, as its Results report them for the default positive class: the threshold its rule
 * picks on validation, applied to the evaluated split (test, or validation where there is none), the accuracy there
 * (the most probable class's with more than two classes) and the AUC. From the run's kept scores, one view each; the
 * Results add intervals and, where it is on, test-time augmentation. Pure, no tfjs.
 */
import type { KeptScores, Settings } from '../core/types';
import { binaryMetrics, binaryScores, defaultPositiveClass, multiClassMetrics, rocAuc } from './metrics';
import { chooseOperatingPoint } from './thresholdRules';

export interface HeadlineFigures {
  accuracy: number;
  auc: number;
  /** The threshold the run's rule chose on validation; null with more than two classes (the most probable class wins). */
  threshold: number | null;
}

/** Null when the run kept no scores (it has not been evaluated) or the evaluated split is empty. */
export function headlineFigures(
  scores: KeptScores | null,
  classNames: string[],
  settings: Pick<Settings, 'thresholdRule' | 'targetSensitivity'>,
): HeadlineFigures | null {
  if (!scores) return null;
  const evaluated = scores.test ?? scores.validation;
  if (evaluated.labels.length === 0) return null;
  const numClasses = classNames.length;
  const positive = defaultPositiveClass(classNames);
  const evaluatedScores = binaryScores({ ...evaluated, numClasses }, positive);
  const auc = rocAuc(evaluatedScores, evaluated.labels, positive);
  if (numClasses > 2)
    return { accuracy: multiClassMetrics({ ...evaluated, numClasses }).accuracy, auc, threshold: null };
  const { threshold } = chooseOperatingPoint(
    settings.thresholdRule,
    settings.targetSensitivity,
    binaryScores({ ...scores.validation, numClasses }, positive),
    scores.validation.labels,
    positive,
  );
  return { accuracy: binaryMetrics(evaluatedScores, evaluated.labels, positive, threshold).accuracy, auc, threshold };
}
