/**
 * The settings table's rows: one a setting, with its default, what it accepts, its form label, its URL
 * query key, its help text and who reads it. settings.ts holds what everyone does with them (defaults,
 * checks, URL text). A new setting is its field in types.ts plus one row here (the table's type asks
 * for a row for every field). Ground floor: imports only from src/core; no DOM, no tfjs.
 */
import {
  BACKEND_CHOICES,
  CLASS_WEIGHTINGS,
  GROUP_BYS,
  INTENSITY_NORMALISATIONS,
  THRESHOLD_RULES,
  LEARNING_RATE_SCHEDULES,
  TEST_TIME_AUGMENTATIONS,
  MODEL_NAMES,
  type AugmentationSettings,
  type EvalSettings,
  type Settings,
  type SplitSettings,
} from './types';

export type PlainKey = Exclude<keyof Settings, 'augmentation'>;
export type AugmentationKey = keyof AugmentationSettings;

/** Where a setting lives in `Settings`: a field, or `augmentation.<field>`. */
export type SettingPath = PlainKey | `augmentation.${AugmentationKey}`;

/** The type of the value at a path. */
export type SettingValue<P extends SettingPath> = P extends `augmentation.${infer K extends AugmentationKey}`
  ? AugmentationSettings[K]
  : P extends PlainKey
    ? Settings[P]
    : never;

/**
 * Who reads a setting: `train` the worker (a TrainSettings field), `split` only the page as it loads a dataset
 * (SplitSettings), `eval` the page's Results, which send it with each `evaluate` request (EvalSettings: no retraining).
 */
export type SettingUse = 'train' | 'split' | 'eval';

interface RowBase {
  /** The form field's accessible label (see docs/ui-contract.md: tests find fields by it). */
  label: string;
  /** The URL query key that presets it; also the form field's `name`. */
  query: string;
  use: SettingUse;
  /** A sentence the form shows as the field's tooltip. */
  hint?: string;
}

/** A number in `min..max` (a whole number when `integer`). */
export interface NumberRow extends RowBase {
  kind: 'number';
  default: number;
  min: number;
  max: number;
  integer: boolean;
  /** The form field's step; 1 for whole numbers and `any` otherwise when not given. */
  step?: number;
  /** What the number means; the form's tooltip says the range with it (`0 to 180: degrees either way`). */
  unit?: string;
  /** What a run saved before the setting existed trained with, where that is not the default (resuming it). */
  legacy?: number;
}

/** One of a fixed list of values. */
export interface ChoiceRow<T extends string = string> extends RowBase {
  kind: 'choice';
  default: T;
  values: readonly T[];
  /** What the form's list calls each value. */
  text: Readonly<Record<T, string>>;
  /** What a run saved before the setting existed trained with, where that is not the default (resuming it). */
  legacy?: T;
}

/** On or off (a checkbox; in the URL 1/true/on/yes or 0/false/off/no). */
export interface SwitchRow extends RowBase {
  kind: 'switch';
  default: boolean;
}

/** Free text (a text box), checked by `check` when given. */
export interface TextRow extends RowBase {
  kind: 'text';
  default: string;
  maxLength: number;
  /** Why a text cannot be used (starting with the label), or null. */
  check?: (text: string) => string | null;
}

export type SettingRow = NumberRow | ChoiceRow | SwitchRow | TextRow;

// A field typed plain `string` may be free text; a union of literals is always a list.
type StringRow<V extends string> = string extends V ? TextRow | ChoiceRow<V> : ChoiceRow<V>;
type RowFor<V> = [V] extends [number]
  ? NumberRow
  : [V] extends [boolean]
    ? SwitchRow
    : [V] extends [string]
      ? StringRow<V>
      : never;
type RowOf<P extends SettingPath> = RowFor<SettingValue<P>> & {
  use: P extends keyof SplitSettings ? 'split' : P extends keyof EvalSettings ? 'eval' : 'train';
};

/** An augmentation range (read by the worker): from 0, its default, which turns the change off, up to `max`; fractions too. */
/** Why `text` is not a regular expression JavaScript can use, naming the setting; null when it is one. */
function checkRegExp(label: string, text: string, emptyMeansOff = false): string | null {
  if (text === '' && emptyMeansOff) return null;
  if (text.trim() === '') return `${label} must be a regular expression, not empty.`;
  try {
    new RegExp(text);
    return null;
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
    return `${label} must be a valid regular expression (${detail}).`;
  }
}

function augmentationRange(
  label: string,
  query: string,
  max: number,
  step: number,
  unit: string,
): NumberRow & { use: 'train' } {
  return { kind: 'number', label, query, use: 'train', default: 0, min: 0, max, integer: false, step, unit };
}

/** Every setting, in the form's order (which is also the order of URL keys and of problems). */
export const SETTINGS: { readonly [P in SettingPath]: RowOf<P> } = {
  model: {
    kind: 'choice',
    label: 'Model',
    query: 'model',
    use: 'train',
    // The BatchNorm variant, by measurement (docs/benchmarks.md: a patient-grouped hold-out, 64 px, 3 seeds, the same
    // seeds for both): higher AUC on every seed, higher specificity and accuracy on average, sensitivity within noise.
    // The tutorial's CNN stays one choice away, exactly as the tutorial has it.
    default: 'batchnorm',
    values: MODEL_NAMES,
    text: {
      tutorial: "the Keras tutorial's CNN",
      batchnorm: 'the same with BatchNormalization',
    },
    hint: 'The network to train; both take the same images and give the same outputs',
  },
  // Defaults follow the Keras tutorial: 150 px, batch 32, RMSprop at 1e-3.
  imageSize: {
    kind: 'number',
    label: 'Image size',
    query: 'size',
    use: 'train',
    default: 150,
    // 31: the smallest side the CNN's four conv + pool blocks accept (model/cnn.ts minImageSize; cnn.test.ts
    // checks they agree). 512: the largest the form has offered (the tutorial uses 150 px); the first Dense
    // layer's weights grow with the square of the side, about 2 million at 512 px.
    min: 31,
    max: 512,
    integer: true,
  },
  epochs: {
    kind: 'number',
    label: 'Epochs',
    query: 'epochs',
    use: 'train',
    default: 10,
    min: 1,
    max: 500,
    integer: true,
  },
  batchSize: {
    kind: 'number',
    label: 'Batch size',
    query: 'batch',
    use: 'train',
    default: 32,
    min: 1,
    max: 1024,
    integer: true,
  },
  learningRate: {
    kind: 'number',
    label: 'Learning rate',
    query: 'lr',
    use: 'train',
    default: 0.001,
    min: 1e-6,
    max: 1,
    integer: false,
  },
  learningRateSchedule: {
    kind: 'choice',
    label: 'Learning-rate schedule',
    query: 'schedule',
    use: 'train',
    // Cosine, with weight decay 1 (below), by measurement (docs/benchmarks.md, leave one source out, 64 px, 4 folds x
    // 2 seeds): test accuracy higher on 8 of 8 fold x seed pairs (+0.0095 ± 0.0064), AUC higher on every fold's mean
    // (+0.0033 ± 0.0029 paired, 7 of 8). The tutorial's constant rate is one choice away.
    default: 'cosine',
    // Runs saved before this setting existed trained at a constant rate.
    legacy: 'constant',
    values: LEARNING_RATE_SCHEDULES,
    text: {
      constant: 'constant (as the tutorial)',
      cosine: 'cosine decay to 0 by the last batch',
    },
    hint: 'Cosine: the learning rate falls smoothly from the value above to 0 at the last batch of the last epoch',
  },
  seed: {
    kind: 'number',
    label: 'Seed',
    query: 'seed',
    use: 'train',
    default: 1,
    min: 0,
    max: 2 ** 31 - 1,
    integer: true,
  },
  patience: {
    kind: 'number',
    label: 'Patience',
    query: 'patience',
    use: 'train',
    // 3: validation loss on a few hundred images wobbles from epoch to epoch, so one or two epochs without a new
    // low are common noise in the tutorial's 10 epochs; three in a row mean it has stopped improving (and the
    // best epoch's weights are restored, so waiting costs time, never accuracy).
    default: 3,
    min: 0,
    max: 500,
    integer: true,
  },
  validationPercent: {
    kind: 'number',
    label: 'Validation size',
    query: 'val',
    use: 'split',
    // 10%: the share of train held out when the val folder is too small (data/splits.ts).
    default: 10,
    min: 1,
    max: 50,
    integer: true,
    hint: 'Percent of each class of train held out for validation when the val folder has fewer than 10 images a class',
  },
  testPercent: {
    kind: 'number',
    label: 'Test hold-out',
    query: 'holdout',
    use: 'split',
    // 0: without a test folder the page evaluates on validation, as before; `bench:accuracy` asks for 15.
    default: 0,
    min: 0,
    max: 50,
    integer: true,
    hint: 'Percent of each class of train held out as the test split when the archive has no test folder (0: none)',
  },
  testPattern: {
    kind: 'text',
    label: 'Test hold-out pattern',
    query: 'testre',
    use: 'split',
    // Empty: the Test hold-out percent decides. A pattern holds out what the names say (a series, a site), so the
    // test split can differ from training as a new source does; bench:accuracy uses it for a shift check.
    default: '',
    maxLength: 200,
    check: (text) => checkRegExp('Test hold-out pattern', text, true),
    hint: 'When the archive has no test folder: the train images whose file name matches this regular expression (whole patients) become the test split instead of a random share',
  },
  groupBy: {
    kind: 'choice',
    label: 'Group by',
    query: 'group',
    use: 'split',
    // By patient: the dataset has several images a patient, and an image-level split leaks them (issue 10).
    default: 'patient',
    values: GROUP_BYS,
    text: {
      patient: 'patient (from file name)',
      regex: 'custom regular expression',
      none: 'none (each image alone)',
    },
    hint: 'Validation and the test hold-out never split a patient: images of one patient stay on one side',
  },
  groupPattern: {
    kind: 'text',
    label: 'Patient pattern',
    query: 'groupre',
    use: 'split',
    // The built-in patterns as one expression, a starting point to edit.
    default: '^(person\\d+|(?:NORMAL\\d*-)?IM-\\d+)',
    maxLength: 200,
    check: (text) => checkRegExp('Patient pattern', text),
    hint: 'With Group by = custom regular expression: matched against each file name; the first capture group (else the whole match) names the patient',
  },
  backend: {
    kind: 'choice',
    label: 'Backend',
    query: 'backend',
    use: 'train',
    default: 'auto',
    values: BACKEND_CHOICES,
    text: {
      auto: 'auto (fastest available)',
      webgpu: 'WebGPU',
      webgl: 'WebGL (GPU)',
      wasm: 'WebAssembly (CPU)',
      cpu: 'plain JavaScript (CPU)',
    },
  },
  classWeighting: {
    kind: 'choice',
    label: 'Class weights',
    query: 'weights',
    use: 'train',
    // Balanced: the chest X-ray train split is 3:1 PNEUMONIA:NORMAL, and unweighted the model leans to the majority.
    default: 'balanced',
    values: CLASS_WEIGHTINGS,
    text: {
      balanced: 'balanced (rarer classes weigh more)',
      none: 'none (every image weighs the same)',
    },
  },
  thresholdRule: {
    kind: 'choice',
    label: 'Threshold rule',
    query: 'rule',
    use: 'eval',
    // Target sensitivity (95%, on validation), measured (docs/benchmarks.md: 64 px, 3 seeds): on a patient hold-out
    // from train's own sources it scores as 0.5 does (accuracy 0.964 both); on a held-out series the model never saw
    // (the NORMAL2 normals and patients 1400+) it keeps specificity where 0.5 loses it (0.94 against 0.86; accuracy
    // 0.940 against 0.924). The public test folder fails on specificity too. 0.5 and Youden's J are one click away.
    default: 'sensitivity',
    values: THRESHOLD_RULES,
    text: {
      fixed: '0.5 (fixed)',
      youden: 'maximum Youden J (on validation)',
      sensitivity: 'target sensitivity (on validation)',
    },
    hint: 'How the threshold of the reported figures is chosen, always on validation and then applied to test; changes the Results at once',
  },
  targetSensitivity: {
    kind: 'number',
    label: 'Target sensitivity',
    query: 'sens',
    use: 'eval',
    default: 95,
    min: 50,
    max: 100,
    integer: false,
    step: 0.5,
    unit: 'percent of the validation positives the target sensitivity rule must find',
  },
  temperatureScaling: {
    kind: 'switch',
    label: 'Temperature scaling',
    query: 'temp',
    use: 'eval',
    // Off: the figures then describe the model exactly as it is downloaded.
    default: false,
    hint: 'Fit one temperature on validation and apply it to the scores of the calibration figures (decisions do not change)',
  },
  // Augmentation is off by default, by measurement: it cost held-out accuracy (see TUTORIAL_AUGMENTATION in
  // ui/training/augmentationSettings.ts for the runs, and for the tutorial-like values one click away).
  'augmentation.rotation': augmentationRange('Rotation', 'rot', 180, 1, 'degrees either way'),
  'augmentation.zoom': augmentationRange('Zoom', 'zoom', 0.9, 0.05, 'e.g. 0.2 = 0.8 to 1.2 times'),
  'augmentation.shift': augmentationRange('Shift', 'shift', 0.5, 0.05, 'fraction of width and height'),
  'augmentation.shear': augmentationRange('Shear', 'shear', 45, 1, 'degrees either way'),
  'augmentation.brightness': augmentationRange('Brightness', 'bright', 0.9, 0.05, 'e.g. 0.2 = 0.8 to 1.2 times'),
  'augmentation.horizontalFlip': {
    kind: 'switch',
    label: 'Horizontal flip',
    query: 'flip',
    use: 'train',
    // Off: chest anatomy is not symmetric (the heart lies left); a mirrored chest is not a real one.
    default: false,
  },
  intensityNormalisation: {
    kind: 'choice',
    label: 'Intensity normalisation',
    query: 'norm',
    use: 'train',
    // None: the tutorial's model; per-image standardisation is measured in docs/model-levers.md.
    default: 'none',
    values: INTENSITY_NORMALISATIONS,
    text: {
      none: 'none (pixel / 255, as the tutorial)',
      'per-image': 'per-image standardisation (first layer of the model)',
    },
    hint: "The model's first layer: each image minus its own mean, divided by its own standard deviation, so that exposure and contrast differences between machines count less; part of every export",
  },
  // Acquisition changes (issue 23): what another detector, exposure or processing does to a film. Off by default;
  // docs/benchmarks.md has the leave-one-source-out runs.
  'augmentation.contrast': augmentationRange('Contrast', 'contrast', 0.9, 0.05, 'e.g. 0.3 = 0.7 to 1.3 times'),
  'augmentation.gamma': augmentationRange('Gamma', 'gamma', 2, 0.05, 'e.g. 0.3 = gamma 1/1.3 to 1.3'),
  'augmentation.blur': augmentationRange('Blur', 'blur', 4, 0.25, 'Gaussian sigma in pixels, mixed in 0 to 100%'),
  'augmentation.noise': augmentationRange('Noise', 'noise', 0.2, 0.01, 'standard deviation up to this, pixels 0..1'),
  // Training-recipe variants (issue 23), each off by default; docs/benchmarks.md has the leave-one-source-out runs.
  labelSmoothing: {
    kind: 'number',
    label: 'Label smoothing',
    query: 'smooth',
    use: 'train',
    default: 0,
    min: 0,
    max: 0.5,
    integer: false,
    step: 0.05,
    unit: 'share of each training target spread evenly over the classes',
  },
  mixup: {
    kind: 'number',
    label: 'Mixup',
    query: 'mixup',
    use: 'train',
    default: 0,
    // Up to 1: the Beta draw below is Jöhnk's, quick only for alpha <= 1, and mixup's papers use 0.1 to 0.4.
    min: 0,
    max: 1,
    integer: false,
    step: 0.05,
    unit: 'alpha of Beta(alpha, alpha): training images blended in pairs, labels alike',
  },
  weightDecay: {
    kind: 'number',
    label: 'Weight decay',
    query: 'wd',
    use: 'train',
    // 1, with the cosine schedule (above): measured together, leave one source out. Runs saved before it had none.
    default: 1,
    legacy: 0,
    min: 0,
    max: 10,
    integer: false,
    step: 0.01,
    unit: 'decoupled from RMSprop: each step shrinks the kernels by learning rate x this',
  },
  testTimeAugmentation: {
    kind: 'choice',
    label: 'Test-time augmentation',
    query: 'tta',
    use: 'eval',
    // Off: the figures then describe the model exactly as it is downloaded (a runtime scores one view).
    default: 'off',
    values: TEST_TIME_AUGMENTATIONS,
    text: {
      off: 'off (one view)',
      'shift-scale': 'mean over 7 views (shifts, scales)',
      'shift-scale-flip': 'mean over 14 views (the same, mirrored too)',
    },
    hint: 'Score validation, test and Predict as the mean over small shifts (4% of the side) and scales (0.95, 1.05) of each image; the threshold is chosen on validation scored the same way',
  },
};
