import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/random';
import { IMAGE_DETAIL_LAYER, type OodFeatureLayer, type OodJudgement } from '../core/types';
import { fitFeatureEnsembleDetector } from './featureEnsemble';
import { judge } from './outOfDistribution';
import { unlikeReasonCounts, unlikeReasonOf } from './oodReasons';

const LAYERS: OodFeatureLayer[] = [
  { name: 'max_pooling2d_1', size: 2, pooling: 'spatial-mean' },
  { name: 'dense_1', size: 2, pooling: 'none' },
  { name: IMAGE_DETAIL_LAYER, size: 4, pooling: 'detail-octaves' },
];

/**
 * n rows of an early layer (2), a late layer (2; class c at (3c, 0)) and a detail member (4 log-detail numbers about
 * ln 10 for normal films, ln 8 for pneumonia). `shift` moves one member: `early` by 8 units, `detail` by a factor.
 */
function rows(n: number, seed: number, shift: { early?: number; detailFactor?: number } = {}) {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const features = new Float32Array(n * 8);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    labels[i] = c;
    const level = Math.log(c === 0 ? 10 : 8) + Math.log(shift.detailFactor ?? 1) + 0.05 * normal();
    features.set(
      [
        normal() + (shift.early ?? 0),
        normal(),
        3 * c + normal(),
        normal(),
        ...[0, 1, 2, 3].map(() => level + 0.02 * normal()),
      ],
      i * 8,
    );
  }
  return { features, labels };
}

describe('why an image is unlike the training data', () => {
  const { detector } = fitFeatureEnsembleDetector(rows(1500, 1), rows(500, 2).features, {
    layers: LAYERS,
    numClasses: 2,
  });

  it('takes the score apart: the parts, each in units of its layer’s median, sum to the score', () => {
    const judged = judge(detector, rows(50, 3).features);
    expect(judged.layers).toEqual(['max_pooling2d_1', 'dense_1', 'image']);
    expect(judged.parts).toHaveLength(150);
    judged.distances.forEach((score, i) => {
      const sum = judged.parts![3 * i] + judged.parts![3 * i + 1] + judged.parts![3 * i + 2];
      expect(sum).toBeCloseTo(score, 4);
    });
    // Unshifted images: their detail is about that of their class (ratio near 1).
    for (const ratio of judged.detailRatio!) expect(Math.abs(Math.log(ratio))).toBeLessThan(0.25);
  });

  it('names the detail, softer or sharper by how many times the training films’ detail, or the early layers', () => {
    const blurred = judge(detector, rows(40, 4, { detailFactor: 0.3 }).features);
    const noisy = judge(detector, rows(40, 5, { detailFactor: 4 }).features);
    const early = judge(detector, rows(40, 6, { early: 8 }).features);
    for (let i = 0; i < 40; i++) {
      const soft = unlikeReasonOf(blurred, i)!;
      expect(soft.kind).toBe('detail');
      if (soft.kind === 'detail') {
        // 0.3 times its own class's detail: 0.3 against normal films, 0.375 against pneumonia's (the nearest).
        expect(soft.ratio).toBeGreaterThan(0.24);
        expect(soft.ratio).toBeLessThan(0.42);
        expect(soft.share).toBeGreaterThan(0.9);
      }
      const sharp = unlikeReasonOf(noisy, i)!;
      // 4 times its own class's detail: 4 against normal films, 3.2 against them for pneumonia's (the nearest).
      expect(sharp.kind === 'detail' && sharp.ratio > 2.7 && sharp.ratio < 4.8).toBe(true);
      expect(unlikeReasonOf(early, i)).toMatchObject({ kind: 'layer', layer: 'max_pooling2d_1', early: true });
    }
    expect(unlikeReasonCounts(blurred)).toEqual({ softer: 40, sharper: 0, earlyLayers: 0, laterLayers: 0, unknown: 0 });
    expect(unlikeReasonCounts(noisy).sharper).toBe(40);
    expect(unlikeReasonCounts(early).earlyLayers).toBe(40);
  });

  it('cannot say for the last layer alone, a judgement kept without parts, or damaged parts', () => {
    const judged = judge(detector, rows(4, 7, { early: 8 }).features);
    const without: OodJudgement = { distances: judged.distances, threshold: judged.threshold };
    expect(unlikeReasonOf(without, 0)).toBeNull();
    expect(unlikeReasonOf({ ...judged, parts: judged.parts!.subarray(1) }, 0)).toBeNull();
    expect(unlikeReasonOf({ ...judged, layers: ['dense_1'] }, 0)).toBeNull();
    expect(unlikeReasonOf({ ...judged, layers: [1, 2, 3] as unknown as string[] }, 0)).toBeNull();
    expect(unlikeReasonOf(judged, 4)).toBeNull();
    expect(unlikeReasonCounts(without)).toMatchObject({ unknown: 4 });
  });
});
