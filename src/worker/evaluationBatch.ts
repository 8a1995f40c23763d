/**
 * How many images an evaluation batch takes on a GPU (issue 22: larger batches where the GPU has room). A training
 * step holds every layer's output at once, for its backward pass; inference (model.predict) frees each layer's input
 * once the layer has run, so its peak is the largest layer's input plus output. So an evaluation batch may hold as
 * many images as fill the memory a training step's activations at the run's `Batch size` took on the same GPU:
 * where training fitted, it fits. The training `Batch size` itself is unchanged.
 */
import type * as tf from '@tensorflow/tfjs';
import { usesGpu } from '../core/gpuLost';

/** The most images an evaluation batch takes, however small the model. */
export const MAX_EVALUATION_BATCH = 256;

/** Numbers an image of each tensor of the forward pass: the input, then each layer's output. */
function sizesAnImage(model: tf.LayersModel): number[] {
  const count = (shape: readonly (number | null)[]) => shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
  const outputs = model.layers.map((layer) => {
    const shape = layer.outputShape;
    // A layer with several outputs (none in the app's models) counts them all.
    return Array.isArray(shape[0])
      ? (shape as (number | null)[][]).reduce((sum, s) => sum + count(s), 0)
      : count(shape as (number | null)[]);
  });
  return [count(model.inputs[0].shape), ...outputs];
}

/** The evaluation batch for a run trained (or trainable) at `trainingBatch` on `backend`. */
export function evaluationBatchSize(model: tf.LayersModel, trainingBatch: number, backend: string): number {
  if (!usesGpu(backend)) return trainingBatch;
  const sizes = sizesAnImage(model);
  const held = sizes.slice(1).reduce((a, b) => a + b, 0);
  let peak = 1;
  for (let i = 1; i < sizes.length; i++) peak = Math.max(peak, sizes[i - 1] + sizes[i]);
  const fits = Math.floor((trainingBatch * held) / peak);
  return Math.max(trainingBatch, Math.min(MAX_EVALUATION_BATCH, fits));
}
