/** The worker's kept model across requests: a run resumed from its checkpoint, a restored model, Predict, Evaluate. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import { syntheticSet } from '../model/testImages.testutil';
import type { IntensityNormalisation, ModelFiles, TrainSettings } from '../core/types';
import type { FromTrainer, TrainerReplies, TrainerRequest, TrainProgress } from './protocol';
import { Trainer } from './trainer';
import { settings as trainSettings } from './trainerHarness.testutil';

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const settings = (overrides: Partial<TrainSettings> = {}): TrainSettings =>
  trainSettings({ model: 'batchnorm', backend: 'wasm', seed: 4, ...overrides });

function harness() {
  const messages: FromTrainer[] = [];
  const trainer = new Trainer((m) => messages.push(m), { backends: new WasmOnlyBackends('') });
  let id = 0;
  const ask = async <K extends TrainerRequest['type']>(
    request: Extract<TrainerRequest, { type: K }>,
  ): Promise<TrainerReplies[K]> => {
    const mine = ++id;
    await trainer.handle({ id: mine, request });
    const answer = messages.find((m) => (m.type === 'reply' || m.type === 'error') && m.id === mine);
    if (!answer || answer.type === 'error') throw new Error(answer?.type === 'error' ? answer.message : 'no answer');
    return (answer as Extract<FromTrainer, { type: 'reply' }>).reply as unknown as TrainerReplies[K];
  };
  const progressOf = (request: number) =>
    messages.flatMap((m): TrainProgress[] => (m.type === 'progress' && m.id === request ? [m.progress] : []));
  return { trainer, ask, progressOf, lastId: () => id };
}

const data = () => ({
  classNames: ['NORMAL', 'PNEUMONIA'],
  train: syntheticSet(16, SIZE, 2, 1),
  validation: syntheticSet(8, SIZE, 2, 2),
  test: syntheticSet(8, SIZE, 2, 3),
});

describe('the kept model', () => {
  it('resumes a run from its last checkpoint: the epochs go on from where they were, with the best epoch carried over', async () => {
    const { ask, progressOf, lastId } = harness();
    await ask({ type: 'setData', splits: data() });
    const first = await ask({ type: 'train', settings: settings() });
    const firstRun = lastId();
    const checkpoints = progressOf(firstRun).filter(
      (p): p is Extract<TrainProgress, { type: 'checkpoint' }> => p.type === 'checkpoint',
    );
    expect(checkpoints.map((c) => c.epoch)).toEqual([0, 1]);
    expect(first.model).not.toBeNull();
    const epochs = progressOf(firstRun).filter((p) => p.type === 'epochEnd') as Extract<
      TrainProgress,
      { type: 'epochEnd' }
    >[];
    const best = epochs[epochs[1].bestEpoch];

    const before = tf.memory().numTensors;
    const resumed = await ask({
      type: 'train',
      settings: settings({ epochs: 1 }),
      resume: {
        checkpoint: checkpoints[1].files,
        epochsDone: 2,
        batchesDone: 4,
        best: { epoch: best.epoch, valLoss: best.valLoss, files: checkpoints[best.epoch].files },
      },
    });
    const run = progressOf(lastId());
    expect(run.find((p) => p.type === 'trainingStarted')).toMatchObject({ epochs: 3, totalBatches: 6 });
    const batches = run.filter((p) => p.type === 'batchEnd') as Extract<TrainProgress, { type: 'batchEnd' }>[];
    expect(batches.map((b) => [b.epoch, b.batchesDone])).toEqual([
      [2, 5],
      [2, 6],
    ]);
    const end = run.find((p) => p.type === 'epochEnd') as Extract<TrainProgress, { type: 'epochEnd' }>;
    expect(end.epoch).toBe(2);
    // The best epoch so far counts: epoch 2 is best only if it beat it.
    expect(end.bestEpoch).toBe(end.valLoss < best.valLoss ? 2 : best.epoch);
    expect(resumed.epochsDone).toBe(3);
    // Test-time adaptation: the test split scored again with BatchNorm re-estimated on it; validation untouched.
    const evalSettings = {
      thresholdRule: 'fixed' as const,
      targetSensitivity: 95,
      temperatureScaling: false,
      testTimeAugmentation: 'off' as const,
    };
    const plain = await ask({ type: 'evaluate', positiveClass: 1, settings: evalSettings });
    const adapted = await ask({ type: 'adaptedReport', positiveClass: 1, settings: evalSettings });
    expect(adapted.report.validation.metrics).toEqual(plain.report.validation.metrics);
    expect(adapted.report.test?.count).toBe(plain.report.test?.count);
    // Test-time augmentation: validation and test scored again (7 views an image), the plain report unchanged after.
    const tta = await ask({
      type: 'evaluate',
      positiveClass: 1,
      settings: { ...evalSettings, testTimeAugmentation: 'shift-scale' },
    });
    expect(tta.report.test?.count).toBe(plain.report.test?.count);
    expect(JSON.stringify(tta.report.validation)).not.toBe(JSON.stringify(plain.report.validation));
    expect((await ask({ type: 'evaluate', positiveClass: 1, settings: evalSettings })).report).toEqual(plain.report);
    expect(resumed.test).not.toBeNull();
    // One model replaced another: no tensors left over.
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each<IntensityNormalisation>(['none', 'per-image'])(
    'restores a model (intensity normalisation %s) from its files, predicts with Grad-CAM maps, and evaluates it on a dataset without training',
    async (intensityNormalisation) => {
      const { ask } = harness();
      await ask({ type: 'setData', splits: data() });
      const trained = await ask({ type: 'train', settings: settings({ epochs: 1, intensityNormalisation }) });
      const files = trained.model as ModelFiles;
      const first = (JSON.parse(files.modelJson) as tf.io.ModelJSON).modelTopology as {
        config: { layers: { class_name: string }[] };
      };
      expect(first.config.layers[0].class_name).toBe(
        intensityNormalisation === 'per-image' ? 'PerImageStandardization' : 'Conv2D',
      );
      const images = syntheticSet(3, SIZE, 2, 9);
      const pixels = images.pixels.slice(0, 3 * SIZE * SIZE);
      const predictRequest = () => ({
        type: 'predict' as const,
        pixels: pixels.slice(),
        count: 3,
        size: SIZE,
        explain: true,
        threshold: null,
      });
      const direct = await ask(predictRequest());
      // With test-time augmentation the scores are the mean over the views; the maps stay the image's own.
      const averaged = await ask({ ...predictRequest(), testTimeAugmentation: 'shift-scale' });
      expect(averaged.scores).toHaveLength(3);
      expect(Array.from(averaged.scores)).not.toEqual(Array.from(direct.scores));
      expect(Array.from(averaged.maps)).toEqual(Array.from(direct.maps));

      // A fresh worker (a reload): no data, no model, until the saved files come back.
      const fresh = harness();
      await expect(
        fresh.ask({ type: 'predict', pixels: pixels.slice(), count: 3, size: SIZE, explain: false, threshold: null }),
      ).rejects.toThrow(/no model/);
      const restored = await fresh.ask({
        type: 'restoreModel',
        files,
        model: 'batchnorm',
        numClasses: 2,
        scores: trained.scores,
        epochs: 1,
      });
      expect(restored).toMatchObject({ imageSize: SIZE, numClasses: 2 });
      const again = await fresh.ask(predictRequest());
      Array.from(again.scores).forEach((s, i) => expect(s).toBeCloseTo(direct.scores[i], 5));
      expect(again.mapSide).toBeGreaterThan(0);
      expect(again.maps).toHaveLength(3 * again.mapSide ** 2);
      Array.from(again.maps).forEach((v, i) => expect(v).toBeCloseTo(direct.maps[i], 4));
      // Its saved scores answer `evaluate` again; its images are not there.
      const report = await fresh.ask({
        type: 'evaluate',
        positiveClass: 1,
        settings: {
          thresholdRule: 'fixed',
          targetSensitivity: 95,
          temperatureScaling: false,
          testTimeAugmentation: 'off' as const,
        },
      });
      expect(report.report.test).not.toBeNull();
      await expect(fresh.ask({ type: 'evaluatedImages', indices: [0] })).rejects.toThrow(/load its dataset again/);
      // With a dataset, the restored model is scored without training.
      await fresh.ask({ type: 'setData', splits: data() });
      const evaluated = await fresh.ask({ type: 'evaluateModel', batchSize: 8 });
      expect(evaluated.test.labels).toHaveLength(8);
      expect(evaluated.test.accuracy).toBeCloseTo(trained.test!.accuracy, 6);
      // Files that do not fit what the page says are refused, and the kept model stays.
      await expect(
        fresh.ask({ type: 'restoreModel', files, model: 'batchnorm', numClasses: 3, scores: null, epochs: 1 }),
      ).rejects.toThrow(/3 classes/);
      await fresh.ask({
        type: 'predict',
        pixels: pixels.slice(),
        count: 3,
        size: SIZE,
        explain: false,
        threshold: null,
      });
    },
  );
});
