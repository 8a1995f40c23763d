/** The model's layer table, as plain data the page can show (Keras `model.summary()` in rows). */
import type * as tf from '@tensorflow/tfjs';
import type { LayerSummary, ModelSummary } from '../core/types';

export function summarizeModel(model: tf.LayersModel): ModelSummary {
  const layers: LayerSummary[] = model.layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    outputShape: formatShape(layer.outputShape),
    params: layer.countParams(),
  }));
  const trainableParams = model.trainableWeights.reduce((sum, w) => sum + sizeOf(w.shape), 0);
  return { layers, totalParams: model.countParams(), trainableParams };
}

/** "[null,149,149,32]"; a layer with several outputs lists each shape. */
export function formatShape(shape: tf.Shape | tf.Shape[]): string {
  return JSON.stringify(shape);
}

function sizeOf(shape: tf.Shape): number {
  return shape.reduce<number>((n, d) => n * (d ?? 0), 1);
}
