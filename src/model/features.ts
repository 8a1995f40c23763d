/**
 * A model's features beside its output, in one inference pass: what the out-of-distribution detector
 * (eval/outOfDistribution.ts, eval/featureEnsemble.ts) is fitted on and judges: several layers' outputs pooled
 * (`OOD_LAYERS`), or the penultimate layer alone (models saved before the feature ensemble, and `ood=last`). Works on a plain chain of layers (every model this app
 * makes or loads); the feature layer is the Dense layer before the output layer (Dropout between them is a no-op
 * at inference): `dense_1`, the Dense 64 of both networks here (K*64 in an ensemble of K saved as one model).
 */
import * as tf from '@tensorflow/tfjs';
import { DETAIL_OCTAVES, MIN_DETAIL_SIZE } from '../core/imageDetailSpec';
import { IMAGE_DETAIL_LAYER, type OodFeatureLayer, type OodPooling } from '../core/types';
import { ENSEMBLE_AVERAGE_LAYER } from './cnn';
import { imageDetail } from './imageDetail';

type Layer = tf.layers.Layer;

/** The model's layers in order, once each layer is checked to take just the previous one's output. */
function chainOf(model: tf.LayersModel): Layer[] {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  layers.forEach((layer, i) => {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    const chained =
      i === 0
        ? inbound.every((l) => l.getClassName() === 'InputLayer')
        : inbound.length === 1 && inbound[0] === layers[i - 1];
    if (layer.inboundNodes.length !== 1 || !chained) {
      throw new Error(
        `Judging images unlike the training data needs a plain chain of layers; "${layer.name}" does not just follow the one before it.`,
      );
    }
  });
  return layers;
}

/** The name of the layer whose output is the feature vector, and its width; null when the model has no such layer. */
export function featureLayerOf(model: tf.LayersModel): { name: string; size: number } | null {
  let layers: Layer[];
  try {
    layers = chainOf(model);
  } catch {
    return null;
  }
  // An ensemble saved as one model (ensemble.ts): its members' outputs, then their mean; the features are before both.
  const outputs = layers[layers.length - 1]?.name === ENSEMBLE_AVERAGE_LAYER ? 2 : 1;
  for (let i = layers.length - 1 - outputs; i >= 0; i--) {
    const layer = layers[i];
    if (layer.getClassName() === 'Dropout') continue;
    const shape = layer.outputShape as (number | null)[];
    return layer.getClassName() === 'Dense' && shape.length === 2 && typeof shape[1] === 'number'
      ? { name: layer.name, size: shape[1] }
      : null;
  }
  return null;
}

/**
 * The layers the feature-ensemble detector is fitted on (Lee et al. 2018's feature ensemble, docs/out-of-distribution.md
 * says why these): the four pooling blocks' maps averaged over space, and the Dense layer before the output. Both
 * networks name them alike; an ensemble saved as one model has them K times as wide. The PyTorch bundle's
 * xray_trainer/ood.py has the same list.
 */
export const OOD_LAYERS: readonly { name: string; pooling: OodPooling }[] = [
  { name: 'max_pooling2d_1', pooling: 'spatial-mean' },
  { name: 'max_pooling2d_2', pooling: 'spatial-mean' },
  { name: 'max_pooling2d_3', pooling: 'spatial-mean' },
  { name: 'max_pooling2d_4', pooling: 'spatial-mean' },
  { name: 'dense_1', pooling: 'none' },
];

/**
 * The detector's default members (`ood=detail`): OOD_LAYERS and, last in the row, the image's fine detail at four
 * scales (model/imageDetail.ts), which sees the blur, lower resolution and tighter framing that the network's pooled
 * features let through (docs/benchmarks.md).
 */
export const OOD_LAYERS_WITH_DETAIL: readonly { name: string; pooling: OodPooling }[] = [
  ...OOD_LAYERS,
  { name: IMAGE_DETAIL_LAYER, pooling: 'detail-octaves' },
];

/**
 * How many features layer `name` gives an image after `pooling` (`spatial-mean`: a 4-D map's channels; `none`: a
 * 2-D output's width; `detail-octaves`: DETAIL_OCTAVES, read from the input `image` of at least MIN_DETAIL_SIZE pixels a
 * side); null when this chain has no such layer to read that way.
 */
export function layerSizeOf(model: tf.LayersModel, name: string, pooling: OodPooling): number | null {
  if (pooling === 'detail-octaves') {
    const input = model.inputs[0]?.shape ?? [];
    const sides = input.slice(1, 3);
    const big = input.length === 4 && sides.every((side) => typeof side === 'number' && side >= MIN_DETAIL_SIZE);
    return name === IMAGE_DETAIL_LAYER && big ? DETAIL_OCTAVES : null;
  }
  let layers: Layer[];
  try {
    layers = chainOf(model);
  } catch {
    return null;
  }
  const shape = layers.find((l) => l.name === name)?.outputShape as (number | null)[] | undefined;
  const wanted = pooling === 'spatial-mean' ? 4 : 2;
  const size = shape?.[shape.length - 1];
  return shape && shape.length === wanted && typeof size === 'number' ? size : null;
}

/**
 * The layers of `wanted` (OOD_LAYERS unless told) this model has, with their widths after pooling, in that order; [] when
 * not a chain.
 */
export function oodLayersOf(
  model: tf.LayersModel,
  wanted: readonly { name: string; pooling: OodPooling }[] = OOD_LAYERS,
): OodFeatureLayer[] {
  try {
    chainOf(model);
  } catch {
    return [];
  }
  return wanted.flatMap(({ name, pooling }) => {
    const size = layerSizeOf(model, name, pooling);
    return size === null ? [] : [{ name, size, pooling }];
  });
}

/**
 * The features of `layers` (each pooled as it says, concatenated in order into one row an image) and the model's
 * output for `xs`, in ONE inference pass (Dropout off, BatchNormalization with its moving statistics): the same
 * arithmetic as `model.predict`. Only the pooled features are kept, not the maps. The caller disposes both.
 */
export function featuresAndOutputs(
  model: tf.LayersModel,
  wanted: readonly Pick<OodFeatureLayer, 'name' | 'pooling'>[],
  xs: tf.Tensor,
): { features: tf.Tensor2D; outputs: tf.Tensor } {
  const chain = chainOf(model);
  for (const { name, pooling } of wanted) {
    if (pooling === 'detail-octaves' ? name !== IMAGE_DETAIL_LAYER : !chain.some((l) => l.name === name))
      throw new Error(`The model has no layer "${name}" to take features from.`);
  }
  return tf.tidy(() => {
    const pooled = new Map<string, tf.Tensor2D>();
    // The input's detail first: the pass below frees each layer's input as it goes.
    if (wanted.some((l) => l.pooling === 'detail-octaves')) pooled.set(IMAGE_DETAIL_LAYER, imageDetail(xs));
    let x = xs;
    for (const layer of chain) {
      const next = layer.apply(x, { training: false }) as tf.Tensor;
      // Each layer's input freed once it has run (as predict does): the peak is one layer's input and output.
      if (next !== x && x !== xs && ![...pooled.values()].includes(x as tf.Tensor2D)) x.dispose();
      x = next;
      for (const { name, pooling } of wanted) {
        if (layer.name !== name) continue;
        if (pooling === 'spatial-mean' && x.rank !== 4)
          throw new Error(`Layer "${name}" gives a ${x.rank}-D output, not a map to average over space.`);
        if (pooling === 'none' && x.rank !== 2)
          throw new Error(`Layer "${name}" gives a ${x.rank}-D output, not one row of features an image.`);
        pooled.set(name, pooling === 'spatial-mean' ? tf.mean(x, [1, 2]) : (x as tf.Tensor2D));
      }
    }
    const rows = wanted.map(({ name }) => pooled.get(name)!);
    const features = rows.length === 1 ? rows[0] : tf.concat(rows, 1);
    return { features, outputs: x };
  });
}
