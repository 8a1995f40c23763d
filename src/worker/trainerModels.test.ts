/** The Trainer's model: its export, its summary, and the requests about it that it refuses in words. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, isBatch, settings, setup, SIZE } from './trainerHarness.testutil';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Trainer: export', () => {
  it('exports a complete layers-format model that loads back and predicts the same', async () => {
    const { ask, replies, errors } = setup();
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    await ask({ type: 'exportModel' });
    expect(errors()).toEqual([]);
    const exported = replies('exportModel')[0];
    expect(exported).toMatchObject({ backend: 'wasm', epochsDone: 1 });
    expect(exported.weights).toBeInstanceOf(ArrayBuffer);

    const json = JSON.parse(exported.modelJson) as tf.io.ModelJSON;
    expect(json.format).toBe('layers-model');
    expect(json.generatedBy).toMatch(/^TensorFlow\.js tfjs-layers v/);
    expect(json.convertedBy).toBeNull();
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    const specs = json.weightsManifest[0].weights;
    // Kernel and bias of 4 Conv2D and 2 Dense layers, named as Keras would (not "_1"-suffixed
    // although this test file has built many models before).
    const layers = ['conv2d_1', 'conv2d_2', 'conv2d_3', 'conv2d_4', 'dense_1', 'dense_2'];
    expect(specs.map((s) => s.name)).toEqual(layers.flatMap((l) => [`${l}/kernel`, `${l}/bias`]));
    const expectedBytes = specs.reduce((sum, s) => sum + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
    expect(specs.every((s) => s.dtype === 'float32')).toBe(true);
    expect(exported.weights.byteLength).toBe(expectedBytes);
    expect(json.trainingConfig).toMatchObject({ loss: 'binary_crossentropy' });

    // Load it as a person would: model.json + the weights file it names.
    const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => [
      manifest[0].weights,
      exported.weights,
    ]);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const xs = tf.tidy(() => tf.randomUniform([4, SIZE, SIZE, 1]));
    const fresh = await ask({ type: 'exportModel' }).then(() => replies('exportModel')[1]);
    expect(fresh.weights.byteLength).toBe(expectedBytes);
    const reloaded = (loaded.predict(xs) as tf.Tensor).dataSync();
    const again = await tf.loadLayersModel(
      tf.io.fromMemory(
        await tf.io.getModelArtifactsForJSON(JSON.parse(fresh.modelJson) as tf.io.ModelJSON, async (m) => [
          m[0].weights,
          fresh.weights,
        ]),
      ),
    );
    const reloadedAgain = (again.predict(xs) as tf.Tensor).dataSync();
    expect(Array.from(reloaded)).toEqual(Array.from(reloadedAgain));
    expect(loaded.optimizer).toBeTruthy();
    tf.dispose(xs);
    loaded.dispose();
    again.dispose();
  });

  it('says there is nothing to export before training, and refuses during training', async () => {
    const { ask, errors } = setup({}, (m, t) => {
      if (isBatch(m, 1)) void t.ask({ type: 'exportModel' });
    });
    await ask({ type: 'exportModel' });
    expect(errors()[0].message).toMatch(/no trained model to download yet/);
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(errors()[1].message).toMatch(/Training is still running/);
  });
});

describe('Trainer: model summary and errors', () => {
  it('describes the tutorial model without keeping it', async () => {
    const { ask, replies } = setup();
    const before = tf.memory().numTensors;
    await ask({ type: 'describeModel', model: 'tutorial', imageSize: 150, numClasses: 2 });
    const summary = replies('describeModel')[0];
    expect(summary.imageSize).toBe(150);
    expect(summary.summary.totalParams).toBe(151_969);
    expect(summary.summary.layers[0]).toEqual({
      name: 'conv2d_1',
      className: 'Conv2D',
      outputShape: '[null,149,149,32]',
      params: 160,
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('describes and trains the model the settings name, and exports its running statistics', async () => {
    const { ask, replies, errors } = setup();
    await ask({ type: 'describeModel', model: 'batchnorm', imageSize: 150, numClasses: 2 });
    const described = replies('describeModel')[0];
    expect(described).toMatchObject({ model: 'batchnorm', imageSize: 150, summary: { totalParams: 152_449 } });
    expect(described.summary.layers[1].className).toBe('BatchNormalization');
    await ask(data());
    await ask({ type: 'train', settings: settings({ model: 'batchnorm', epochs: 1 }) });
    await ask({ type: 'exportModel' });
    expect(errors()).toEqual([]);
    const json = JSON.parse(replies('exportModel')[0].modelJson) as tf.io.ModelJSON;
    expect(json.weightsManifest[0].weights.map((w) => w.name)).toContain('batch_normalization_4/moving_variance');
  });

  it('refuses a model it does not know, naming the choices', async () => {
    const { ask, errors } = setup();
    await ask({ type: 'describeModel', model: 'resnet' as never, imageSize: 64, numClasses: 2 });
    expect(errors()[0].message).toBe('Model must be one of tutorial, batchnorm.');
  });

  it('explains what to do about a size below 31 px or above the form range', async () => {
    const { ask, errors } = setup();
    await ask({ type: 'describeModel', model: 'tutorial', imageSize: 24, numClasses: 2 });
    expect(errors()[0].message).toMatch(/too small.*at least 31 px/);
    await ask({ type: 'describeModel', model: 'tutorial', imageSize: 1000, numClasses: 2 });
    expect(errors()[1].message).toMatch(/Image size must be between 31 and 512/);
  });

  it('turns bad requests into messages and keeps working', async () => {
    const { ask, replies, errors } = setup();
    await ask({ type: 'train', settings: settings() });
    expect(errors()[0].message).toMatch(/No dataset is loaded/);

    const oneClass = data();
    oneClass.splits.classNames = ['NORMAL'];
    await ask(oneClass);
    expect(errors()[1].message).toMatch(/at least two classes/);

    const badLabels = data();
    badLabels.splits.train.labels[5] = 4;
    await ask(badLabels);
    expect(errors()[2].message).toMatch(/class 4, but there are only 2 classes/);

    await ask(data());
    await ask({ type: 'train', settings: settings({ imageSize: 64 }) });
    expect(errors()[3].message).toMatch(/prepared at 32 px but the settings ask for 64 px/);
    await ask({ type: 'train', settings: settings({ batchSize: 0 }) });
    expect(errors()[4].message).toMatch(/Batch size/);

    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(replies('train')).toHaveLength(1);
  });
});
