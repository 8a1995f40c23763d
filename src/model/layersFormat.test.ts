import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTutorialCnn, disposeCnn } from './cnn';
import { exportLayersModel, joinWeightData, modelJsonOf } from './layersFormat';
import { buildModel } from './models';
import { weightedTrainStep } from './weightedStep';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The model as a person would load it: model.json plus the weights file it names. */
async function reload(json: tf.io.ModelJSON, weights: ArrayBuffer): Promise<tf.LayersModel> {
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (m) => [m[0].weights, weights]);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

describe('exportLayersModel', () => {
  it('writes model.json and one weights buffer that load back to the same model', async () => {
    const model = buildTutorialCnn({ imageSize: 31, numClasses: 3, learningRate: 5e-4, seed: 3 });
    const { modelJson, weights } = await exportLayersModel(model);
    const json = JSON.parse(modelJson) as tf.io.ModelJSON;
    expect(Object.keys(json).sort()).toEqual([
      'convertedBy',
      'format',
      'generatedBy',
      'modelTopology',
      'trainingConfig',
      'weightsManifest',
    ]);
    expect(json.trainingConfig).toMatchObject({
      loss: 'categorical_crossentropy',
      optimizer_config: { class_name: 'RMSProp' },
    });
    expect(json.trainingConfig?.optimizer_config).toMatchObject({ config: { learningRate: 5e-4, epsilon: 1e-7 } });
    const loaded = await reload(json, weights);
    const x = tf.randomUniform([2, 31, 31, 1]);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    tf.dispose(x);
    loaded.dispose();
    disposeCnn(model);
  });
});

describe('exportLayersModel with BatchNormalization', () => {
  it('saves the running statistics and loads back a model that predicts the same', async () => {
    const model = buildModel('batchnorm', { imageSize: 31, numClasses: 2, learningRate: 1e-3, seed: 3 });
    const x = tf.randomUniform([4, 31, 31, 1], 0, 1, 'float32', 7);
    // One step moves the moving mean and variance away from their initial 0 and 1, so a loss of them would show.
    await weightedTrainStep(model, x as tf.Tensor4D, tf.tensor2d([0, 1, 0, 1], [4, 1]), [1, 1]);
    const { modelJson, weights } = await exportLayersModel(model);
    const json = JSON.parse(modelJson) as tf.io.ModelJSON;
    const names = json.weightsManifest[0].weights.map((w) => w.name);
    expect(names).toContain('batch_normalization_1/moving_mean');
    expect(names).toContain('batch_normalization_4/moving_variance');
    const loaded = await reload(json, weights);
    const stats = (m: tf.LayersModel) =>
      m
        .getLayer('batch_normalization_1')
        .getWeights()
        .map((w) => Array.from(w.dataSync()));
    expect(stats(loaded)).toEqual(stats(model));
    expect(stats(model)[2]).not.toEqual(new Array(32).fill(0));
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    tf.dispose(x);
    loaded.dispose();
    disposeCnn(model);
  });
});

describe('joinWeightData', () => {
  it('joins weights handed over in pieces, and passes one buffer through', () => {
    const joined = joinWeightData([Uint8Array.from([1, 2]).buffer, Uint8Array.from([3]).buffer]);
    expect(Array.from(new Uint8Array(joined))).toEqual([1, 2, 3]);
    const single = Uint8Array.from([4, 5]).buffer;
    expect(Array.from(new Uint8Array(joinWeightData(single)))).toEqual([4, 5]);
    expect(joinWeightData(undefined).byteLength).toBe(0);
  });
});

describe('modelJsonOf', () => {
  it('refuses artifacts without a topology', () => {
    expect(() => modelJsonOf({})).toThrow(/no topology/);
  });
});
