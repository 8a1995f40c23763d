import { describe, expect, it } from 'vitest';
import { applyTemperature, calibration, fitTemperature } from './calibration';

describe('calibration', () => {
  it('computes ECE and Brier by hand', () => {
    // Bins 0, 1, 8, 9 hold one image each: |0 - .05|, |1 - .15|, |1 - .85|, |1 - .95| -> (0.05 + 0.85 + 0.15 + 0.05) / 4.
    const c = calibration([0.05, 0.15, 0.95, 0.85], [0, 1, 1, 1]);
    expect(c.ece).toBeCloseTo(0.275, 10);
    // (0.0025 + 0.7225 + 0.0025 + 0.0225) / 4.
    expect(c.brier).toBeCloseTo(0.1875, 10);
    expect(c.bins).toHaveLength(10);
    expect(c.bins[1]).toMatchObject({ count: 1, observed: 1 });
    expect(c.bins[1].confidence).toBeCloseTo(0.15, 6);
    expect(c.bins[5].count).toBe(0);
    expect(c.bins[5].observed).toBeNaN();
  });
  it('puts 1 in the last bin, and averages within a bin', () => {
    const c = calibration([1, 0.92, 0.3, 0.35], [1, 0, 1, 0]);
    expect(c.bins[9]).toMatchObject({ count: 2, observed: 0.5 });
    expect(c.bins[9].confidence).toBeCloseTo(0.96, 10);
    // Bin 9: 2/4 * |0.5 - 0.96|; bin 3: 2/4 * |0.5 - 0.325|.
    expect(c.ece).toBeCloseTo(0.5 * 0.46 + 0.5 * 0.175, 10);
  });
  it('is NaN without images', () => {
    expect(calibration([], [])).toMatchObject({ ece: NaN, brier: NaN });
  });
});

describe('temperature scaling', () => {
  it('leaves scores alone at t = 1 and keeps softmax rows summing to 1', () => {
    expect(Array.from(applyTemperature([0.2, 0.9], 1, 1))).toEqual([expect.closeTo(0.2, 6), expect.closeTo(0.9, 6)]);
    const rows = applyTemperature([0.7, 0.2, 0.1], 3, 2);
    expect(rows[0] + rows[1] + rows[2]).toBeCloseTo(1, 6);
    expect(rows[0]).toBeLessThan(0.7);
  });
  it('fits the temperature that makes an overconfident model honest', () => {
    // Every image scored 0.9 and 75% of them positive: the best probability is 0.75, logit ln 3 = ln 9 / 2, so t = 2.
    const scores = new Float32Array(100).fill(0.9);
    const labels = Uint8Array.from({ length: 100 }, (_, i) => (i < 75 ? 1 : 0));
    expect(fitTemperature(scores, labels, 1)).toBeCloseTo(2, 3);
  });
});
