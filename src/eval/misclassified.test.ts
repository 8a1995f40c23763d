import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { binaryScores } from './metrics';
import { cellImages, misclassifiedAt, misclassifiedCandidates } from './misclassified';

describe('misclassified images', () => {
  it('lists the wrong ones worst first, with the probability of the positive class', () => {
    const result = {
      scores: Float32Array.from([0.9, 0.2, 0.6, 0.05, 0.7]),
      labels: Uint8Array.from([0, 1, 0, 1, 1]),
      numClasses: 2,
    };
    const predicted = Uint8Array.from(result.scores, (s) => (s >= 0.5 ? 1 : 0));
    const wrong = misclassifiedAt(result, predicted, [0, 1, 2, 3, 4]);
    // P(true class): image 3 0.05, image 0 0.1, image 1 0.2, image 2 0.4.
    expect(wrong.map((m) => m.index)).toEqual([3, 0, 1, 2]);
    expect(wrong[0]).toMatchObject({ truth: 1, predicted: 0 });
    expect(wrong[0].score).toBeCloseTo(0.05, 6);
    expect(wrong[1].score).toBeCloseTo(0.9, 6);
    expect(misclassifiedAt(result, predicted, [3], 48, 0)[0].score).toBeCloseTo(0.95, 6);
    expect(misclassifiedAt(result, predicted, [0, 1, 2, 3, 4], 2).map((m) => m.index)).toEqual([3, 0]);
    expect(misclassifiedAt(result, predicted, [1, 4])).toHaveLength(1);
  });

  it('sends the pixels of enough images for the worst at every threshold and positive class', () => {
    const random = mulberry32(5);
    const n = 400;
    const cap = 12;
    const labels = Uint8Array.from({ length: n }, () => (random() < 0.3 ? 0 : 1));
    // Coarse scores, so ties across the threshold are tested too.
    const scores = Float32Array.from(
      labels,
      (y) => Math.round((y ? 0.35 + 0.65 * random() : 0.65 * random()) * 20) / 20,
    );
    const result = { scores, labels, numClasses: 2 };
    const candidates = misclassifiedCandidates(result, cap);
    expect(candidates.length).toBeLessThanOrEqual(2 * cap);
    const everyone = Array.from({ length: n }, (_, i) => i);
    for (const positive of [0, 1]) {
      const positiveScores = binaryScores(result, positive);
      for (let t = 0.01; t < 1; t += 0.02) {
        const predicted = Uint8Array.from(positiveScores, (s) => (s >= t ? positive : 1 - positive));
        expect(misclassifiedAt(result, predicted, candidates, cap)).toEqual(
          misclassifiedAt(result, predicted, everyone, cap),
        );
      }
    }
  });

  it('for more classes, sends the worst of those the most probable class gets wrong', () => {
    const scores = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.3, 0.4, 0.3, 0.2, 0.2, 0.6]);
    const labels = Uint8Array.from([0, 1, 2, 2]);
    const result = { scores, labels, numClasses: 3 };
    expect(Array.from(misclassifiedCandidates(result))).toEqual([1, 2]);
    expect(Array.from(misclassifiedCandidates(result, 1))).toEqual([1]);
    const predicted = Uint8Array.from([0, 2, 1, 2]);
    expect(misclassifiedAt(result, predicted, [0, 1, 2, 3])).toEqual([
      { index: 1, truth: 1, predicted: 2, score: scores[5] },
      { index: 2, truth: 2, predicted: 1, score: scores[7] },
    ]);
  });
});

describe('cellImages', () => {
  it('lists one cell of the confusion matrix, least confident in the true class first, capped, with the total', () => {
    const result = {
      scores: Float32Array.from([0.9, 0.6, 0.2, 0.7, 0.95, 0.1]),
      labels: Uint8Array.from([1, 1, 0, 1, 1, 0]),
      numClasses: 2,
    };
    const predicted = Uint8Array.from([1, 1, 0, 1, 1, 0]);
    const { images, total } = cellImages(result, predicted, 1, 1, 2);
    expect(total).toBe(4);
    expect(images.map((m) => m.index)).toEqual([1, 3]);
    expect(images[0]).toMatchObject({ truth: 1, predicted: 1 });
    expect(images[0].score).toBeCloseTo(0.6, 6);
    expect(cellImages(result, predicted, 0, 1).total).toBe(0);
  });
});
