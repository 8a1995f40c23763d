/**
 * The acquisition shifts the Results' stress test applies to a sample of the evaluated split (worker/
 * acquisitionShifts.ts does them; eval/shiftMetrics.ts scores them): what another scanner or site can do to a film.
 */

/** The shifts, in the order the page shows them; `as is` is the unshifted baseline. */
export const ACQUISITION_SHIFTS = [
  'as is',
  'blurred',
  'low resolution',
  'tighter framing',
  'contrast halved',
  'brighter (gamma 0.5)',
  'darker (gamma 2)',
  'noise',
  'inverted',
] as const;

export type AcquisitionShift = (typeof ACQUISITION_SHIFTS)[number];

/** At most this many images of the split are scored (every k-th, so the sample is the same each time). */
export const SHIFT_SAMPLE_MAX = 200;

/** One shift's scores of the sampled images. */
export interface ShiftedScores {
  shift: AcquisitionShift;
  /** As `TestResult.scores`: P(class 1) an image for 2 classes, else the class probabilities row after row. */
  scores: Float32Array;
  /** 1 where the image was judged unlike the training data; null when the model carries no detector. */
  unlike: Uint8Array | null;
}

/** What the worker returns for a shift check: the sample's labels and each shift's scores, in ACQUISITION_SHIFTS order. */
export interface ShiftCheckScores {
  /** The split sampled: test, or validation where there is no test split. */
  split: 'test' | 'validation';
  /** Images in that split, of which `labels.length` were sampled. */
  splitCount: number;
  numClasses: number;
  labels: Uint8Array;
  shifts: ShiftedScores[];
}

/** The indices of the sample: every k-th image of `count`, at most `max` of them. */
export function shiftSampleIndices(count: number, max = SHIFT_SAMPLE_MAX): number[] {
  const step = Math.max(1, Math.ceil(count / max));
  const indices: number[] = [];
  for (let i = 0; i < count && indices.length < max; i += step) indices.push(i);
  return indices;
}
