/**
 * A model as it travels: its layers' summary, its files in the TensorFlow.js layers format, and the metadata a
 * download needs to be used correctly. No DOM, no tfjs.
 */

import type { InputDecoding } from './inputDecoding';
import type { OodDetector } from './scoreTypes';
import type { ModelName, TestTimeAugmentation } from './settingChoices';

export interface LayerSummary {
  name: string;
  className: string;
  /** e.g. "[null,149,149,32]" */
  outputShape: string;
  params: number;
}

export interface ModelSummary {
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
}

/**
 * A model in the TensorFlow.js layers format: the text of model.json (topology and weights manifest, with one
 * weights file) and that file's bytes. With the optimizer's state (a checkpoint), its weights follow the model's.
 */
export interface ModelFiles {
  modelJson: string;
  weights: ArrayBuffer;
}

/** Everything a downloaded model needs beside its weights to be used correctly. */
export interface ModelMetadata {
  /** The network (MODEL_NAMES) the weights belong to. */
  model: ModelName;
  classNames: string[];
  imageSize: number;
  channels: 1;
  /** How pixels must be prepared before `predict`. */
  normalisation: string;
  output: 'sigmoid' | 'softmax';
  /** The class whose probability the single sigmoid unit gives (binary models only). */
  positiveClass: string | null;
  /**
   * The operating point of the page's reported figures: `thresholdClass` is predicted when its probability is at
   * least `threshold`, chosen as `thresholdRule` says (on validation); all null when the page had no report.
   */
  threshold: number | null;
  thresholdClass: string | null;
  thresholdRule: string | null;
  resize: string;
  trainedEpochs: number;
  backend: string;
  createdAt: string;
  /** How an image is judged unlike the training data; absent or null when the model carries none. */
  outOfDistribution?: OodDetector | null;
  /**
   * The test-time augmentation the threshold was chosen with (its scores are the mean over these views of each
   * image, worker/testTimeAugmentation.ts); absent or `off`: the model's plain output.
   */
  testTimeAugmentation?: TestTimeAugmentation;
  /** A snapshot ensemble saved as one model (its output the mean of its members'); absent for a single model. */
  ensemble?: EnsembleInfo;
  /**
   * How its training films were decoded (core/inputDecoding.ts); absent for a model trained before the page recorded
   * it (2026-12-05), whose films were often decoded below the input size and enlarged.
   */
  inputDecoding?: InputDecoding;
}

/** What a model's metadata says of an ensemble saved as one model (model/ensemble.ts); absent for a single model. */
export interface EnsembleInfo {
  /** `snapshot`: the weights at K cycle ends of one run; `seeds`: K runs from K seeds, one after another. */
  kind: 'snapshot' | 'seeds';
  members: number;
}

/** A trained (or loaded) ensemble as the page keeps it: what it is, and what its predictions cost. */
export interface EnsembleRun extends EnsembleInfo {
  /** The stacked model's predict time over one member's, timed on the run's backend at its end; null when not timed. */
  predictTimeRatio: number | null;
  /**
   * A seed ensemble's training time over its first member's, timed in the worker (absent or null when not timed, e.g.
   * a resumed run whose first member trained before the reload).
   */
  trainingTimeRatio?: number | null;
}
