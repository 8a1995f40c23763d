/**
 * What the export tests (src/export) compare a converted model against, computed with tfjs: stacked ensembles, and
 * the feature ensemble's features the page's way (each layer's output in inference mode through an apply chain, a
 * 4-D map averaged over axes 1 and 2, NHWC rows and columns, the layers concatenated in order;
 * docs/out-of-distribution.md).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelName, OodPooling } from '../core/types';
import { disposeCnn } from './cnn';
import { imageDetail } from './imageDetail';
import { disposeSnapshot, snapshotOf, stackMembers } from './ensemble';
import type { ModelOptions } from './models';

/** Members built by `build` (given each member's index), stacked as one model (a snapshot ensemble). */
export function stackedOf(
  name: ModelName,
  options: ModelOptions,
  members: number,
  build: (member: number) => tf.LayersModel,
): tf.LayersModel {
  const snapshots = Array.from({ length: members }, (_, k) => {
    const member = build(k);
    const weights = snapshotOf(member);
    disposeCnn(member);
    return weights;
  });
  const stacked = stackMembers(name, options, snapshots);
  snapshots.forEach(disposeSnapshot);
  return stacked;
}

/** Rows of the layers' pooled outputs concatenated, and each layer's width. */
export function pooledFeatures(
  model: tf.LayersModel,
  layers: readonly { name: string; pooling: OodPooling }[],
  xs: tf.Tensor4D,
): { rows: Float32Array; sizes: number[] } {
  const pooled = tf.tidy(() => {
    const outputs = new Map<string, tf.Tensor>();
    let x: tf.Tensor = xs;
    for (const layer of model.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      x = layer.apply(x, { training: false }) as tf.Tensor;
      outputs.set(layer.name, x);
    }
    return layers.map(({ name, pooling }) => {
      if (pooling === 'detail-octaves') return imageDetail(xs);
      const output = outputs.get(name);
      if (!output) throw new Error(`no layer ${name}`);
      return pooling === 'spatial-mean' ? tf.mean(output, [1, 2]) : output;
    });
  });
  const rows = tf.concat(pooled, 1);
  const result = { rows: rows.dataSync() as Float32Array, sizes: pooled.map((t) => t.shape[1] as number) };
  tf.dispose([rows, ...pooled]);
  return result;
}
