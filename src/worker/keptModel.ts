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
import { exportLayersModel } from '../model/export';
import type { EvaluatedRun } from './evaluatedRun';
import type { ExportedModel, TrainerRequests } from './protocol';

export class KeptModel {
  private current: tf.LayersModel | null = null;
  private backend = '';
  /** The epochs the kept weights were trained for. */
  epochs = 0;
  /** The kept model's scores from its last evaluation; null when it has none (or they were on another dataset). */
  evaluated: EvaluatedRun | null = null;
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

  /** The model's files, and with `format` 'onnx' or 'keras' that file too, written here off the page's main thread. */
  async export({ format = 'tfjs', metadata }: TrainerRequests['exportModel']): Promise<ExportedModel> {
    const model = this.current;
    if (!model) throw new UserError('There is no trained model to download yet: train one first.');
    const { backend, epochs: epochsDone } = this;
    const task = exportLayersModel(model);
    this.exports.add(task);
    try {
      const { modelJson, weights } = await task;
      if (format === 'tfjs') return { modelJson, weights, backend, epochsDone };
      if (!metadata) throw new UserError(`The ${format} file needs the model's metadata (class names, image size).`);
      // The HDF5 library alone is ~5 MB of wasm, loaded on the first .h5.
      const converted = format === 'onnx' ? layersModelToOnnx(modelJson, weights, metadata) : await layersModelToKerasH5(modelJson, weights, metadata);
      return { modelJson, weights, backend, epochsDone, converted };
    } finally {
      this.exports.delete(task);
    }
  }
}
