import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticSet } from '../model/testImages.testutil';
import { CpuOnlyBackends } from '../backends/cpuOnly.testutil';
import type { TrainingBackendsLike } from '../backends/trainingBackends';
import { CONTEXT_LOST_MESSAGE } from '../backends/webgl';
import { DEVICE_LOST_MESSAGE } from '../core/gpuLost';
import { NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import type { ImageSet, TrainSettings } from '../core/types';
import type {
  FromTrainer,
  TrainerReply,
  TrainerRequest,
  TrainerRequestOf,
  TrainerRequestType,
  TrainProgress,
} from './protocol';
import { Trainer } from './trainer';

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Progress<T extends TrainProgress['type']> = Extract<TrainProgress, { type: T }>;
type Event = FromTrainer & { type: 'progress' };

/**
 * A Trainer on the cpu backend whose posts are collected, with a hook to act on a given message.
 * `ask` sends a request under a fresh id and resolves when the Trainer has handled it.
 */
function setup(
  overrides: Partial<TrainingBackendsLike> = {},
  onMessage?: (m: FromTrainer, t: { ask: (request: TrainerRequest) => Promise<number> }) => void,
) {
  const messages: FromTrainer[] = [];
  const backends = Object.assign(new CpuOnlyBackends(), overrides);
  let nextId = 1;
  const ask = async (request: TrainerRequest): Promise<number> => {
    const id = nextId++;
    await trainer.handle({ id, request });
    return id;
  };
  const trainer: Trainer = new Trainer(
    (m) => {
      messages.push(m);
      onMessage?.(m, { ask });
    },
    { backends },
  );
  const progress = <T extends TrainProgress['type']>(type: T) =>
    messages.flatMap((m) => (m.type === 'progress' && m.progress.type === type ? [m.progress as Progress<T>] : []));
  const replies = <K extends TrainerRequestType>(type: K) =>
    messages.flatMap((m) =>
      m.type === 'reply' && m.reply.type === type ? [m.reply as Extract<TrainerReply, { type: K }>] : [],
    );
  const errors = () => messages.flatMap((m) => (m.type === 'error' ? [m] : []));
  /** Progress by its type, replies as `reply:<request type>`, errors as `error`. */
  const types = () =>
    messages.map((m) =>
      m.type === 'progress' ? m.progress.type : m.type === 'reply' ? `reply:${m.reply.type}` : 'error',
    );
  /** The evaluation in the (first) train reply. */
  const test = (n = 0) => {
    const result = replies('train')[n]?.test;
    if (!result) throw new Error('no evaluation in that train reply');
    return result;
  };
  return { trainer, ask, messages, requested: backends.requested, progress, replies, errors, types, test };
}

function isBatch(m: FromTrainer, batchesDone: number): m is Event {
  return m.type === 'progress' && m.progress.type === 'batchEnd' && m.progress.batchesDone === batchesDone;
}

function data(numClasses = 2, test: boolean = true): TrainerRequestOf<'setData'> {
  const names = ['NORMAL', 'PNEUMONIA', 'COVID'].slice(0, numClasses);
  return {
    type: 'setData',
    splits: {
      classNames: names,
      train: syntheticSet(48, SIZE, numClasses, 1),
      validation: syntheticSet(16, SIZE, numClasses, 2),
      test: test ? syntheticSet(20, SIZE, numClasses, 3) : null,
    },
  };
}

function settings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    model: 'tutorial',
    imageSize: SIZE,
    epochs: 2,
    batchSize: 8,
    learningRate: 2e-3,
    learningRateSchedule: 'constant',
    intensityNormalisation: 'none',
    backend: 'auto',
    seed: 1,
    classWeighting: 'balanced',
    patience: 3,
    // Off here (augment.test.ts covers it): these tests count on the images as they are.
    augmentation: { ...NO_AUGMENTATION },
    ...NO_RECIPE,
    ...overrides,
  };
}

describe('Trainer: a full run', () => {
  it('trains 2 epochs, reports every batch and epoch, evaluates on test, and keeps memory flat', async () => {
    const tensorsAtEpochEnd: number[] = [];
    const { ask, requested, progress, replies, errors, types, test } = setup({}, (m) => {
      if (m.type === 'progress' && m.progress.type === 'epochEnd') tensorsAtEpochEnd.push(tf.memory().numTensors);
    });
    await ask(data());
    expect(replies('setData')[0].counts).toEqual({ train: 48, validation: 16, test: 20 });
    await ask({ type: 'train', settings: settings({ backend: 'webgl' }) });

    expect(errors()).toEqual([]);
    expect(requested).toEqual(['webgl']);
    const sixBatches = Array<string>(6).fill('batchEnd');
    expect(types()).toEqual([
      'reply:setData',
      'backend',
      'trainingStarted',
      ...sixBatches,
      'epochEnd',
      'checkpoint',
      ...sixBatches,
      'epochEnd',
      'checkpoint',
      'evaluating',
      'reply:train',
    ]);
    expect(progress('backend')[0]).toEqual({ type: 'backend', name: 'cpu', requested: 'webgl', note: 'test backend' });
    expect(progress('trainingStarted')[0]).toEqual({
      type: 'trainingStarted',
      epochs: 2,
      batchesPerEpoch: 6,
      totalBatches: 12,
      classWeights: [1, 1],
    });

    const batches = progress('batchEnd');
    expect(batches).toHaveLength(12);
    expect(batches.map((b) => b.batchesDone)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(batches.map((b) => `${b.epoch}:${b.batch}`).slice(4, 8)).toEqual(['0:4', '0:5', '1:0', '1:1']);
    for (const b of batches) {
      expect(b.totalBatches).toBe(12);
      expect(Number.isFinite(b.loss)).toBe(true);
      expect(b.accuracy).toBeGreaterThanOrEqual(0);
      expect(b.accuracy).toBeLessThanOrEqual(1);
      expect(b.imagesPerSecond).toBeGreaterThan(0);
    }

    const epochs = progress('epochEnd');
    expect(epochs.map((e) => e.epoch)).toEqual([0, 1]);
    for (const e of epochs) {
      expect(e.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(e.valLoss)).toBe(true);
    }
    // The epoch's loss is the mean of its batches' losses (all batches are 8 images here).
    const meanLoss = batches.slice(0, 6).reduce((s, b) => s + b.loss, 0) / 6;
    expect(epochs[0].loss).toBeCloseTo(meanLoss, 6);

    expect(tensorsAtEpochEnd).toHaveLength(2);
    expect(tensorsAtEpochEnd[1]).toBe(tensorsAtEpochEnd[0]);

    const result = test();
    expect(result.numClasses).toBe(2);
    expect(result.scores).toBeInstanceOf(Float32Array);
    expect(result.scores).toHaveLength(20);
    expect(Array.from(result.labels)).toEqual(Array.from(data().splits.test?.labels ?? []));
    expect(result.accuracy).toBeGreaterThan(0.5);
    const ended = replies('train')[0];
    expect(ended).toMatchObject({ type: 'train', reason: 'completed', epochsDone: 2, restoredBest: true });
    // The best epoch is the one with the lowest validation loss, as each epochEnd said.
    const lowest = epochs[0].valLoss <= epochs[1].valLoss ? 0 : 1;
    expect(ended.bestEpoch).toBe(lowest);
    expect(epochs[1].bestEpoch).toBe(lowest);
    expect(result.gallery.size).toBe(SIZE);
    expect(result.gallery.pixels).toHaveLength(result.gallery.indices.length * SIZE * SIZE);
  });

  it('keeps the last partial batch and counts it', async () => {
    const { ask, progress, replies } = setup();
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1, batchSize: 20 }) });
    expect(progress('trainingStarted')[0]).toMatchObject({ batchesPerEpoch: 3, totalBatches: 3 });
    expect(progress('batchEnd')).toHaveLength(3);
    expect(replies('train')[0]).toMatchObject({ reason: 'completed', epochsDone: 1 });
  });

  it('trains a softmax model for three classes and scores every class', async () => {
    const { ask, errors, test } = setup();
    await ask(data(3));
    await ask({ type: 'train', settings: settings({ epochs: 1, batchSize: 16 }) });
    expect(errors()).toEqual([]);
    const result = test();
    expect(result.numClasses).toBe(3);
    expect(result.scores).toHaveLength(20 * 3);
    for (let i = 0; i < 20; i++)
      expect(result.scores[3 * i] + result.scores[3 * i + 1] + result.scores[3 * i + 2]).toBeCloseTo(1, 4);
  });

  it('evaluates on validation when there is no test split', async () => {
    const { ask, replies, test } = setup();
    await ask(data(2, false));
    expect(replies('setData')[0].counts.test).toBe(0);
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(test().scores).toHaveLength(16);
    expect(test().labels).toHaveLength(16);
  });

  it('frees the previous model when a new run starts', async () => {
    const { ask, replies } = setup();
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    const afterFirst = tf.memory().numTensors;
    await ask({ type: 'train', settings: settings({ epochs: 1, seed: 2 }) });
    expect(replies('train')).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(afterFirst);
  });
});

describe('Trainer: stopping', () => {
  it('stops after the current batch, keeps the model, and still evaluates on test', async () => {
    const { ask, progress, replies, types, test } = setup({}, (m, t) => {
      if (isBatch(m, 3)) void t.ask({ type: 'stop', run: m.id });
    });
    await ask(data());
    await ask({ type: 'train', settings: settings() });
    expect(progress('batchEnd')).toHaveLength(3);
    expect(progress('epochEnd')).toHaveLength(0);
    expect(types().slice(-2)).toEqual(['evaluating', 'reply:train']);
    expect(test().scores).toHaveLength(20);
    expect(replies('train')[0]).toMatchObject({
      type: 'train',
      reason: 'stopped',
      epochsDone: 0,
      bestEpoch: null,
      restoredBest: false,
    });
    // The stopped model can still be downloaded.
    await ask({ type: 'exportModel' });
    expect(replies('exportModel')).toHaveLength(1);
  });

  it('counts an epoch whose last batch ran before the stop', async () => {
    const { ask, progress, replies } = setup({}, (m, t) => {
      if (isBatch(m, 6)) void t.ask({ type: 'stop', run: m.id });
    });
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 3 }) });
    expect(progress('batchEnd')).toHaveLength(6);
    expect(progress('epochEnd')).toHaveLength(1);
    expect(replies('train')[0]).toMatchObject({ reason: 'stopped', epochsDone: 1 });
  });

  it('hears a Stop that arrives as a separate event while training runs', async () => {
    const { ask, progress, replies } = setup({}, (m, t) => {
      // Like a message from the page: queued as a task, not handled inside post().
      if (isBatch(m, 2)) setTimeout(() => void t.ask({ type: 'stop', run: m.id }), 0);
    });
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 5 }) });
    expect(progress('batchEnd').length).toBeLessThan(30);
    expect(replies('train')[0].reason).toBe('stopped');
    expect(replies('train')[0].test).not.toBeNull();
  });

  it('answers a Stop when nothing is training, or for another run, that there was nothing to stop', async () => {
    const { ask, messages, replies } = setup({}, (m, t) => {
      if (isBatch(m, 1)) void t.ask({ type: 'stop', run: m.id + 100 });
    });
    await ask({ type: 'stop', run: 1 });
    expect(messages).toEqual([{ type: 'reply', id: 1, reply: { type: 'stop', stopping: false } }]);
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(replies('stop').map((r) => r.stopping)).toEqual([false, false]);
    expect(replies('train')[0].reason).toBe('completed');
  });

  it('refuses a second Train while one runs, and the first run goes on', async () => {
    let second: Promise<number> | null = null;
    const { ask, progress, replies, errors } = setup({}, (m, t) => {
      if (isBatch(m, 1)) second = t.ask({ type: 'train', settings: settings() });
    });
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    await second;
    expect(errors().map((e) => e.message)).toEqual([
      'Training is already running. Press Stop first, or wait for it to end.',
    ]);
    expect(progress('trainingStarted')).toHaveLength(1);
    expect(replies('train')[0]).toMatchObject({ reason: 'completed', epochsDone: 1 });
  });

  it('ends a run whose dataset was replaced, without reporting results on the old data', async () => {
    const { ask, replies, errors } = setup({}, (m, t) => {
      if (isBatch(m, 2)) void t.ask(data());
    });
    await ask(data());
    const before = tf.memory().numTensors;
    await ask({ type: 'train', settings: settings() });
    expect(replies('setData')).toHaveLength(2);
    expect(replies('train')[0]).toMatchObject({ reason: 'stopped', test: null });
    expect(tf.memory().numTensors).toBe(before);
    await ask({ type: 'exportModel' });
    expect(errors().at(-1)?.message).toMatch(/no trained model/);
  });
});

describe('Trainer: export', () => {
  it('exports a complete layers-format model that loads back and predicts the same', async () => {
    const { ask, replies, errors } = setup();
    await ask(data());
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    await ask({ type: 'exportModel' });
    expect(errors()).toEqual([]);
    const exported = replies('exportModel')[0];
    expect(exported).toMatchObject({ backend: 'cpu', epochsDone: 1 });
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

  it('reports a lost WebGL context in words a person can act on, and can train again', async () => {
    let lose: (() => void) | null = null;
    let lostOnce = false;
    const { ask, progress, replies, errors } = setup(
      {
        watchContextLoss: (onLost) => {
          lose = onLost;
          return () => {
            lose = null;
          };
        },
      },
      (m) => {
        if (isBatch(m, 2) && !lostOnce) {
          lostOnce = true;
          lose?.();
        }
      },
    );
    await ask(data());
    const before = tf.memory().numTensors;
    await ask({ type: 'train', settings: settings() });
    expect(errors().map((e) => e.message)).toEqual([CONTEXT_LOST_MESSAGE]);
    expect(replies('train')).toHaveLength(0);
    expect(progress('batchEnd')).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(replies('train')).toHaveLength(1);
  });

  it('names a lost WebGPU device, also when a failed GPU read reaches the run before the loss does', async () => {
    let failedOnce = false;
    const { ask, replies, errors } = setup(
      {
        choose: async () => {
          await tf.setBackend('cpu');
          return { name: 'webgpu', note: '' };
        },
        // The browser tells of the lost device only after the read failed: the run asks, and waits.
        confirmLoss: async () => failedOnce,
      },
      (m) => {
        if (isBatch(m, 2) && !failedOnce) {
          failedOnce = true;
          throw new Error(
            "Failed to execute 'mapAsync' on 'GPUBuffer': Buffer was unmapped before mapping was resolved.",
          );
        }
      },
    );
    await ask(data());
    await ask({ type: 'train', settings: settings() });
    expect(errors().map((e) => e.message)).toEqual([DEVICE_LOST_MESSAGE]);
    await ask({ type: 'train', settings: settings({ epochs: 1 }) });
    expect(replies('train')).toHaveLength(1);
  });

  it('reports a backend that fails to start', async () => {
    const { ask, replies, errors } = setup({
      choose: async () => {
        throw new Error('Even the CPU backend of TensorFlow.js failed to start: reload the page.');
      },
    });
    await ask(data());
    await ask({ type: 'train', settings: settings() });
    expect(errors()[0].message).toMatch(/reload the page/);
    // The worker is still usable afterwards.
    await ask({ type: 'describeModel', model: 'tutorial', imageSize: 32, numClasses: 2 });
    expect(replies('describeModel')).toHaveLength(1);
  });
});

/** Helper check used above: sets made by syntheticSet really differ between classes. */
describe('synthetic images', () => {
  it('make class 1 brighter than class 0', () => {
    const set: ImageSet = syntheticSet(4, SIZE, 2, 5);
    const mean = (i: number) =>
      set.pixels.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE).reduce((a, b) => a + b, 0) / (SIZE * SIZE);
    expect(mean(1)).toBeGreaterThan(mean(0) + 30);
  });
});
