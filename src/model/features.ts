/**
 * A model's penultimate features beside its output, in one inference pass: what the out-of-distribution detector
 * (eval/outOfDistribution.ts) is fitted on and judges. Works on a plain chain of layers (every model this app
 * makes or loads); the feature layer is the Dense layer before the output layer (Dropout between them is a no-op
 * at inference): `dense_1`, the Dense 64 of both networks here (K*64 in an ensemble of K saved as one model).
 */
import * as tf from '@tensorflow/tfjs';
import { ENSEMBLE_AVERAGE_LAYER } from './cnn';

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

/** The width of layer `name`'s output when it is a 2-D layer of this chain; null otherwise. */
export function featureSizeOf(model: tf.LayersModel, name: string): number | null {
  let layers: Layer[];
  try {
    layers = chainOf(model);
  } catch {
    return null;
  }
  const layer = layers.find((l) => l.name === name);
  const shape = layer?.outputShape as (number | null)[] | undefined;
  return shape && shape.length === 2 && typeof shape[1] === 'number' ? shape[1] : null;
}

/**
 * Layer `featureLayer`'s output and the model's output for `xs`, in inference mode (Dropout off, BatchNormalization
 * with its moving statistics): the same arithmetic as `model.predict`. The caller disposes both.
 */
export function featuresAndOutputs(
  model: tf.LayersModel,
  featureLayer: string,
  xs: tf.Tensor,
): { features: tf.Tensor2D; outputs: tf.Tensor } {
  const layers = chainOf(model);
  if (!layers.some((l) => l.name === featureLayer))
    throw new Error(`The model has no layer "${featureLayer}" to take features from.`);
  return tf.tidy(() => {
    let features: tf.Tensor | null = null;
    let x = xs;
    for (const layer of layers) {
      const next = layer.apply(x, { training: false }) as tf.Tensor;
      // Each layer's input freed once it has run (as predict does): the peak is one layer's input and output.
      if (next !== x && x !== xs && x !== features) x.dispose();
      x = next;
      if (layer.name === featureLayer) features = x;
    }
    return { features: features as unknown as tf.Tensor2D, outputs: x };
  });
}
