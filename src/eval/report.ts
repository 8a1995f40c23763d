/**
 * The honest report of a trained model: the operating point chosen on validation, applied to test;
 * both splits' figures at it with 95% bootstrap intervals; calibration; and whether validation and test
 * disagree beyond their intervals (a shift). Built in the training worker, which holds the scores and the
 * patients; pure, no tfjs.
 */
import type { EvalSettings, ScoredSplit, TestTimeAugmentation } from '../core/types';

export type { ScoredSplit };
import { bootstrapIntervals, DEFAULT_RESAMPLES, type Interval, type IntervalMetric } from './bootstrap';
import { applyTemperature, calibration, fitTemperature, type Calibration } from './calibration';
import { argmaxPredictions, binaryMetrics, binaryScores, type BinaryMetrics } from './metrics';
import { chooseOperatingPoint, type OperatingPoint } from './thresholdRules';

/** One split's scores as the worker keeps them after a run. */

export interface SplitReport {
  split: 'validation' | 'test';
  count: number;
  /** At the operating point; accuracy is the most probable class's for more than two classes. */
  metrics: BinaryMetrics;
  intervals: Record<IntervalMetric, Interval>;
  /** What the intervals resampled, and how many. */
  unit: 'patients' | 'images';
  units: number;
  /** Of the positive class's probability; after temperature scaling when `temperature` is set. */
  calibration: Calibration;
}

export interface EvaluationReport {
  positiveClass: number;
  operatingPoint: OperatingPoint;
  /** The temperature fitted on validation and applied to the calibration figures; null when off. */
  temperature: number | null;
  resamples: number;
  validation: SplitReport;
  /** Null when there is no test split (the validation figures then describe the split that chose the threshold). */
  test: SplitReport | null;
  /** Figures whose validation and test intervals do not overlap. */
  shift: ShiftFinding[];
}

export interface ShiftFinding {
  metric: IntervalMetric;
  validation: number;
  test: number;
}

export interface ReportOptions {
  numClasses: number;
  positiveClass: number;
  settings: EvalSettings;
  resamples?: number;
  seed?: number;
}

export function buildReport(
  validation: ScoredSplit,
  test: ScoredSplit | null,
  options: ReportOptions,
): EvaluationReport {
  const { numClasses, positiveClass, settings, resamples = DEFAULT_RESAMPLES, seed = 1 } = options;
  const validationScores = binaryScores({ ...validation, numClasses }, positiveClass);
  const operatingPoint = chooseOperatingPoint(
    settings.thresholdRule,
    settings.targetSensitivity,
    validationScores,
    validation.labels,
    positiveClass,
  );
  const width = numClasses === 2 ? 1 : numClasses;
  const temperature = settings.temperatureScaling ? fitTemperature(validation.scores, validation.labels, width) : null;
  const context = { numClasses, positiveClass, threshold: operatingPoint.threshold, temperature, resamples, seed };
  const validationReport = splitReport('validation', validation, context);
  const testReport = test ? splitReport('test', test, context) : null;
  return {
    positiveClass,
    operatingPoint,
    temperature,
    resamples,
    validation: validationReport,
    test: testReport,
    shift: testReport ? shiftFindings(validationReport, testReport) : [],
  };
}

interface SplitContext {
  numClasses: number;
  positiveClass: number;
  threshold: number;
  temperature: number | null;
  resamples: number;
  seed: number;
}

function splitReport(split: SplitReport['split'], set: ScoredSplit, context: SplitContext): SplitReport {
  const { numClasses, positiveClass, threshold, temperature, resamples, seed } = context;
  const result = { scores: set.scores, labels: set.labels, numClasses };
  const scores = binaryScores(result, positiveClass);
  const positive = Uint8Array.from(set.labels, (label) => (label === positiveClass ? 1 : 0));
  const metrics = binaryMetrics(scores, set.labels, positiveClass, threshold);
  // More than two classes: accuracy is the most probable class's, as the page's table shows it.
  let correct: Uint8Array | undefined;
  if (numClasses > 2) {
    const predicted = argmaxPredictions(result);
    correct = Uint8Array.from(set.labels, (label, i) => (predicted[i] === label ? 1 : 0));
    metrics.accuracy = correct.length ? correct.reduce((a, b) => a + b, 0) / correct.length : NaN;
  }
  const groups = set.groups?.subarray(0, set.labels.length);
  const boot = bootstrapIntervals({ scores, positive, threshold, correct, groups, resamples, seed });
  const calibrated =
    temperature === null
      ? scores
      : binaryScores(
          { ...result, scores: applyTemperature(set.scores, numClasses === 2 ? 1 : numClasses, temperature) },
          positiveClass,
        );
  return {
    split,
    count: set.labels.length,
    metrics,
    intervals: boot.intervals,
    unit: boot.unit,
    units: boot.units,
    calibration: calibration(calibrated, positive),
  };
}

/** The figures a shift shows in: validation and test intervals that do not overlap. */
const SHIFT_METRICS: readonly IntervalMetric[] = ['accuracy', 'sensitivity', 'specificity', 'auc'];

/** Figures on which validation and test disagree beyond what their 95% intervals explain (the intervals do not overlap). */
export function shiftFindings(
  validation: Pick<SplitReport, 'metrics' | 'intervals'>,
  test: Pick<SplitReport, 'metrics' | 'intervals'>,
): ShiftFinding[] {
  return SHIFT_METRICS.filter((m) => {
    const [vLow, vHigh] = validation.intervals[m];
    const [tLow, tHigh] = test.intervals[m];
    return tHigh < vLow || vHigh < tLow;
  }).map((metric) => ({ metric, validation: validation.metrics[metric], test: test.metrics[metric] }));
}

/** The threshold the reported figures use, for which class, and how it was chosen (in words). */
export interface ReportedThreshold {
  threshold: number;
  positiveClass: number;
  rule: string;
  /** The test-time augmentation the scores (and so the threshold) were made with; `off`: the model's own output. */
  testTimeAugmentation: TestTimeAugmentation;
  /** The whole report the Results show (figures, intervals, calibration), for the model card. */
  report: EvaluationReport;
}
