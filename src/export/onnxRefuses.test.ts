/** What layersModelToOnnx refuses, in words: unknown layers and activations, models and metadata that do not fit. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelMetadata, OodPooling } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { exportLayersModel } from '../model/layersFormat';
import { buildModel } from '../model/models';
import { layersModelToOnnx } from './onnx';
import { metadataFor, useOnnxTestSetup } from './onnxExport.testutil';

useOnnxTestSetup();

describe('layersModelToOnnx refuses', () => {
  let exported: { modelJson: string; weights: ArrayBuffer };
  const metadata = metadataFor('tutorial', ['NORMAL', 'PNEUMONIA'], 40);
  /** model.json with an edit made to its parsed object. */
  const edited = (
    edit: (json: {
      modelTopology: {
        class_name: string;
        config: { layers: { class_name: string; config: Record<string, unknown> }[] };
      };
    }) => void,
  ) => {
    const json = JSON.parse(exported.modelJson);
    edit(json);
    return JSON.stringify(json);
  };

  beforeAll(async () => {
    const model = buildModel('tutorial', { imageSize: 40, numClasses: 2, learningRate: 1e-3, seed: 2 });
    exported = await exportLayersModel(model);
    disposeCnn(model);
  });

  it('a layer it does not know, naming it and what it converts', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [40, 40, 1], filters: 2, kernelSize: 2 }),
        tf.layers.averagePooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    const { modelJson, weights } = await exportLayersModel(model);
    model.dispose();
    expect(() => layersModelToOnnx(modelJson, weights, metadata)).toThrow(
      /cannot convert layer average_pooling2d\w* \(AveragePooling2D\); it converts .*Conv2D/,
    );
  });

  it('an activation it does not know', () => {
    const json = edited((j) => (j.modelTopology.config.layers[9].config.activation = 'elu'));
    expect(() => layersModelToOnnx(json, exported.weights, metadata)).toThrow(/dense_1's activation "elu"/);
  });

  it('a model that is not Sequential', () => {
    const json = edited((j) => (j.modelTopology.class_name = 'Functional'));
    expect(() => layersModelToOnnx(json, exported.weights, metadata)).toThrow(/Sequential models only/);
  });

  it('metadata that does not describe the model', () => {
    expect(() =>
      layersModelToOnnx(exported.modelJson, exported.weights, metadataFor('tutorial', ['a', 'b', 'c'], 40)),
    ).toThrow(/does not match its metadata/);
    expect(() =>
      layersModelToOnnx(exported.modelJson, exported.weights, metadataFor('tutorial', ['a', 'b'], 64)),
    ).toThrow(/40x40x1 images/);
  });

  it('out-of-distribution statistics that do not fit the model, naming the layer and why', () => {
    /** A feature ensemble over `layers` (name, pooling, width), its statistics the identity. */
    const ensemble = (layers: [string, OodPooling, number][]): ModelMetadata => ({
      ...metadata,
      outOfDistribution: {
        method: 'mahalanobis-feature-ensemble',
        layers: layers.map(([featureLayer, pooling, size]) => ({
          featureLayer,
          pooling,
          classMeans: [new Array<number>(size).fill(0)],
          precision: Array.from({ length: size }, (_, i) => Array.from({ length: size }, (_, j) => +(i === j))),
          shrinkage: 0,
          scale: 1,
        })),
        threshold: 1,
        quantile: 0.95,
        trainImages: 2,
        validationImages: 2,
      },
    });
    const refusal = (layers: [string, OodPooling, number][]) => () =>
      layersModelToOnnx(exported.modelJson, exported.weights, ensemble(layers));
    expect(refusal([['max_pooling2d_1', 'spatial-mean', 32]])).not.toThrow();
    expect(refusal([['conv2d_9', 'spatial-mean', 32]])).toThrow(/no layer conv2d_9 for its out-of-distribution/);
    expect(refusal([['max_pooling2d_1', 'none', 32]])).toThrow(/read max_pooling2d_1 as a flat layer, but it is a 4-D/);
    expect(refusal([['dense_1', 'spatial-mean', 64]])).toThrow(/read dense_1 as a 4-D map .* but it is a flat layer/);
    expect(refusal([['max_pooling2d_3', 'spatial-mean', 32]])).toThrow(/as 32 features, but it gives 64/);
  });

  it('weights that do not fit the manifest', () => {
    expect(() => layersModelToOnnx(exported.modelJson, exported.weights.slice(0, 100), metadata)).toThrow(
      /weights\.bin is too short/,
    );
    const longer = new Uint8Array(exported.weights.byteLength + 4);
    expect(() => layersModelToOnnx(exported.modelJson, longer.buffer, metadata)).toThrow(/weights\.bin holds/);
  });
});
