/**
 * The figures of the acquisition-shift check (core/acquisitionShifts.ts) at the page's threshold: per shift,
 * accuracy, sensitivity, specificity and AUC of the sampled images (accuracy alone, of the most probable class, for
 * more than two classes), the share judged unlike the training data, and the shift that hurts most.
 */
import type { AcquisitionShift, ShiftCheckScores } from '../core/acquisitionShifts';
import { binaryMetrics, binaryScores, multiClassMetrics } from './metrics';

export interface ShiftRow {
  shift: AcquisitionShift;
  count: number;
  accuracy: number;
  /** NaN for more than two classes (and where a class is missing from the sample). */
  sensitivity: number;
  specificity: number;
  auc: number;
  /** Share of the images judged unlike the training data; null without a detector. */
  unlikeShare: number | null;
}

/** Each shift's figures, in the check's order, with images of `positiveClass` at >= `threshold` called positive. */
export function shiftRows(check: ShiftCheckScores, positiveClass: number, threshold: number): ShiftRow[] {
  const { labels, numClasses } = check;
  return check.shifts.map(({ shift, scores, unlike }) => {
    const result = { scores, labels, numClasses };
    const unlikeShare = unlike ? unlike.reduce((a, b) => a + b, 0) / Math.max(1, unlike.length) : null;
    if (numClasses > 2) {
      const { accuracy } = multiClassMetrics(result);
      return { shift, count: labels.length, accuracy, sensitivity: NaN, specificity: NaN, auc: NaN, unlikeShare };
    }
    const m = binaryMetrics(binaryScores(result, positiveClass), labels, positiveClass, threshold);
    return {
      shift,
      count: labels.length,
      accuracy: m.accuracy,
      sensitivity: m.sensitivity,
      specificity: m.specificity,
      auc: m.auc,
      unlikeShare,
    };
  });
}

/** The shift with the largest fall of sensitivity or specificity from `as is`; null when none falls. */
export interface WorstShift {
  row: ShiftRow;
  metric: 'sensitivity' | 'specificity' | 'accuracy';
  from: number;
  to: number;
}

/** The largest fall of sensitivity or specificity (accuracy for more than two classes) against the `as is` row. */
export function worstShift(rows: readonly ShiftRow[]): WorstShift | null {
  const base = rows.find((r) => r.shift === 'as is');
  if (!base) return null;
  const metrics: WorstShift['metric'][] = Number.isNaN(base.sensitivity + base.specificity)
    ? ['accuracy']
    : ['specificity', 'sensitivity'];
  let worst: WorstShift | null = null;
  for (const row of rows) {
    if (row === base) continue;
    for (const metric of metrics) {
      const drop = base[metric] - row[metric];
      if (drop > 0 && (!worst || drop > worst.from - worst.to))
        worst = { row, metric, from: base[metric], to: row[metric] };
    }
  }
  return worst;
}
