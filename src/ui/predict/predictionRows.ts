/**
 * The Predict table's rows from the worker's answers, as plain data (tested in Node): the predicted class at
 * the page's decision threshold, sorting, filtering, and the CSV a person downloads.
 */
import type { Predictions } from '../../worker/protocol';
import type { ModelMetadata } from '../../core/types';
import { unlikeWhySentence } from '../common/oodText';

export interface PredictionRow {
  /** Position in the decoded images (and in the maps). */
  index: number;
  name: string;
  /** Probability of each class. */
  probabilities: number[];
  predicted: number;
  /** Whether the image is unlike the training data; null when the model carries no detector. */
  unlike: boolean | null;
  /** For a flagged image, what its score owes most to, in words; null when not flagged or the detector cannot say. */
  unlikeWhy: string | null;
}

/** How the page decides: for two classes, `positiveClass` when its probability is at least `threshold`; else the most probable. */
export interface Decision {
  positiveClass: number;
  threshold: number;
}

export function predictionRows(
  names: string[],
  predictions: Pick<Predictions, 'scores'> & Partial<Pick<Predictions, 'ood'>>,
  numClasses: number,
  decision: Decision,
): PredictionRow[] {
  const width = numClasses === 2 ? 1 : numClasses;
  const ood = predictions.ood ?? null;
  return names.map((name, index) => {
    const probabilities =
      width === 1
        ? [1 - predictions.scores[index], predictions.scores[index]]
        : Array.from(predictions.scores.subarray(index * width, (index + 1) * width));
    const unlike = ood ? ood.distances[index] > ood.threshold : null;
    const unlikeWhy = ood && unlike ? unlikeWhySentence(ood, index) : null;
    return { index, name, probabilities, predicted: decide(probabilities, decision), unlike, unlikeWhy };
  });
}

export function decide(probabilities: number[], { positiveClass, threshold }: Decision): number {
  if (probabilities.length === 2) return probabilities[positiveClass] >= threshold ? positiveClass : 1 - positiveClass;
  let best = 0;
  for (let c = 1; c < probabilities.length; c++) if (probabilities[c] > probabilities[best]) best = c;
  return best;
}

export type SortKey = { by: 'name' } | { by: 'class'; classIndex: number };

/**
 * Which rows the table shows: all, those predicted one class, or those the model's detector judged unlike (or like)
 * its training data: a person checking films from a new site looks at the flagged ones first.
 */
export type RowFilter = { only: 'all' } | { only: 'class'; classIndex: number } | { only: 'unlike' | 'like' };

export const ALL_ROWS: RowFilter = { only: 'all' };

function kept(row: PredictionRow, filter: RowFilter): boolean {
  switch (filter.only) {
    case 'all':
      return true;
    case 'class':
      return row.predicted === filter.classIndex;
    case 'unlike':
      return row.unlike === true;
    case 'like':
      return row.unlike === false;
  }
}

/** Rows shown: those `filter` keeps, sorted by file name or by a class's probability (highest first). */
export function visibleRows(rows: PredictionRow[], filter: RowFilter, sort: SortKey): PredictionRow[] {
  const shown = rows.filter((r) => kept(r, filter));
  if (sort.by === 'name') return shown.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  return shown.sort((a, b) => b.probabilities[sort.classIndex] - a.probabilities[sort.classIndex] || a.index - b.index);
}

/**
 * One CSV line a row, in the order given: file, a probability column per class, the predicted class, the threshold;
 * then, when the model judges whether an image is unlike its training data, `unlike_training_data` (yes / no) and
 * `unlike_why` (what a flagged image's score owes most to).
 */
export function predictionsCsv(rows: PredictionRow[], classNames: string[], decision: Decision): string {
  const binary = classNames.length === 2;
  const judged = rows.some((r) => r.unlike !== null);
  const header = [
    'file',
    ...classNames.map((c) => `probability_${c}`),
    'predicted_class',
    'threshold',
    ...(judged ? ['unlike_training_data', 'unlike_why'] : []),
  ];
  const threshold = binary ? String(decision.threshold) : 'argmax';
  const lines = rows.map((r) => [
    r.name,
    ...r.probabilities.map((p) => p.toFixed(6)),
    classNames[r.predicted],
    threshold,
    ...(judged ? [r.unlike ? 'yes' : 'no', r.unlikeWhy ?? ''] : []),
  ]);
  return [header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break; a leading =+-@ is defused for spreadsheets. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@]/.test(value) && !/^-?\d/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * The decision Predict uses: the Results' operating point when there are Results; for a loaded model, the one its
 * metadata says its figures used; else 0.5 on the default positive class.
 */
export function decisionOf(
  reported: Decision | null,
  metadata: Pick<ModelMetadata, 'threshold' | 'thresholdClass'> | null,
  classNames: string[],
  defaultPositive: number,
): Decision {
  if (reported) return { positiveClass: reported.positiveClass, threshold: reported.threshold };
  const loadedClass = metadata?.thresholdClass ? classNames.indexOf(metadata.thresholdClass) : -1;
  return { positiveClass: loadedClass >= 0 ? loadedClass : defaultPositive, threshold: metadata?.threshold ?? 0.5 };
}
