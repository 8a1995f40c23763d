/**
 * The values each choice among the settings may take, and their lists in the order the settings form offers them.
 * No DOM, no tfjs.
 */

/** Backends the user may pick; `auto` lets the worker choose. */
export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

/**
 * The networks one can train (model/models.ts builds each): the Keras tutorial's CNN exactly as it is, and the
 * same four blocks with BatchNormalization after each convolution.
 */
export type ModelName = 'tutorial' | 'batchnorm';
export const MODEL_NAMES: readonly ModelName[] = ['tutorial', 'batchnorm'];

export type ClassWeighting = 'balanced' | 'none';
export const CLASS_WEIGHTINGS: readonly ClassWeighting[] = ['balanced', 'none'];

/** How the learning rate moves over a run: held (the tutorial), or cosine decay to 0 over the run's steps. */
export type LearningRateSchedule = 'constant' | 'cosine';
export const LEARNING_RATE_SCHEDULES: readonly LearningRateSchedule[] = ['constant', 'cosine'];

/**
 * What the model does to each image before its first convolution, as its first layer (model/intensityNormalisation.ts):
 * nothing, or per-image standardisation (subtract the image's mean, divide by max(its std, 1/sqrt(pixels))), as
 * tf.image.per_image_standardization. Part of the model, so every use and every export of it sees the same.
 */
export type IntensityNormalisation = 'none' | 'per-image';
export const INTENSITY_NORMALISATIONS: readonly IntensityNormalisation[] = ['none', 'per-image'];

/** `patient`: from file names of the chest X-ray dataset's shapes; `regex`: a pattern of one's own; `none`: each image alone. */
export type GroupBy = 'patient' | 'regex' | 'none';
export const GROUP_BYS: readonly GroupBy[] = ['patient', 'regex', 'none'];

/** How the decision threshold of the reported figures is chosen, on validation (eval/thresholdRules.ts). */
export type ThresholdRule = 'fixed' | 'youden' | 'sensitivity';
export const THRESHOLD_RULES: readonly ThresholdRule[] = ['fixed', 'youden', 'sensitivity'];

/**
 * Test-time augmentation (worker/testTimeAugmentation.ts): each image scored as it is, or as the mean of its scores
 * over a few small shifts and scales of it, and their mirror images too.
 */
export type TestTimeAugmentation = 'off' | 'shift-scale' | 'shift-scale-flip';
export const TEST_TIME_AUGMENTATIONS: readonly TestTimeAugmentation[] = ['off', 'shift-scale', 'shift-scale-flip'];
/** How many views each kind scores an image over (testTimeAugmentation.test.ts checks the worker agrees). */
export const TTA_VIEW_COUNT: Readonly<Record<TestTimeAugmentation, number>> = {
  off: 1,
  'shift-scale': 7,
  'shift-scale-flip': 14,
};

/**
 * Which out-of-distribution detector a run fits after training (docs/out-of-distribution.md): Lee et al.'s feature
 * ensemble over several layers (model/features.ts' OOD_LAYERS) with the image's fine detail at four scales beside
 * them (`detail`), the same without it (`layers`), or the Dense layer before the output alone (`last`).
 */
export type OodLayerChoice = 'detail' | 'layers' | 'last';
export const OOD_LAYER_CHOICES: readonly OodLayerChoice[] = ['detail', 'layers', 'last'];
