/**
 * The training worker's brain, as a plain class so tests can drive it without a Worker:
 * messages in through `handle`, messages out through `post`. It keeps the decoded splits and the
 * last trained model; every failure becomes an `error` message and the worker keeps running.
 */
import type * as tf from '@tensorflow/tfjs';
import { buildTutorialCnn, disposeCnn } from '../model/cnn';
import type { ProbeShape } from './probe';
import { registerFastCpuKernels } from '../model/cpuKernels';
import { exportLayersModel } from '../model/export';
import { summarizeModel } from '../model/summary';
import { UserError } from '../model/userError';
import {
  CONTEXT_LOST_MESSAGE,
  chooseBackend as chooseRealBackend,
  isWebglContextLost,
  optimizerEpsilon,
  watchWebglContextLoss,
  type BackendInfo,
} from './backend';
import { checkImageSet, checkSettings } from './checks';
import { explainError } from './explainError';
import { assertNever, transferablesOf, type BackendChoice, type FromTrainer, type ToTrainer, type TrainSettings } from './protocol';
import { renderAugmentationPreview } from './preview';
import { evaluateFinal, trainEpochs, type RunControl, type TrainingData } from './trainingRun';

export type Post = (message: FromTrainer, transfer?: Transferable[]) => void;

/** Seams for tests (and for a later WebGPU/WASM task); the defaults are the real thing. */
export interface TrainerOptions {
  chooseBackend?: (requested: BackendChoice, shape?: ProbeShape) => Promise<BackendInfo>;
  watchContextLoss?: (onLost: () => void) => () => void;
  isContextLost?: () => boolean;
  /** Milliseconds, for images/s. */
  now?: () => number;
}

const ACTIONS: Record<ToTrainer['type'], string> = {
  setData: 'loading the dataset',
  describeModel: 'describing the model',
  train: 'training',
  stop: 'stopping',
  exportModel: 'preparing the model for download',
  previewAugmentation: 'showing augmented samples',
};

export class Trainer {
  private data: TrainingData | null = null;
  private model: tf.LayersModel | null = null;
  private modelBackend = '';
  private modelEpochs = 0;
  private backendName: string | null = null;
  private run: RunControl | null = null;
  private readonly exports = new Set<Promise<unknown>>();
  private readonly chooseBackend: (requested: BackendChoice, shape?: ProbeShape) => Promise<BackendInfo>;
  /** Settles when the backend being started (if any) is ready. */
  private backendSwitch: Promise<unknown> = Promise.resolve();
  private readonly watchContextLoss: (onLost: () => void) => () => void;
  private readonly isContextLost: () => boolean;
  private readonly now: () => number;

  constructor(
    private readonly post: Post,
    options: TrainerOptions = {},
  ) {
    this.chooseBackend = options.chooseBackend ?? chooseRealBackend;
    this.watchContextLoss = options.watchContextLoss ?? watchWebglContextLoss;
    this.isContextLost = options.isContextLost ?? isWebglContextLost;
    this.now = options.now ?? (() => performance.now());
    // Makes the CPU fallback (and Node tests) usable; affects only the cpu backend.
    registerFastCpuKernels();
  }

  /** Handles one message; resolves when it is fully handled (for `train`, when the run ends). Never rejects. */
  async handle(message: ToTrainer): Promise<void> {
    try {
      switch (message.type) {
        case 'setData':
          this.setData(message);
          break;
        case 'describeModel':
          await this.backendSwitch;
          this.describeModel(message.imageSize, message.numClasses);
          break;
        case 'train':
          await this.train(message.settings);
          break;
        case 'stop':
          // A stop after the run ended is a harmless race with the page: nothing to do.
          if (this.run) this.run.stopRequested = true;
          break;
        case 'exportModel':
          await this.exportModel();
          break;
        case 'previewAugmentation':
          // Nothing to show before a dataset has arrived (the page asks again once it has).
          await this.backendSwitch;
          if (this.data) this.send(await renderAugmentationPreview(this.data, message));
          break;
        default:
          assertNever(message);
      }
    } catch (error) {
      let contextLost = false;
      try {
        contextLost = this.backendName === 'webgl' && this.isContextLost();
      } catch {
        // Asking a broken backend may itself throw; the error below still goes out.
      }
      this.send({ type: 'error', message: explainError(error, { action: ACTIONS[message.type], backend: this.backendName, contextLost }) });
    }
  }

  private send(message: FromTrainer): void {
    this.post(message, transferablesOf(message));
  }

  // ---------------------------------------------------------------- data and model summary

  private setData(message: Extract<ToTrainer, { type: 'setData' }>): void {
    // Whatever happens below, the previous dataset and its model no longer apply.
    this.data = null;
    if (this.run) this.run.superseded = true;
    else this.discardModel();
    const { classNames, train, validation, test } = message;
    if (classNames.length < 2) {
      throw new UserError(
        `Training needs at least two classes, but the dataset has ${classNames.length} (${classNames.join(', ') || 'none'}). Put the images of each class in their own folder.`,
      );
    }
    checkImageSet('train', train, train.size, classNames.length);
    checkImageSet('validation', validation, train.size, classNames.length);
    if (test) checkImageSet('test', test, train.size, classNames.length);
    this.data = { classNames: [...classNames], train, validation, test };
    this.send({ type: 'dataReady', counts: { train: train.count, validation: validation.count, test: test?.count ?? 0 } });
  }

  private describeModel(imageSize: number, numClasses: number): void {
    const model = buildTutorialCnn({ imageSize, numClasses, learningRate: 1e-3, seed: 0 });
    try {
      this.send({ type: 'modelSummary', imageSize, summary: summarizeModel(model) });
    } finally {
      disposeCnn(model);
    }
  }

  /** Frees the trained model, after any download being prepared from it. */
  private discardModel(): void {
    const model = this.model;
    this.model = null;
    this.modelEpochs = 0;
    if (!model) return;
    const dispose = () => {
      try {
        disposeCnn(model);
      } catch {
        // Its backend may be gone (lost WebGL context); there is nothing left to free then.
      }
    };
    if (this.exports.size === 0) dispose();
    else void Promise.allSettled([...this.exports]).then(dispose);
  }

  // ---------------------------------------------------------------- training

  private async train(settings: TrainSettings): Promise<void> {
    if (this.run) throw new UserError('Training is already running. Press Stop first, or wait for it to end.');
    if (!this.data) throw new UserError('No dataset is loaded in the trainer yet: drop a dataset first.');
    const data = this.data;
    checkSettings(settings, data);

    const run: RunControl = { stopRequested: false, superseded: false, contextLost: false };
    this.run = run;
    let unwatch = () => {};
    try {
      await Promise.allSettled([...this.exports]);
      this.discardModel();
      const choosing = this.chooseBackend(settings.backend, {
        imageSize: settings.imageSize,
        numClasses: data.classNames.length,
        batchSize: settings.batchSize,
      });
      // Work that needs a backend (previews, summaries) waits while one starts: tfjs refuses it meanwhile.
      this.backendSwitch = choosing.catch(() => undefined);
      const backend = await choosing;
      this.backendName = backend.name;
      this.send({ type: 'backend', name: backend.name, requested: settings.backend, note: backend.note });
      unwatch = this.watchContextLoss(() => {
        run.contextLost = true;
      });
      await this.trainModel(run, settings, data, backend.name);
    } catch (error) {
      this.discardModel();
      if (run.contextLost) throw new UserError(CONTEXT_LOST_MESSAGE);
      throw error;
    } finally {
      unwatch();
      this.run = null;
    }
  }

  private async trainModel(control: RunControl, settings: TrainSettings, data: TrainingData, backendName: string): Promise<void> {
    const model = buildTutorialCnn({
      imageSize: settings.imageSize,
      numClasses: data.classNames.length,
      learningRate: settings.learningRate,
      seed: settings.seed,
      epsilon: optimizerEpsilon(),
    });
    this.model = model;
    this.modelBackend = backendName;
    this.modelEpochs = 0;
    const context = { model, data, settings, control, send: (m: FromTrainer) => this.send(m), now: this.now };

    const outcome = await trainEpochs(context);
    // The epochs the kept weights were trained for: up to the best epoch when its weights were restored.
    this.modelEpochs = outcome.restoredBest && outcome.bestEpoch !== null ? outcome.bestEpoch + 1 : outcome.epochsDone;
    if (control.superseded) {
      // The page has moved on to another dataset: evaluating on the old one would only mislead.
      this.discardModel();
      this.send({ type: 'trainingEnded', ...outcome, reason: 'stopped', restoredBest: false });
      return;
    }
    await evaluateFinal(context);
    this.send({ type: 'trainingEnded', ...outcome, reason: control.stopRequested ? 'stopped' : outcome.reason });
  }

  // ---------------------------------------------------------------- export

  private async exportModel(): Promise<void> {
    if (this.run) throw new UserError('Training is still running: wait for it to end, or press Stop, then download the model.');
    const model = this.model;
    if (!model) throw new UserError('There is no trained model to download yet: train one first.');
    const backend = this.modelBackend;
    const epochsDone = this.modelEpochs;
    const task = exportLayersModel(model);
    this.exports.add(task);
    try {
      const { modelJson, weights } = await task;
      this.send({ type: 'modelExported', modelJson, weights, backend, epochsDone });
    } finally {
      this.exports.delete(task);
    }
  }
}
