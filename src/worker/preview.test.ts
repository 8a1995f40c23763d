import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticSet } from '../model/testImages.testutil';
import { NO_AUGMENTATION } from '../core/settings';
import { renderAugmentationPreview, type PreviewRequest } from './preview';
import type { Splits } from '../core/types';
import type { FromTrainer } from './protocol';
import { Trainer } from './trainer';

const SIZE = 32;
const AREA = SIZE * SIZE;
/** The page's sample picks (any train indices). */
const PICKS = [3, 0, 7, 12];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function data(): Splits {
  return {
    classNames: ['NORMAL', 'PNEUMONIA'],
    train: syntheticSet(20, SIZE, 2, 1),
    validation: syntheticSet(4, SIZE, 2, 2),
    test: null,
  };
}

function request(overrides: Partial<PreviewRequest> = {}): PreviewRequest {
  return {
    type: 'previewAugmentation',
    augmentation: { ...NO_AUGMENTATION, rotation: 20, zoom: 0.2 },
    seed: 1,
    indices: PICKS,
    variants: 3,
    ...overrides,
  };
}

describe('renderAugmentationPreview', () => {
  it('shows the images the page picked, each as often as asked, as grey bytes', async () => {
    const d = data();
    const picks = PICKS;
    // Nothing on: every variant is the image itself.
    const plain = await renderAugmentationPreview(d, request({ augmentation: NO_AUGMENTATION }));
    expect(plain).toMatchObject({ size: SIZE, count: 4, variants: 3 });
    expect(plain.classes).toEqual(picks.map((i) => d.classNames[d.train.labels[i]]));
    expect(plain.pixels).toHaveLength(4 * 3 * AREA);
    picks.forEach((image, s) => {
      const original = d.train.pixels.subarray(image * AREA, (image + 1) * AREA);
      for (let v = 0; v < 3; v++)
        expect(plain.pixels.subarray((s * 3 + v) * AREA, (s * 3 + v + 1) * AREA)).toEqual(original);
    });
  });

  it('changes with the settings, draws each variant apart, repeats for the same request, and leaks no tensor', async () => {
    const d = data();
    const before = tf.memory().numTensors;
    const a = await renderAugmentationPreview(d, request());
    const again = await renderAugmentationPreview(d, request());
    const other = await renderAugmentationPreview(d, request({ augmentation: { ...NO_AUGMENTATION, shift: 0.2 } }));
    expect(tf.memory().numTensors).toBe(before);
    expect(again.pixels).toEqual(a.pixels);
    expect(other.pixels).not.toEqual(a.pixels);
    expect(a.pixels.subarray(0, AREA)).not.toEqual(a.pixels.subarray(AREA, 2 * AREA));
  });

  it('refuses settings out of range and absurd counts', async () => {
    await expect(
      renderAugmentationPreview(data(), request({ augmentation: { ...NO_AUGMENTATION, zoom: 2 } })),
    ).rejects.toThrow(/Zoom/);
    await expect(renderAugmentationPreview(data(), request({ variants: 20 }))).rejects.toThrow(/1 to 64 images/);
    await expect(renderAugmentationPreview(data(), request({ indices: [0, 20] }))).rejects.toThrow(
      /train image 20, but the train split has 20/,
    );
  });
});

describe('Trainer: previewAugmentation', () => {
  it('answers with nothing to show before data has arrived, and with the images after', async () => {
    const messages: FromTrainer[] = [];
    const trainer = new Trainer((m) => messages.push(m));
    await trainer.handle({ id: 1, request: request() });
    expect(messages).toEqual([
      {
        type: 'reply',
        id: 1,
        reply: { type: 'previewAugmentation', size: 0, count: 0, variants: 3, classes: [], pixels: new Uint8Array(0) },
      },
    ]);
    await trainer.handle({ id: 2, request: { type: 'setData', splits: data() } });
    await trainer.handle({ id: 9, request: request() });
    expect(messages.map((m) => m.type)).toEqual(['reply', 'reply', 'reply']);
    expect(messages[2]).toMatchObject({
      id: 9,
      reply: { type: 'previewAugmentation', count: 4, variants: 3, size: SIZE },
    });
  });
});
