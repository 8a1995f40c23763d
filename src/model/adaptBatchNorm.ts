/**
 * Test-time adaptation by BatchNorm re-estimation (Li et al., "Revisiting Batch Normalization for Practical Domain
 * Adaptation", 2016): each BatchNormalization layer's running mean and variance are measured again on the images of
 * a new source (unlabelled), in layer order, so the network normalises that source's features as it normalised its
 * training data. Nothing else changes; labels are never read. An option for a shifted test split, labelled as such:
 * a figure after adaptation describes the model adapted to those very images, not the downloaded one.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../core/types';

/** Whether the model has BatchNormalization layers to adapt. */
export function hasBatchNorm(model: tf.LayersModel): boolean {
  return model.layers.some((layer) => layer.getClassName() === 'BatchNormalization');
}

/**
 * Runs `use` with every BatchNormalization layer's moving statistics re-estimated on `images` (a chunk of
 * `batchSize` at a time), then puts the model's own statistics back, whatever `use` does.
 */
export async function withBatchNormAdaptedTo<T>(
  model: tf.LayersModel,
  images: ImageSet,
  batchSize: number,
  use: () => Promise<T>,
): Promise<T> {
  const layers = model.layers;
  const norms = layers
    .map((layer, i) => [layer, i] as const)
    .filter(([layer]) => layer.getClassName() === 'BatchNormalization');
  const saved = norms.map(([layer]) => layer.getWeights().map((w) => w.clone()));
  try {
    for (const [layer, index] of norms) {
      const { mean, variance } = await inputStatistics(layers.slice(0, index), images, batchSize);
      const [gamma, beta] = layer.getWeights();
      // The population variance, as Keras' moving variance estimates it; the layer adds its epsilon.
      const statistics = [tf.tensor1d(mean), tf.tensor1d(variance)];
      layer.setWeights([gamma, beta, ...statistics]);
      tf.dispose(statistics);
    }
    return await use();
  } finally {
    norms.forEach(([layer], k) => {
      layer.setWeights(saved[k]);
      tf.dispose(saved[k]);
    });
  }
}

/** Per-channel mean and variance, over images, rows and columns, of what `layers` (in inference mode) make of `images`. */
async function inputStatistics(
  layers: tf.layers.Layer[],
  images: ImageSet,
  batchSize: number,
): Promise<{ mean: Float32Array; variance: Float32Array }> {
  const area = images.size * images.size;
  let sum: Float64Array | null = null;
  let squares: Float64Array | null = null;
  let count = 0;
  for (let start = 0; start < images.count; start += batchSize) {
    const n = Math.min(batchSize, images.count - start);
    const [s, q] = tf.tidy(() => {
      let x: tf.Tensor = tf
        .tensor4d(images.pixels.subarray(start * area, (start + n) * area), [n, images.size, images.size, 1], 'int32')
        .toFloat()
        .div(255);
      for (const layer of layers) x = layer.apply(x, { training: false }) as tf.Tensor;
      const channels = x.shape[x.shape.length - 1] as number;
      const flat = x.reshape([-1, channels]);
      return [flat.sum(0), flat.square().sum(0)];
    });
    const [sums, sumSquares] = await Promise.all([s.data(), q.data()]);
    tf.dispose([s, q]);
    sum ??= new Float64Array(sums.length);
    squares ??= new Float64Array(sums.length);
    for (let c = 0; c < sums.length; c++) {
      sum[c] += sums[c];
      squares[c] += sumSquares[c];
    }
    const [, h, w] = layers.length
      ? (layers[layers.length - 1].outputShape as number[])
      : [0, images.size, images.size];
    count += n * h * w;
  }
  if (!sum || !squares || count === 0) throw new Error('There are no images to adapt BatchNorm to.');
  const mean = new Float32Array(sum.length);
  const variance = new Float32Array(sum.length);
  for (let c = 0; c < sum.length; c++) {
    mean[c] = sum[c] / count;
    variance[c] = Math.max(0, squares[c] / count - (sum[c] / count) ** 2);
  }
  return { mean, variance };
}
