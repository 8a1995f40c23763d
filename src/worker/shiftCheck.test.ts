/** The Results' acquisition-shift check in the worker: a trained model's sample scored under each shift. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticSet } from '../model/testImages.testutil';
import { DEFAULT_SETTINGS, NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import { ACQUISITION_SHIFTS, shiftSampleIndices } from '../core/acquisitionShifts';
import { sampleOf } from './shiftCheck';
import type { TrainSettings } from '../core/types';
import { InMemoryTrainerPort } from './inMemoryTrainer.testutil';
import type { TrainerRequestOf, TrainerRequestType } from './protocol';
import { TrainerClient } from './trainerClient';

const SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The app's defaults, small and quick: one epoch at 32 px, per-image standardisation inside the model. */
const settings: TrainSettings = {
  ...DEFAULT_SETTINGS,
  ...NO_RECIPE,
  imageSize: SIZE,
  epochs: 1,
  batchSize: 8,
  backend: 'wasm',
  intensityNormalisation: 'per-image',
  augmentation: NO_AUGMENTATION,
};

/** A training worker without a Worker (a real Trainer), asked as the page asks it. */
function harness() {
  const client = new TrainerClient(() => new InMemoryTrainerPort());
  return <K extends TrainerRequestType>(request: TrainerRequestOf<K>) => client.request(request);
}

/** A worker that has trained on synthetic images: `validation` of them, and `test` (null: no test split). */
async function trainedOn(validation: number, test: number | null) {
  const ask = harness();
  const splits = {
    classNames: ['NORMAL', 'PNEUMONIA'],
    train: syntheticSet(16, SIZE, 2, 1),
    validation: syntheticSet(validation, SIZE, 2, 2),
    test: test === null ? null : syntheticSet(test, SIZE, 2, 3),
  };
  await ask({ type: 'setData', splits });
  return { ask, trained: await ask({ type: 'train', settings }) };
}

describe('the acquisition-shift check', () => {
  it('asks for a trained model first', async () => {
    const ask = harness();
    await expect(ask({ type: 'shiftCheck' })).rejects.toThrow(/no model/);
  });

  it('scores the test sample under every shift, judged like the test evaluation, leaving no tensor behind', async () => {
    const { ask, trained } = await trainedOn(8, 10);
    const test = trained.test!;
    const before = tf.memory().numTensors;
    const { check } = await ask({ type: 'shiftCheck' });
    expect(tf.memory().numTensors).toBe(before);
    expect(check).toMatchObject({ split: 'test', splitCount: 10, numClasses: 2 });
    expect(Array.from(check.labels)).toEqual(Array.from(test.labels));
    expect(check.shifts.map((s) => s.shift)).toEqual([...ACQUISITION_SHIFTS]);
    // `as is`: the test evaluation's own scores and judgements (single view, the same detector).
    const asIs = check.shifts[0];
    Array.from(asIs.scores).forEach((s, i) => expect(s).toBeCloseTo(test.scores[i], 5));
    const flagged = Array.from(test.ood!.distances, (d) => (d > test.ood!.threshold ? 1 : 0));
    expect(Array.from(asIs.unlike!)).toEqual(flagged);
    for (const shifted of check.shifts) {
      expect(shifted.scores).toHaveLength(10);
      expect(shifted.unlike).toHaveLength(10);
    }
    // The same sample and shifts each time.
    const { check: again } = await ask({ type: 'shiftCheck' });
    expect(again.shifts.map((s) => Array.from(s.scores))).toEqual(check.shifts.map((s) => Array.from(s.scores)));
    // Inverting a film changes what the model says about it.
    expect(Array.from(check.shifts[8].scores)).not.toEqual(Array.from(asIs.scores));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks validation where there is no test split', async () => {
    const { ask, trained } = await trainedOn(9, null);
    const { check } = await ask({ type: 'shiftCheck' });
    expect(check).toMatchObject({ split: 'validation', splitCount: 9 });
    expect(Array.from(check.labels)).toEqual(Array.from(trained.test!.labels));
    Array.from(check.shifts[0].scores).forEach((s, i) => expect(s).toBeCloseTo(trained.test!.scores[i], 5));
  });

  it('samples every k-th image of a split, its pixels and labels', () => {
    const set = {
      size: 2,
      count: 450,
      pixels: Uint8Array.from({ length: 1800 }, (_, i) => Math.floor(i / 4) % 256),
      labels: Uint8Array.from({ length: 450 }, (_, i) => i % 2),
    };
    const indices = shiftSampleIndices(set.count);
    expect(indices).toHaveLength(150);
    const sample = sampleOf(set, indices);
    expect(sample.count).toBe(150);
    // Image 3k: its 4 pixels hold 3k mod 256, its label 3k mod 2.
    expect(Array.from(sample.pixels.subarray(4 * 5, 4 * 6))).toEqual([15, 15, 15, 15]);
    expect(Array.from(sample.labels.subarray(0, 4))).toEqual([0, 1, 0, 1]);
  });
});
