/**
 * The rows of how a run trains: the model, image size, epochs, batch size, learning rate and its schedule, seed,
 * early-stopping patience, backend and class weights (all read by the worker).
 */
import { BACKEND_CHOICES, CLASS_WEIGHTINGS, LEARNING_RATE_SCHEDULES, MODEL_NAMES } from './types';
import type { SettingsTable } from './settingRowTypes';

export const RUN_ROWS: Pick<
  SettingsTable,
  | 'model'
  | 'imageSize'
  | 'epochs'
  | 'batchSize'
  | 'learningRate'
  | 'learningRateSchedule'
  | 'seed'
  | 'patience'
  | 'backend'
  | 'classWeighting'
> = {
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
    // 0 (early stopping off, the last epoch kept), with the default acquisition augmentation: under it the
    // validation loss is lowest after 1-4 epochs, while BatchNorm's statistics still follow the augmented images,
    // so stopping there keeps a weak model (ACQUISITION_PRESET_SETTINGS in ui/training/augmentationSettings.ts).
    // Without augmentation 3 is the value (NO_AUGMENTATION_PRESET_SETTINGS): validation loss wobbles, and three
    // epochs in a row without a new low mean it has stopped improving. Runs saved before 2026-12-05 stored theirs.
    default: 0,
    min: 0,
    max: 500,
    integer: true,
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
};
