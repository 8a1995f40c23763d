/**
 * A snapshot ensemble saved as ONE plain chain of layers (docs/model-levers.md): the same network with every width
 * times K, block-structured so that member k only ever sees its own block, then the fixed `ensemble_average` layer.
 * Its output is exactly the mean of the members' P(class 1), and every export, Grad-CAM and the out-of-distribution
 * features read it as any other model. Member k owns channel/unit block [k*W, (k+1)*W) of every layer of width W.
 * Pure tfjs (no DOM).
 */
import * as tf from '@tensorflow/tfjs';
import { ENSEMBLE_AVERAGE_LAYER } from './cnn';
import { buildModel, type ModelName, type ModelOptions } from './models';

/** One member's weights, layer by layer (each layer's `getWeights()` order: trainable, then moving statistics). */
export type MemberWeights = Map<string, tf.Tensor[]>;

/** A copy of every weight of `model` (BatchNorm's moving statistics too), to stack later; the caller disposes it. */
export function snapshotOf(model: tf.LayersModel): MemberWeights {
  const weights: MemberWeights = new Map();
  for (const layer of model.layers) {
    if (layer.weights.length > 0)
      weights.set(
        layer.name,
        layer.getWeights().map((w) => w.clone()),
      );
  }
  return weights;
}

export function disposeSnapshot(weights: MemberWeights): void {
  for (const tensors of weights.values()) tf.dispose(tensors);
}

/** How many members a model holds: K when it ends with `ensemble_average` (its kernel is [K, 1]), else 1. */
export function ensembleMembersOf(model: tf.LayersModel): number {
  const last = model.layers[model.layers.length - 1];
  if (last?.name !== ENSEMBLE_AVERAGE_LAYER) return 1;
  const shape = last.weights[0]?.shape;
  return shape?.length === 2 && typeof shape[0] === 'number' ? shape[0] : 1;
}

/**
 * The network `name` with `members.length` members, each member's weights in its block (see the file's comment).
 * The stacked model is for inference (and evaluation): it is not meant to be trained further.
 */
export function stackMembers(
  name: ModelName,
  options: ModelOptions,
  members: readonly MemberWeights[],
): tf.LayersModel {
  const count = members.length;
  if (count < 2) throw new Error(`An ensemble needs at least 2 members (got ${count}).`);
  const model = buildModel(name, { ...options, members: count });
  try {
    let previous: tf.layers.Layer | null = null;
    for (const layer of model.layers) {
      if (layer.weights.length > 0 && layer.name !== ENSEMBLE_AVERAGE_LAYER) {
        const own = members.map((m) => m.get(layer.name));
        if (own.some((w) => !w || w.length !== layer.weights.length))
          throw new Error(`A member lacks the weights of layer "${layer.name}".`);
        const afterFlatten = previous?.getClassName() === 'Flatten' ? flattenedMapOf(previous, count) : null;
        // The variables keep their values: the stacked tensors go with the tidy.
        tf.tidy(() =>
          layer.setWeights(
            layer.weights.map((w, j) =>
              stackWeight(
                own.map((m) => (m as tf.Tensor[])[j]),
                w.shape as number[],
                afterFlatten,
              ),
            ),
          ),
        );
      }
      previous = layer;
    }
    return model;
  } catch (error) {
    model.optimizer?.dispose();
    model.dispose();
    throw error;
  }
}

/** The member's [h, w, C] of the map a Flatten layer flattens (its wide input is [h, w, K*C]). */
function flattenedMapOf(flatten: tf.layers.Layer, count: number): [number, number, number] {
  const [, h, w, wideChannels] = (flatten.input as tf.SymbolicTensor).shape as number[];
  return [h, w, wideChannels / count];
}

function stackWeight(own: tf.Tensor[], wide: number[], afterFlatten: [number, number, number] | null): tf.Tensor {
  const shape = own[0].shape;
  if (shape.length === 1) return tf.concat(own, 0);
  if (shape.length === 4 && shape[2] === wide[2]) return tf.concat(own, 3); // the first convolution: one image
  if (shape.length === 4) return blockDiagonal(own, wide, shape[0] * shape[1], shape[2], shape[3]);
  if (shape.length === 2 && afterFlatten) {
    // After Flatten of an [h, w, K*C] map (flattened HWC): row ((i*w + j)*K + k)*C + c, column k*U + u is member
    // k's row (i*w + j)*C + c, column u; zero elsewhere. A block diagonal at each of the h*w positions.
    const [h, w, channels] = afterFlatten;
    return blockDiagonal(own, wide, h * w, channels, shape[1]);
  }
  if (shape.length === 2) return blockDiagonal(own, wide, 1, shape[0], shape[1]);
  throw new Error(`No way to stack a weight of shape [${shape.join(', ')}].`);
}

/**
 * From K kernels read as [positions, rows, cols] (row-major), the [positions, K*rows, K*cols] kernel (shaped `wide`)
 * with member k at rows [k*rows, (k+1)*rows) and columns [k*cols, (k+1)*cols) of every position, zero elsewhere.
 */
function blockDiagonal(own: tf.Tensor[], wide: number[], positions: number, rows: number, cols: number): tf.Tensor {
  const count = own.length;
  if (wide.reduce((a, b) => a * b, 1) !== positions * count * rows * count * cols)
    throw new Error(`A stacked kernel of shape [${wide.join(', ')}] does not hold ${count} members' blocks.`);
  const out = new Float32Array(positions * count * rows * count * cols);
  own.forEach((member, k) => {
    const values = member.dataSync();
    for (let p = 0; p < positions; p++)
      for (let r = 0; r < rows; r++) {
        const from = (p * rows + r) * cols;
        const to = ((p * count + k) * rows + r) * count * cols + k * cols;
        out.set(values.subarray(from, from + cols), to);
      }
  });
  return tf.tensor(out, wide);
}
