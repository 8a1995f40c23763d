/** layersModelToOnnx: the .onnx file predicts what tfjs predicts (onnxruntime-web), features and ensembles included. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { IntensityNormalisation, ModelName, OodPooling } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import { layersModelToOnnx } from './onnx';
import { featuresAndOutputs, OOD_LAYERS_WITH_DETAIL } from '../model/features';
import { fitOodDetector } from '../eval/outOfDistribution';
import { fitFeatureEnsembleDetector } from '../eval/featureEnsemble';
import { decodeModel } from './onnxProto';
import { pooledFeatures, stackedOf } from '../model/exportChecks.testutil';
import {
  compare,
  ENSEMBLE,
  expectSameFeaturesAndJudgement,
  expectValidWithBothOutputs,
  metadataFor,
  onnxFeatures,
  outputsOf,
  perturbWeights,
  useOnnxTestSetup,
} from './onnxExport.testutil';

useOnnxTestSetup();

describe('layersModelToOnnx', () => {
  // At 48 and 64 px the last feature map is 2x2 and 3x3, so Flatten's NHWC order matters.
  const cases: [ModelName, number, number, IntensityNormalisation][] = [
    ['tutorial', 2, 64, 'none'],
    ['tutorial', 3, 48, 'none'],
    ['batchnorm', 2, 64, 'none'],
    ['batchnorm', 3, 48, 'none'],
    ['tutorial', 3, 48, 'per-image'],
    ['batchnorm', 2, 64, 'per-image'],
  ];
  it.each(cases)(
    'converts %s with %i classes at %i px (intensity normalisation %s) to a model onnxruntime runs to the same probabilities',
    async (name, classes, size, intensityNormalisation) => {
      const model = buildModel(name, {
        imageSize: size,
        numClasses: classes,
        learningRate: 1e-3,
        seed: 5,
        intensityNormalisation,
      });
      perturbWeights(model, 3);
      const classNames = ['NORMAL', 'PNEUMONIA', 'VIRUS'].slice(0, classes);
      const { maxDiff, spread } = await compare(model, metadataFor(name, classNames, size));
      disposeCnn(model);
      expect(spread).toBeGreaterThan(0.01); // Outputs that differ between images (none saturated), so the check means something.
      expect(maxDiff).toBeLessThan(1e-4);
    },
  );

  it.each<[ModelName, IntensityNormalisation]>([
    ['tutorial', 'per-image'],
    ['batchnorm', 'none'],
  ])(
    'converts a snapshot ensemble of 3 %s models (normalisation %s) to the same averaged probability',
    async (name, intensityNormalisation) => {
      const options = { imageSize: 48, numClasses: 2, learningRate: 1e-3, intensityNormalisation };
      const model = stackedOf(name, options, 3, (k) => {
        const member = buildModel(name, { ...options, seed: k + 1 });
        perturbWeights(member, k + 1);
        return member;
      });
      const metadata = { ...metadataFor(name, ['NORMAL', 'PNEUMONIA'], 48), ensemble: ENSEMBLE };
      const { bytes, maxDiff, spread } = await compare(model, metadata);
      disposeCnn(model);
      expect(spread).toBeGreaterThan(0.01);
      expect(maxDiff).toBeLessThan(1e-4);
      const props = decodeModel(bytes).metadataProps.find((p) => p.key === 'ensemble');
      expect(JSON.parse(props!.value)).toEqual(ENSEMBLE);
    },
  );

  it("gives dense_1's features as a second output when the metadata has out-of-distribution statistics", async () => {
    const model = buildModel('batchnorm', { imageSize: 40, numClasses: 2, learningRate: 1e-3, seed: 5 });
    perturbWeights(model, 3);
    const x = tf.randomUniform([30, 40, 40, 1], 0, 1, 'float32', 12);
    const both = featuresAndOutputs(model, [{ name: 'dense_1', pooling: 'none' }], x);
    const expected = both.features.dataSync() as Float32Array;
    const { detector } = fitOodDetector(
      { features: expected.subarray(0, 20 * 64), labels: new Uint8Array(20).map((_, i) => i % 2) },
      expected.subarray(20 * 64),
      {
        featureSize: 64,
        numClasses: 2,
        featureLayer: 'dense_1',
      },
    );
    const { modelJson, weights } = await exportLayersModel(model);
    const bytes = layersModelToOnnx(modelJson, weights, {
      ...metadataFor('batchnorm', ['NORMAL', 'PNEUMONIA'], 40),
      outOfDistribution: detector,
    });
    const got = await onnxFeatures(bytes, x as tf.Tensor4D, 64);
    expectSameFeaturesAndJudgement(bytes, detector, expected, got);
    expect(outputsOf(bytes)[1].docString).toBe(
      'dense_1 as it is (64): what metadata_props out_of_distribution judges.',
    );
    expectValidWithBothOutputs(bytes, 'with-features.onnx');
    tf.dispose([x, both.features, both.outputs]);
    disposeCnn(model);
  });

  it.each<[ModelName, number, IntensityNormalisation]>([
    ['batchnorm', 1, 'none'],
    ['tutorial', 1, 'per-image'],
    ['batchnorm', 3, 'none'],
  ])(
    "gives a feature ensemble's pooled layers, concatenated, as its features output (%s, %i member(s), %s)",
    async (name, members, intensityNormalisation) => {
      // At 48 px the four blocks' maps are 23, 11, 5 and 2 pixels a side: every mean is over several pixels.
      const options = { imageSize: 48, numClasses: 2, learningRate: 1e-3, intensityNormalisation };
      const build = (seed: number) => {
        const member = buildModel(name, { ...options, seed });
        perturbWeights(member, seed);
        return member;
      };
      const model = members === 1 ? build(5) : stackedOf(name, options, members, (k) => build(k + 1));
      const x = tf.randomUniform([30, 48, 48, 1], 0, 1, 'float32', 12) as tf.Tensor4D;
      // The default detector: the five layers and, last, the input's detail (4 numbers whatever the members).
      const { rows, sizes } = pooledFeatures(model, OOD_LAYERS_WITH_DETAIL, x);
      expect(sizes).toEqual([...[32, 32, 64, 32, 64].map((n) => n * members), 4]);
      const width = 224 * members + 4;
      const layers = OOD_LAYERS_WITH_DETAIL.map((l, i) => ({ ...l, size: sizes[i] }));
      const train = { features: rows.subarray(0, 20 * width), labels: new Uint8Array(20).map((_, i) => i % 2) };
      const { detector } = fitFeatureEnsembleDetector(train, rows.subarray(20 * width), {
        layers,
        numClasses: 2,
      });
      const { modelJson, weights } = await exportLayersModel(model);
      const metadata = metadataFor(name, ['NORMAL', 'PNEUMONIA'], 48);
      const bytes = layersModelToOnnx(modelJson, weights, {
        ...metadata,
        ...(members > 1 ? { ensemble: { kind: 'snapshot' as const, members } } : {}),
        outOfDistribution: detector,
      });
      const got = await onnxFeatures(bytes, x, width);
      expectSameFeaturesAndJudgement(bytes, detector, rows, got);
      const doc = outputsOf(bytes)[1].docString;
      expect(doc).toContain(
        `max_pooling2d_1 averaged over its rows and columns (${32 * members}), ` +
          `max_pooling2d_2 averaged over its rows and columns (${32 * members})`,
      );
      expect(doc).toContain(`dense_1 as it is (${64 * members}), image ln(mean |Laplacian| + 1e-4) of the input`);
      expect(doc).toContain('halved by 2x2 averages (4), concatenated in that order');
      expectValidWithBothOutputs(bytes, `ensemble-${name}-${members}.onnx`);
      tf.dispose(x);
      disposeCnn(model);
    },
  );

  it('reads layers named like the outputs, and the output layer itself, without mixing up tensors', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 3, kernelSize: 3, activation: 'relu', name: 'features' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 5, activation: 'relu', name: 'probabilities' }),
        tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'head' }),
      ],
    });
    perturbWeights(model, 6);
    const read: { name: string; pooling: OodPooling }[] = [
      { name: 'features', pooling: 'spatial-mean' },
      { name: 'probabilities', pooling: 'none' },
      { name: 'head', pooling: 'none' },
    ];
    const x = tf.randomUniform([16, 16, 16, 1], 0, 1, 'float32', 14) as tf.Tensor4D;
    const { rows, sizes } = pooledFeatures(model, read, x);
    const { detector } = fitFeatureEnsembleDetector(
      { features: rows.subarray(0, 10 * 9), labels: new Uint8Array(10).map((_, i) => i % 2) },
      rows.subarray(10 * 9),
      { layers: read.map((l, i) => ({ ...l, size: sizes[i] })), numClasses: 2 },
    );
    const { modelJson, weights } = await exportLayersModel(model);
    const bytes = layersModelToOnnx(modelJson, weights, {
      ...metadataFor('tutorial', ['NORMAL', 'PNEUMONIA'], 16),
      outOfDistribution: detector,
    });
    expectSameFeaturesAndJudgement(bytes, detector, rows, await onnxFeatures(bytes, x, 9));
    tf.dispose(x);
    model.dispose();
  });

  // 'same' padding where TensorFlow pads one pixel more after than before (ONNX's SAME_UPPER), a non-square map, softmax over channels.
  it('converts by the layer list: same padding, strides, dilation, Activation layers, BatchNormalization after Dense, Dense without bias', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [32, 32, 1], filters: 6, kernelSize: 3, strides: 2, padding: 'same' }), // 16x16
        tf.layers.activation({ activation: 'tanh' }),
        tf.layers.conv2d({ filters: 5, kernelSize: [2, 3], dilationRate: 2, activation: 'relu' }), // 14x12
        tf.layers.conv2d({ filters: 4, kernelSize: 2, padding: 'same' }),
        tf.layers.activation({ activation: 'softmax' }),
        tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), // 7x6
        tf.layers.flatten(),
        tf.layers.dense({ units: 7, useBias: false }),
        tf.layers.batchNormalization({ epsilon: 0.01 }),
        tf.layers.reLU(),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });
    perturbWeights(model, 4);
    const { maxDiff, spread } = await compare(model, metadataFor('tutorial', ['a', 'b', 'c', 'd'], 32));
    model.dispose();
    expect(spread).toBeGreaterThan(0.01);
    expect(maxDiff).toBeLessThan(1e-4);
  });
});
