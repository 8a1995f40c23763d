/**
 * The rows of the training recipe beyond the tutorial's (read by the worker): intensity normalisation, label
 * smoothing, mixup, weight decay and the snapshot ensemble.
 */
import { INTENSITY_NORMALISATIONS, OOD_LAYER_CHOICES } from './types';
import type { SettingsTable } from './settingRowTypes';

export const RECIPE_ROWS: Pick<
  SettingsTable,
  'intensityNormalisation' | 'labelSmoothing' | 'mixup' | 'weightDecay' | 'snapshots' | 'seedModels' | 'ood'
> = {
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
  snapshots: {
    kind: 'number',
    label: 'Snapshot ensemble',
    query: 'snapshots',
    use: 'train',
    // 1: a single model. docs/model-levers.md has the leave-one-source-out comparison.
    default: 1,
    min: 1,
    max: 5,
    integer: true,
    unit: 'members: the epochs split into this many cosine cycles, the weights at each cycle end averaged as one model',
    hint:
      'Snapshot ensemble (Huang et al. 2017): the same training time as one model. The learning rate restarts at its ' +
      'value at the start of each cycle and falls along a cosine (also with schedule constant: the restarts make ' +
      'the snapshots differ); early stopping does not stop such a run. The saved model is one network K times as ' +
      'wide that outputs the mean of its members; two classes only; it cannot be trained further or resumed',
  },
  seedModels: {
    kind: 'number',
    label: 'Seed ensemble',
    query: 'seedModels',
    use: 'train',
    // 1: a single model. docs/model-levers.md has the leave-one-source-out comparison.
    default: 1,
    min: 1,
    max: 5,
    integer: true,
    unit: 'members: whole runs one after another, each from its own seed, averaged as one model',
    hint:
      'Seed ensemble (a deep ensemble, Lakshminarayanan et al. 2017): K times the training time of one model. Each ' +
      'member is the whole run a single model would be (its epochs, schedule, early stopping), initialised and ' +
      'shuffled with seed + 1009 x k. The saved model is one network K times as wide that outputs the mean of its ' +
      'members; two classes only; not together with Snapshot ensemble',
  },
  ood: {
    kind: 'choice',
    label: 'Unlike-training detector',
    query: 'ood',
    use: 'train',
    // docs/out-of-distribution.md has the measurement behind the default (leave one source out, synthetic shifts).
    default: 'detail',
    // Runs saved before the feature ensemble fitted the last hidden layer's detector.
    legacy: 'last',
    values: OOD_LAYER_CHOICES,
    text: {
      detail: 'several layers and image detail',
      layers: 'several layers (Lee et al. feature ensemble)',
      last: 'last hidden layer only',
    },
    hint:
      'Which features judge whether an image is unlike the training images (fitted after training): the four ' +
      "convolution blocks' maps averaged over space, the last hidden layer and the image's fine detail at four " +
      'scales (which sees blur, low resolution and tighter framing); the same without the detail; or the last ' +
      'hidden layer alone. About 5% of validation is flagged whichever',
  },
};
