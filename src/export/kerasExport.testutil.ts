/**
 * What the Keras export's test files share: Python with h5py and numpy (test/keras_forward.py reads the file as
 * Keras' loader does), metadata, models with weights away from their initial values, and h5wasm to read files back.
 */
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelMetadata, ModelName } from '../core/types';

export const PYTHON = '/usr/bin/python3';
export const CHECKER = join(dirname(fileURLToPath(import.meta.url)), '../../test/keras_forward.py');
export const hasPython = spawnSync(PYTHON, ['-c', 'import h5py, numpy'], { stdio: 'ignore' }).status === 0;
export const SIZE = 40;

export function metadataFor(model: ModelName, classNames: string[]): ModelMetadata {
  return {
    model,
    classNames,
    imageSize: SIZE,
    channels: 1,
    normalisation: 'pixel / 255',
    output: classNames.length === 2 ? 'sigmoid' : 'softmax',
    positiveClass: classNames.length === 2 ? classNames[1] : null,
    threshold: 0.5,
    thresholdClass: classNames.length === 2 ? classNames[1] : null,
    thresholdRule: 'fixed',
    resize: 'squash',
    trainedEpochs: 1,
    backend: 'cpu',
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}

/** Biases and BatchNormalization's four vectors away from their initial zeros and ones, so a mix-up would show. */
export function perturbWeights(model: tf.LayersModel, seed: number): void {
  const ranges: [RegExp, number, number][] = [
    [/bias$|beta$/, -0.1, 0.1],
    [/gamma$/, 0.5, 1.5],
    [/moving_mean$/, -0.3, 0.3],
    [/moving_variance$/, 0.2, 2],
  ];
  for (const layer of model.layers) {
    const values = layer.weights.map((w, i) => {
      const range = ranges.find(([pattern]) => pattern.test(w.originalName));
      return range ? tf.randomUniform(w.shape as number[], range[1], range[2], 'float32', seed + i) : w.read().clone();
    });
    layer.setWeights(values);
    tf.dispose(values);
    seed += 100;
  }
}

type H5File = InstanceType<typeof h5wasm.File>;
export type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/** Opens the bytes again with h5wasm, through its in-memory file system. */
export async function reopen(bytes: Uint8Array, name: string): Promise<H5File> {
  const module = await h5wasm.ready;
  module.FS.writeFile(`/${name}`, bytes);
  return new h5wasm.File(`/${name}`, 'r');
}
