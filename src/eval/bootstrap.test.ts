import { describe, expect, it } from 'vitest';
import { bootstrapIntervals, percentileInterval } from './bootstrap';

/** n images, the first `right` scored on the right side of 0.5 (half of them positive). */
function outcomes(n: number, right: number) {
  const positive = Uint8Array.from({ length: n }, (_, i) => i % 2);
  const scores = Float32Array.from({ length: n }, (_, i) =>
    i < right ? (positive[i] ? 0.9 : 0.1) : positive[i] ? 0.1 : 0.9,
  );
  return { scores, positive };
}

describe('bootstrapIntervals', () => {
  it('is exact when every resample gives the same figure', () => {
    const { scores, positive } = outcomes(40, 40);
    const { intervals, unit, units } = bootstrapIntervals({ scores, positive, threshold: 0.5, resamples: 200 });
    for (const interval of Object.values(intervals)) expect(interval).toEqual([1, 1]);
    expect(unit).toBe('images');
    expect(units).toBe(40);
  });

  it('matches the normal approximation for a proportion on a large sample', () => {
    // 2000 images, 80% right: 0.8 ± 1.96 * sqrt(0.8 * 0.2 / 2000) = 0.8 ± 0.0175.
    const { scores, positive } = outcomes(2000, 1600);
    const [low, high] = bootstrapIntervals({ scores, positive, threshold: 0.5, resamples: 1000, seed: 7 }).intervals
      .accuracy;
    expect(low).toBeCloseTo(0.8 - 0.0175, 2);
    expect(high).toBeCloseTo(0.8 + 0.0175, 2);
  });

  it('resamples patients: 400 patients of 5 alike images are as uncertain as 400 images', () => {
    // 320 of 400 patients right: 0.8 ± 1.96 * sqrt(0.16 / 400) = 0.8 ± 0.0392, not ± 0.0175.
    const n = 2000;
    const positive = Uint8Array.from({ length: n }, (_, i) => Math.floor(i / 5) % 2);
    const scores = Float32Array.from({ length: n }, (_, i) => (i < 1600 === Boolean(positive[i]) ? 0.9 : 0.1));
    const groups = Uint32Array.from({ length: n }, (_, i) => Math.floor(i / 5));
    const result = bootstrapIntervals({ scores, positive, threshold: 0.5, groups, resamples: 1000, seed: 3 });
    expect(result).toMatchObject({ unit: 'patients', units: 400 });
    const [low, high] = result.intervals.accuracy;
    expect(low).toBeCloseTo(0.8 - 0.0392, 1);
    expect(high - low).toBeGreaterThan(0.065);
    expect(high - low).toBeLessThan(0.095);
  });

  it('gives the same intervals for the same seed', () => {
    const { scores, positive } = outcomes(100, 70);
    const a = bootstrapIntervals({ scores, positive, threshold: 0.5, resamples: 100, seed: 5 });
    expect(bootstrapIntervals({ scores, positive, threshold: 0.5, resamples: 100, seed: 5 })).toEqual(a);
    expect(a.intervals.auc[0]).toBeLessThanOrEqual(0.7);
    expect(a.intervals.auc[1]).toBeGreaterThanOrEqual(0.7);
  });

  it('is undefined when the figure is undefined in most resamples', () => {
    const { intervals } = bootstrapIntervals({ scores: [0.9, 0.8], positive: [1, 1], threshold: 0.5, resamples: 50 });
    expect(intervals.specificity).toEqual([NaN, NaN]);
    expect(intervals.sensitivity).toEqual([1, 1]);
  });
});

describe('percentileInterval', () => {
  it('interpolates between order statistics', () => {
    const draws = Array.from({ length: 101 }, (_, i) => i / 100);
    const [low, high] = percentileInterval(draws);
    expect(low).toBeCloseTo(0.025, 10);
    expect(high).toBeCloseTo(0.975, 10);
  });
});
