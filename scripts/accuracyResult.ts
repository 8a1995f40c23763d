/** What one bench:accuracy run (a variant, a fold, a seed) yields: its figures as the page reported them. */

/** A figure and its 95% bootstrap interval (NaN ends when the page gives none). */
export interface Figure {
  value: number;
  low: number;
  high: number;
}

export const FIGURES = ['accuracy', 'AUC', 'sensitivity', 'specificity'] as const;
export type FigureName = (typeof FIGURES)[number];

/**
 * How good the model's decisions are on one set of images predicted in the page (scripts/shiftFigures.ts), at the
 * page's threshold; NaN (null once saved) where a figure has no images to count.
 */
export interface ShiftFigures {
  images: number;
  accuracy: number;
  sensitivity: number;
  specificity: number;
  AUC: number;
  /** How many the page flagged unlike the training data; NaN when the model cannot judge. */
  flagged: number;
  /** Accuracy of the flagged images and of the others: does the detector flag what the model gets wrong? */
  flaggedAccuracy: number;
  unflaggedAccuracy: number;
  /**
   * How many flagged images owe their scores most to less or more fine detail than the training films, or to the
   * network's early or later layers (the page's `unlike_why`); absent where the page gives no reasons.
   */
  reasons?: Record<'softer' | 'sharper' | 'early' | 'later', number>;
}

/** The figures of a set that are numbers (all but the reasons). */
export type ShiftFigureName = Exclude<keyof ShiftFigures, 'reasons'>;

export interface SeedResult {
  /** The variant's label. */
  model: string;
  /** The leave-one-source-out fold (`--folds`), or `hold-out` without folds. */
  fold: string;
  seed: number;
  /** On the evaluated split (the test folder, else the test hold-out), at the threshold the page reports. */
  test: Record<FigureName, Figure>;
  /** The same on validation (patient-grouped by default), from the `Validation and test` table; null when absent. */
  validation: Record<FigureName, Figure> | null;
  /** The page's threshold line, e.g. `threshold 0.5, fixed at 0.5, applied to test`. */
  threshold: string;
  /** Main-thread tasks over 50 ms from Train to the results: count and longest (ms). */
  longTasks: { count: number; longest: number };
  loadS: number;
  trainS: number;
  totalS: number;
  epochs: number;
  bestEpoch: string;
  backend: string;
  testImages: string;
  outcome: string;
  /** The test figures at the threshold each other rule chooses on validation (`fixed`, `youden`, `sensitivity`), and its line. */
  rules: Record<string, { figures: Record<FigureName, Figure>; threshold: string }>;
  /** The test figures at the run's rule with test-time augmentation `shift-scale` (7 views); null where not offered. */
  tta: Record<FigureName, Figure> | null;
  /** The test figures with BatchNorm re-estimated on the test images (test-time adaptation); null without BatchNorm. */
  adapted: Record<FigureName, Figure> | null;
  /** Each evaluated image's label and probability of each class, from the page's `Download test predictions (CSV)`. */
  predictions: { file: string; label: string; probabilities: number[] }[];
  classNames: string[];
  /** Share of each evaluated split's images the page calls unlike the training data (`ood-summary`); NaN when not judged. */
  unlike: { validation: number; test: number };
  /**
   * Share flagged of each synthetic shift of a sample of the test split (scripts/oodShifts.ts), and of `--ood-extra`'s
   * images; absent in runs saved before it.
   */
  shifted?: Record<string, number>;
  /**
   * The decisions' figures on the same sets (`as is`: the sample unchanged, each shift's baseline), and on
   * `--ood-extra`'s images when their paths name the classes; absent in runs saved before it.
   */
  shiftedFigures?: Record<string, ShiftFigures>;
}

// Every rule but the run's own (the default, or --rule) is read after training.
export const OTHER_RULES = ['fixed', 'youden', 'sensitivity'];
