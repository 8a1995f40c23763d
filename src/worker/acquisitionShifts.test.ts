/** The acquisition shifts of the Results' stress test, on tiny images. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACQUISITION_SHIFTS, shiftSampleIndices, type AcquisitionShift } from '../core/acquisitionShifts';
import { applyAcquisitionShift } from './acquisitionShifts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SIDE = 12;

/** `n` images of SIDE px with values from `value(image, row, column)`. */
function images(n: number, value: (image: number, row: number, column: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) out.push(value(i, r, c));
  return out;
}

function shifted(values: number[], shift: AcquisitionShift, n = values.length / (SIDE * SIDE), first = 0) {
  const xs = tf.tensor4d(values, [n, SIDE, SIDE, 1]);
  const before = tf.memory().numTensors;
  const out = applyAcquisitionShift(xs, shift, first);
  // Only its result outlives the call.
  expect(tf.memory().numTensors).toBe(before + 1);
  expect(out.shape).toEqual([n, SIDE, SIDE, 1]);
  try {
    return Array.from(out.dataSync());
  } finally {
    out.dispose();
    xs.dispose();
  }
}

/** A ramp across the image, a different one for each of two images. */
const RAMPS = images(2, (i, r, c) => (i === 0 ? 0.1 + (0.8 * c) / (SIDE - 1) : 0.2 + (0.5 * (r + c)) / (2 * SIDE)));

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('acquisition shifts', () => {
  it.each<AcquisitionShift>(['as is', 'blurred', 'low resolution', 'tighter framing'])(
    'leaves a constant image constant: %s',
    (shift) => {
      const out = shifted(
        images(2, (i) => (i === 0 ? 0.3 : 0.85)),
        shift,
      );
      const area = SIDE * SIDE;
      for (const v of out.slice(0, area)) expect(v).toBeCloseTo(0.3, 5);
      for (const v of out.slice(area)) expect(v).toBeCloseTo(0.85, 5);
    },
  );

  it('blurs, lowers the resolution of and zooms into a structured image (each changes it)', () => {
    const stripes = images(1, (_, r, c) => ((r + c) % 2 === 0 ? 0.9 : 0.1));
    // Blurred (sigma 2 x 12 / 150 px, about 0.16): the checkerboard's fine detail softened towards its mean.
    const blurred = shifted(stripes, 'blurred');
    blurred.forEach((v, k) => expect(Math.abs(v - 0.5)).toBeLessThan(Math.abs(stripes[k] - 0.5)));
    // At a quarter of the resolution the checkerboard cannot be kept: most pixels change by far.
    const low = shifted(stripes, 'low resolution');
    expect(low.filter((v, k) => Math.abs(v - stripes[k]) > 0.3).length).toBeGreaterThan(stripes.length / 3);
    // The central 70% zoomed: a left-to-right ramp from 0 to 1 now runs from about 0.15 to 0.85.
    const ramp = shifted(
      images(1, (_, _r, c) => c / (SIDE - 1)),
      'tighter framing',
    );
    expect(ramp[0]).toBeCloseTo(0.15, 5);
    expect(ramp[SIDE - 1]).toBeCloseTo(0.85, 5);
  });

  it('halves the contrast about each image’s own mean, keeping it', () => {
    const out = shifted(RAMPS, 'contrast halved');
    const area = SIDE * SIDE;
    for (let i = 0; i < 2; i++) {
      const before = RAMPS.slice(i * area, (i + 1) * area);
      const after = out.slice(i * area, (i + 1) * area);
      const m = mean(before);
      expect(mean(after)).toBeCloseTo(m, 5);
      after.forEach((v, k) => expect(v).toBeCloseTo(m + (before[k] - m) / 2, 5));
    }
  });

  it('raises each pixel to the gamma and inverts, clipped to 0..1', () => {
    const values = images(1, (_, r, c) => ((r * SIDE + c) % 5) / 4);
    const brighter = shifted(values, 'brighter (gamma 0.5)');
    const darker = shifted(values, 'darker (gamma 2)');
    const inverted = shifted(values, 'inverted');
    values.forEach((v, k) => {
      expect(brighter[k]).toBeCloseTo(Math.sqrt(v), 5);
      expect(darker[k]).toBeCloseTo(v * v, 5);
      expect(inverted[k]).toBeCloseTo(1 - v, 5);
    });
  });

  it('adds seeded noise: the same each time and whatever the batch, about 0.1 sd, clipped', () => {
    const grey = images(4, () => 0.5);
    const once = shifted(grey, 'noise');
    expect(shifted(grey, 'noise')).toEqual(once);
    // Images 2 and 3 scored in a batch of their own (their first index 2) get the same noise.
    const area = SIDE * SIDE;
    expect(shifted(grey.slice(2 * area), 'noise', 2, 2)).toEqual(once.slice(2 * area));
    // Each image its own draw.
    expect(once.slice(0, area)).not.toEqual(once.slice(area, 2 * area));
    const deviations = once.map((v) => v - 0.5);
    const sd = Math.sqrt(mean(deviations.map((d) => d * d)));
    expect(sd).toBeGreaterThan(0.08);
    expect(sd).toBeLessThan(0.12);
    const bright = shifted(
      images(1, () => 1),
      'noise',
    );
    for (const v of bright) expect(v).toBeLessThanOrEqual(1);
  });

  it('keeps every shift in 0..1 and names them in the page’s order', () => {
    for (const shift of ACQUISITION_SHIFTS)
      for (const v of shifted(RAMPS, shift)) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
    expect(ACQUISITION_SHIFTS).toHaveLength(9);
    expect(ACQUISITION_SHIFTS[0]).toBe('as is');
  });

  it('samples every k-th image, at most 200, the same each time', () => {
    expect(shiftSampleIndices(5)).toEqual([0, 1, 2, 3, 4]);
    const many = shiftSampleIndices(624);
    expect(many.length).toBeLessThanOrEqual(200);
    expect(many.slice(0, 3)).toEqual([0, 4, 8]);
    expect(shiftSampleIndices(624)).toEqual(many);
    expect(shiftSampleIndices(400)).toHaveLength(200);
    expect(shiftSampleIndices(0)).toEqual([]);
  });
});
