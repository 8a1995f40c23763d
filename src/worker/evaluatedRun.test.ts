import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import type { EvalSettings } from '../core/types';
import { syntheticSet } from '../model/testImages.testutil';
import type { FromTrainer, TrainerReplies, TrainerRequest } from './protocol';
import { Trainer } from './trainer';
import { keptScores } from './evaluatedRun';
import { settings as trainSettings } from './trainerHarness.testutil';

const SIZE = 32;
const EVAL: EvalSettings = {
  thresholdRule: 'youden',
  targetSensitivity: 95,
  temperatureScaling: true,
  testTimeAugmentation: 'off',
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function setup() {
  const messages: FromTrainer[] = [];
  const trainer = new Trainer((m) => messages.push(m), { backends: new WasmOnlyBackends() });
  let nextId = 1;
  /** The reply to `request`, or the error's message. */
  const ask = async <K extends TrainerRequest['type']>(
    request: TrainerRequest & { type: K },
  ): Promise<TrainerReplies[K] | string> => {
    const id = nextId++;
    await trainer.handle({ id, request });
    const answer = messages.find((m) => m.id === id && m.type !== 'progress');
    if (answer?.type === 'error') return answer.message;
    if (answer?.type === 'reply') return answer.reply as unknown as TrainerReplies[K];
    throw new Error('no answer');
  };
  return { ask };
}

function splits() {
  const test = syntheticSet(20, SIZE, 2, 3);
  // Two images a patient in test.
  test.groups = Uint32Array.from({ length: 20 }, (_, i) => 100 + Math.floor(i / 2));
  return {
    classNames: ['NORMAL', 'PNEUMONIA'],
    train: syntheticSet(48, SIZE, 2, 1),
    validation: syntheticSet(16, SIZE, 2, 2),
    test,
  };
}

const settings = trainSettings({ backend: 'wasm' });

describe('Trainer: evaluate and evaluatedImages', () => {
  it('reports validation and test at the operating point chosen on validation, with intervals, without new tensors', async () => {
    const { ask } = setup();
    expect(await ask({ type: 'evaluate', positiveClass: 1, settings: EVAL })).toMatch(/train one first/);
    await ask({ type: 'setData', splits: splits() });
    const trained = await ask({ type: 'train', settings });
    if (typeof trained === 'string') throw new Error(trained);
    const tensors = tf.memory().numTensors;

    const answer = await ask({ type: 'evaluate', positiveClass: 1, settings: EVAL });
    if (typeof answer === 'string') throw new Error(answer);
    const { report } = answer;
    expect(report.operatingPoint.rule).toBe('youden');
    expect(report.validation).toMatchObject({ split: 'validation', count: 16, unit: 'images', units: 16 });
    expect(report.test).toMatchObject({ split: 'test', count: 20, unit: 'patients', units: 10 });
    expect(report.temperature).toBeGreaterThan(0);
    const test = report.test;
    if (!test) throw new Error('no test report');
    expect(test.metrics.threshold).toBe(report.operatingPoint.threshold);
    for (const [low, high] of Object.values(test.intervals)) expect(low).toBeLessThanOrEqual(high);
    expect(test.intervals.accuracy[0]).toBeLessThanOrEqual(test.metrics.accuracy);
    expect(test.intervals.accuracy[1]).toBeGreaterThanOrEqual(test.metrics.accuracy);
    // The test reply's scores were the page's; the worker kept its own, so a second report is the same.
    expect(await ask({ type: 'evaluate', positiveClass: 1, settings: EVAL })).toEqual(answer);
    expect(tf.memory().numTensors).toBe(tensors);

    const images = await ask({ type: 'evaluatedImages', indices: [3, 0] });
    if (typeof images === 'string') throw new Error(images);
    expect(images.size).toBe(SIZE);
    expect(Array.from(images.indices)).toEqual([3, 0]);
    const area = SIZE * SIZE;
    expect(Array.from(images.pixels.subarray(0, 5))).toEqual(
      Array.from(splits().test.pixels.subarray(3 * area, 3 * area + 5)),
    );
    expect(await ask({ type: 'evaluatedImages', indices: [20] })).toMatch(/no image 20/);
    expect(await ask({ type: 'evaluate', positiveClass: 2, settings: EVAL })).toMatch(/positive class/);
    expect(await ask({ type: 'evaluate', positiveClass: 1, settings: { ...EVAL, targetSensitivity: 20 } })).toMatch(
      /^Target sensitivity must be between/,
    );

    // New data: the old model's scores no longer apply.
    await ask({ type: 'setData', splits: splits() });
    expect(await ask({ type: 'evaluate', positiveClass: 1, settings: EVAL })).toMatch(/train one first/);
  });
});

describe('keptScores', () => {
  it('keeps its own copy of the judgement, with the layers that judged and the score’s parts', () => {
    const set = syntheticSet(3, SIZE, 2, 4);
    const ood = {
      distances: Float32Array.from([1, 2, 3]),
      threshold: 2.5,
      layers: ['dense_1', 'image'],
      parts: Float32Array.from([0.5, 0.5, 1, 1, 1, 2]),
      detailRatio: Float32Array.from([1, 1, 0.4]),
    };
    const kept = keptScores(set, Float32Array.from([0.1, 0.5, 0.9]), ood).ood!;
    expect(kept).toEqual(ood);
    // The reply's buffers are transferred to the page: the worker's copy must not share them.
    expect(kept.distances.buffer).not.toBe(ood.distances.buffer);
    expect(kept.parts!.buffer).not.toBe(ood.parts.buffer);
    expect(kept.detailRatio!.buffer).not.toBe(ood.detailRatio.buffer);
  });
});
