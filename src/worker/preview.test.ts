import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, pickSamples } from '../data/splits';
import { syntheticSet } from '../model/testImages';
import { NO_AUGMENTATION } from './augmentSettings';
import { renderAugmentationPreview, type PreviewRequest } from './preview';
import type { FromTrainer } from './protocol';
import { Trainer } from './trainer';
import type { TrainingData } from './trainingRun';

const SIZE = 32;
const AREA = SIZE * SIZE;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function data(): TrainingData {
  return { classNames: ['NORMAL', 'PNEUMONIA'], train: syntheticSet(20, SIZE, 2, 1), validation: syntheticSet(4, SIZE, 2, 2), test: null };
}

function request(overrides: Partial<PreviewRequest> = {}): PreviewRequest {
  return { type: 'previewAugmentation', id: 1, augmentation: { ...NO_AUGMENTATION, rotation: 20, zoom: 0.2 }, seed: 1, count: 4, variants: 3, ...overrides };
}

describe('renderAugmentationPreview', () => {
  it("shows the sample grid's first images, each as often as asked, as grey bytes", async () => {
    const d = data();
    const picks = pickSamples(d.train.labels, 2, 4, mulberry32(1));
    // Nothing on: every variant is the image itself.
    const plain = await renderAugmentationPreview(d, request({ augmentation: NO_AUGMENTATION }));
    expect(plain).toMatchObject({ type: 'augmentationPreview', id: 1, size: SIZE, count: 4, variants: 3 });
    expect(plain.classes).toEqual(picks.map((i) => d.classNames[d.train.labels[i]]));
    expect(plain.pixels).toHaveLength(4 * 3 * AREA);
    picks.forEach((image, s) => {
      const original = d.train.pixels.subarray(image * AREA, (image + 1) * AREA);
      for (let v = 0; v < 3; v++) expect(plain.pixels.subarray((s * 3 + v) * AREA, (s * 3 + v + 1) * AREA)).toEqual(original);
    });
  });

  it('changes with the settings, draws each variant apart, repeats for the same request, and leaks no tensor', async () => {
    const d = data();
    const before = tf.memory().numTensors;
    const a = await renderAugmentationPreview(d, request());
    const again = await renderAugmentationPreview(d, request({ id: 2 }));
    const other = await renderAugmentationPreview(d, request({ augmentation: { ...NO_AUGMENTATION, shift: 0.2 } }));
    expect(tf.memory().numTensors).toBe(before);
    expect(again.id).toBe(2);
    expect(again.pixels).toEqual(a.pixels);
    expect(other.pixels).not.toEqual(a.pixels);
    expect(a.pixels.subarray(0, AREA)).not.toEqual(a.pixels.subarray(AREA, 2 * AREA));
  });

  it('refuses settings out of range and absurd counts', async () => {
    await expect(renderAugmentationPreview(data(), request({ augmentation: { ...NO_AUGMENTATION, zoom: 2 } }))).rejects.toThrow(/Zoom/);
    await expect(renderAugmentationPreview(data(), request({ count: 100 }))).rejects.toThrow(/1 to 64 images/);
  });
});

describe('Trainer: previewAugmentation', () => {
  it('answers once data has arrived, and says nothing before', async () => {
    const messages: FromTrainer[] = [];
    const trainer = new Trainer((m) => messages.push(m));
    await trainer.handle(request());
    expect(messages).toEqual([]);
    const d = data();
    await trainer.handle({ type: 'setData', classNames: d.classNames, train: d.train, validation: d.validation, test: null });
    await trainer.handle(request({ id: 9 }));
    expect(messages.map((m) => m.type)).toEqual(['dataReady', 'augmentationPreview']);
    expect(messages[1]).toMatchObject({ id: 9, count: 4, variants: 3, size: SIZE });
  });
});
