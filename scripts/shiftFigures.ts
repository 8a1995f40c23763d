/**
 * How good the model's decisions are on a set of images predicted in the page (scripts/oodShifts.ts): each image's
 * true class from its archive path, the page's decision and probability from `predictions.csv`, and whether the page
 * flagged it unlike the training data; then accuracy, sensitivity, specificity and AUC at the page's threshold, and the
 * accuracy of the flagged and of the unflagged images apart. Pure: text and rows in, figures out.
 */
import Papa from 'papaparse';
import { rocAuc } from '../src/eval/metrics';
import type { ShiftFigureName, ShiftFigures } from './accuracyResult';
import { SHIFT_NAMES } from './shiftImages';

/** One row of Predict's `predictions.csv`. */
export interface PredictedFile {
  file: string;
  probabilities: number[];
  predicted: string;
  /** `unlike_why`: for a flagged image, what its score owes most to (empty otherwise); absent in older CSVs. */
  why?: string;
}

/** What a flagged image's score owes most to, as the page words it (`unlike_why`); null when it does not say. */
export type FlagReason = keyof NonNullable<ShiftFigures['reasons']>;
export const FLAG_REASONS: readonly FlagReason[] = ['softer', 'sharper', 'early', 'later'];

/** The reason a page's `unlike_why` sentence names (ui/common/oodText.ts' words); null when none. */
export function flagReasonOf(why: string | undefined): FlagReason | null {
  if (!why) return null;
  if (/(?:mostly|most of all) by less fine detail/.test(why)) return 'softer';
  if (/(?:mostly|most of all) by more fine detail/.test(why)) return 'sharper';
  if (/(?:mostly|most of all) by the network's early layers/.test(why)) return 'early';
  if (/(?:mostly|most of all) by the network's later layers/.test(why)) return 'later';
  return null;
}

/** Predict's `predictions.csv` (`file,probability_<class>…,predicted_class,threshold`), read with its class names. */
export function parsePredictionsCsv(text: string): { classNames: string[]; rows: PredictedFile[]; threshold: string } {
  const { data } = Papa.parse<string[]>(text.trim(), { skipEmptyLines: true });
  const [header, ...lines] = data;
  const classNames = (header ?? []).filter((h) => h.startsWith('probability_')).map((h) => h.slice(12));
  const predictedAt = header?.indexOf('predicted_class') ?? -1;
  const whyAt = header?.indexOf('unlike_why') ?? -1;
  if (classNames.length === 0 || predictedAt < 0 || header[0] !== 'file')
    throw new Error(`Not Predict's predictions.csv: header ${JSON.stringify(header ?? [])}`);
  const rows = lines.map((cells) => {
    if (cells.length !== header.length) throw new Error(`predictions.csv: a row of ${cells.length} cells`);
    return {
      file: cells[0],
      probabilities: cells.slice(1, 1 + classNames.length).map(Number),
      predicted: cells[predictedAt],
      ...(whyAt >= 0 ? { why: cells[whyAt] } : {}),
    };
  });
  return { classNames, rows, threshold: lines[0]?.[header.indexOf('threshold')] ?? '' };
}

/** The class a path names (its last folder that is a class name, e.g. `chest_xray/train/NORMAL/x.jpeg`); -1: none. */
export function classOfPath(path: string, classNames: string[]): number {
  const folders = path.split(/[\\/]/).slice(0, -1).reverse();
  for (const folder of folders) {
    const index = classNames.indexOf(folder);
    if (index >= 0) return index;
  }
  return -1;
}

/** One image of a set: its true class, the page's decision, the positive class's probability, the page's flag. */
export interface JudgedImage {
  label: number;
  predicted: number;
  score: number;
  /** Unlike the training data; null when the model cannot judge. */
  unlike: boolean | null;
  /** For a flagged image, what its score owes most to; null when the page does not say. */
  reason?: FlagReason | null;
}

const share = (hits: number, of: number) => (of > 0 ? hits / of : Number.NaN);

/** The set's figures for `positive` (the page's decisions as they are: the threshold is the page's). */
export function decisionFigures(images: JudgedImage[], positive: number): ShiftFigures {
  const right = (i: JudgedImage) => i.predicted === i.label;
  const positives = images.filter((i) => i.label === positive);
  const negatives = images.filter((i) => i.label !== positive);
  const flagged = images.filter((i) => i.unlike === true);
  const unflagged = images.filter((i) => i.unlike === false);
  const judged = images.some((i) => i.unlike !== null);
  return {
    images: images.length,
    accuracy: share(images.filter(right).length, images.length),
    sensitivity: share(positives.filter(right).length, positives.length),
    specificity: share(negatives.filter(right).length, negatives.length),
    // Both classes are needed to rank one above the other.
    AUC:
      positives.length > 0 && negatives.length > 0
        ? rocAuc(
            images.map((i) => i.score),
            images.map((i) => i.label === positive),
          )
        : Number.NaN,
    flagged: judged ? flagged.length : Number.NaN,
    flaggedAccuracy: share(flagged.filter(right).length, flagged.length),
    unflaggedAccuracy: share(unflagged.filter(right).length, unflagged.length),
    ...(flagged.some((i) => i.reason) ? { reasons: reasonCounts(flagged) } : {}),
  };
}

/** How many of the flagged images the page says owe their scores to each reason. */
function reasonCounts(flagged: JudgedImage[]): Record<FlagReason, number> {
  const counts = { softer: 0, sharper: 0, early: 0, later: 0 };
  for (const image of flagged) if (image.reason) counts[image.reason]++;
  return counts;
}

/**
 * The images of a predicted set, matched by file to the page's flags (`unlike`, from the `Predictions` table) and to
 * each file's archive path (`pathOf`: the name the page shows → the path that names its class); files whose class no
 * path names are left out.
 */
export function judgedImages(
  csv: { classNames: string[]; rows: PredictedFile[] },
  unlike: Map<string, boolean>,
  pathOf: (file: string) => string,
  positive: number,
): JudgedImage[] {
  return csv.rows.flatMap((row) => {
    const label = classOfPath(pathOf(row.file), csv.classNames);
    if (label < 0) return [];
    const flag = unlike.get(row.file);
    return [
      {
        label,
        predicted: csv.classNames.indexOf(row.predicted),
        score: row.probabilities[positive],
        unlike: flag === undefined ? null : flag,
        reason: flag ? flagReasonOf(row.why) : null,
      },
    ];
  });
}

/**
 * The shifts that the means of the lever tables average: every acquisition shift (not `inverted`: no scanner makes
 * one, it is there for the detector; not `as is`, the baseline), and those no lever trains on (held out).
 */
export const ACQUISITION_SHIFTS: string[] = SHIFT_NAMES.filter((s) => s !== 'inverted');
export const HELD_OUT_SHIFTS = ['sharpen', 'equalize', 'low-res'];

/** The mean of `figure` over `shifts` of one run; NaN when any is missing (a mean over fewer would not compare). */
export function meanOverShifts(
  figures: Record<string, ShiftFigures>,
  shifts: string[],
  figure: ShiftFigureName,
): number {
  const values = shifts.map((s) => figures[s]?.[figure] ?? Number.NaN);
  return values.every(Number.isFinite) ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}
