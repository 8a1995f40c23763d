/**
 * The model the worker keeps between requests (trained, restored after a reload, or loaded from a file) with what
 * belongs to it: the backend it was made on, the epochs it was trained for, its evaluation's scores, and the
 * downloads being prepared from it (it is freed only after them).
 */
import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/userError';
import { layersModelToKerasH5 } from '../export/keras';
import { layersModelToOnnx } from '../export/onnx';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel } from '../model/layersFormat';
import type { ImageSet, OodDetector, Splits, TestTimeAugmentation } from '../core/types';
import type { EvaluationReport } from '../eval/report';
import { hasBatchNorm, withBatchNormAdaptedTo } from '../model/adaptBatchNorm';
import { loadModelFiles } from '../model/checkpoint';
import { summarizeModel } from '../model/summary';
import { evaluateInBatches } from './evaluate';
import { EvaluatedRun, keptScores } from './evaluatedRun';
import type { ExportedModel, TrainerReplies, TrainerRequests } from './protocol';
import { detectorOf } from './ood';
import { scoreUnderShifts } from './shiftCheck';
import type { ShiftCheckScores } from '../core/acquisitionShifts';

export class KeptModel {
  private current: tf.LayersModel | null = null;
  private backend = '';
  /** The epochs the kept weights were trained for. */
  epochs = 0;
  /** The kept model's scores from its last evaluation; null when it has none (or they were on another dataset). */
  evaluated: EvaluatedRun | null = null;
  /** How the kept model judges images unlike its training data; null when it carries no detector. */
  ood: OodDetector | null = null;
  private readonly exports = new Set<Promise<unknown>>();

  get model(): tf.LayersModel | null {
    return this.current;
  }

  /** Makes `model` the kept one (freeing the previous one once its downloads are done). */
  keep(model: tf.LayersModel, backend: string, epochs: number, evaluated: EvaluatedRun | null = null): void {
    this.discard();
    this.current = model;
    this.backend = backend;
    this.epochs = epochs;
    this.evaluated = evaluated;
    this.ood = null;
  }

  /** Settles when the downloads being prepared are done. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.exports]);
  }

  /** Frees the kept model, after any download being prepared from it; its scores go with it. */
  discard(): void {
    const model = this.current;
    this.current = null;
    this.evaluated = null;
    this.ood = null;
    this.epochs = 0;
    if (!model) return;
    const dispose = () => {
      try {
        disposeCnn(model);
      } catch {
        // Its backend may be gone (lost WebGL context); there is nothing left to free then.
      }
    };
    if (this.exports.size === 0) dispose();
    else void this.settled().then(dispose);
  }

  /**
   * Keeps the model in `files` (a saved run after a reload, or a loaded model file) once it fits what the page says
   * (square grey images, the classes its metadata names), with its saved scores when known.
   */
  async restore(request: TrainerRequests['restoreModel'], backend: string): Promise<TrainerReplies['restoreModel']> {
    const model = await loadModelFiles(request.files);
    const inputShape = model.inputs[0].shape;
    const units = (model.outputs[0].shape[1] as number | null) ?? 1;
    const numClasses = units === 1 ? 2 : units;
    if (
      inputShape.length !== 4 ||
      inputShape[1] !== inputShape[2] ||
      inputShape[3] !== 1 ||
      numClasses !== request.numClasses
    ) {
      model.dispose();
      throw new UserError(
        `This model takes ${JSON.stringify(inputShape.slice(1))} and gives ${numClasses} classes; the app needs square grey images and the ${request.numClasses} classes its metadata names.`,
      );
    }
    let ood: OodDetector | null;
    try {
      // From a file or from storage: checked as any outside input before it judges anything.
      ood = detectorOf(model, numClasses);
    } catch (error) {
      model.dispose();
      throw error;
    }
    await this.settled();
    this.keep(
      model,
      backend,
      request.epochs,
      request.scores ? new EvaluatedRun(numClasses, request.scores.validation, request.scores.test, null) : null,
    );
    this.ood = ood;
    return { summary: summarizeModel(model), imageSize: inputShape[1] as number, numClasses };
  }

  /** The report with the test split scored by `model` adapted to it (BatchNorm re-estimated; computed once, then kept). */
  async adaptedReport(
    model: tf.LayersModel,
    evaluated: EvaluatedRun,
    data: Splits | null,
    request: TrainerRequests['adaptedReport'],
  ): Promise<EvaluationReport> {
    if (!evaluated.adaptedTest) {
      if (!hasBatchNorm(model))
        throw new UserError('This model has no BatchNormalization layers to adapt: choose the batchnorm model.');
      const test = data?.test;
      if (!evaluated.hasTest || !test)
        throw new UserError(
          'Adapting needs the test split’s images: load the dataset (with a test folder or a test hold-out) again.',
        );
      const scored = await withBatchNormAdaptedTo(model, test, 32, () =>
        evaluateInBatches(model, test, data.classNames.length, 32),
      );
      evaluated.adaptedTest = keptScores(test, scored.scores);
    }
    return evaluated.adaptedReport(request);
  }

  /** The evaluated split's sample scored under each acquisition shift (shiftCheck.ts), judged by the model's detector. */
  async shiftCheck(model: tf.LayersModel, evaluated: EvaluatedRun, data: Splits | null): Promise<ShiftCheckScores> {
    const split = evaluated.hasTest ? 'test' : 'validation';
    const set = data?.[split];
    if (!data || !set)
      throw new UserError('The check scores the evaluated images again: load the dataset (with its test split) again.');
    const size = model.inputs[0].shape[1];
    if (size !== set.size)
      throw new UserError(`The model takes ${String(size)} px images; load the dataset at that Image size.`);
    return scoreUnderShifts(model, set, split, data.classNames.length, this.ood);
  }

  /**
   * Scores validation and test with `kind` of test-time augmentation for `evaluated`'s reports (once a kind, then
   * kept); needs the dataset's images, which a restored run may not have.
   */
  async scoreWithTta(
    model: tf.LayersModel,
    evaluated: EvaluatedRun,
    data: Splits | null,
    kind: TestTimeAugmentation,
  ): Promise<void> {
    if (evaluated.hasTtaScores(kind)) return;
    if (!data || (evaluated.hasTest && !data.test))
      throw new UserError(
        'Test-time augmentation scores the images again: load the dataset (with its test split) again, or turn it off.',
      );
    const numClasses = data.classNames.length;
    const score = async (set: ImageSet) =>
      (await evaluateInBatches(model, set, numClasses, 32, undefined, undefined, kind)).scores;
    const validation = await score(data.validation);
    const test = evaluated.hasTest && data.test ? await score(data.test) : null;
    evaluated.setTtaScores(kind, validation, test);
  }

  /** The model's files, and with `format` 'onnx' or 'keras' that file too, written here off the page's main thread. */
  async export({ format = 'tfjs', metadata }: TrainerRequests['exportModel']): Promise<ExportedModel> {
    const model = this.current;
    if (!model) throw new UserError('There is no trained model to download yet: train one first.');
    const { backend, epochs: epochsDone, ood } = this;
    const task = exportLayersModel(model);
    this.exports.add(task);
    try {
      const { modelJson, weights } = await task;
      if (format === 'tfjs') return { modelJson, weights, backend, epochsDone, ood };
      if (!metadata) throw new UserError(`The ${format} file needs the model's metadata (class names, image size).`);
      const withOod = { ...metadata, outOfDistribution: ood };
      // The HDF5 library alone is ~5 MB of wasm, loaded on the first .h5.
      const converted =
        format === 'onnx'
          ? layersModelToOnnx(modelJson, weights, withOod)
          : await layersModelToKerasH5(modelJson, weights, withOod);
      return { modelJson, weights, backend, epochsDone, ood, converted };
    } finally {
      this.exports.delete(task);
    }
  }
}
