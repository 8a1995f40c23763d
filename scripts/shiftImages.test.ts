import { describe, expect, it } from 'vitest';
import { AS_PNG, shiftGrey } from './shiftImages';

const noNoise = () => 0;

describe('acquisition shifts', () => {
  it('leaves the control set unchanged: only the path to the page differs', () => {
    const grey = Float32Array.from({ length: 30 * 30 }, (_, i) => (i % 17) / 16);
    expect(shiftGrey(grey, 30, 30, AS_PNG, noNoise)).toEqual(grey);
  });

  it('equalizes the 8-bit grey as PIL ImageOps.equalize does', () => {
    // A skewed 24 x 24 image; the value pairs are what PIL 11 gave for the same image.
    const bytes = Array.from({ length: 24 * 24 }, (_, i) =>
      Math.floor((((i % 24) * 7 + Math.floor(i / 24) * 3) % 23) ** 2 / 3),
    );
    const pil = new Map([
      [0, 0],
      [1, 26],
      [3, 38],
      [5, 51],
      [8, 63],
      [12, 76],
      [16, 88],
      [21, 101],
      [27, 113],
      [33, 126],
      [40, 138],
      [48, 151],
      [56, 163],
      [65, 176],
      [75, 188],
      [85, 201],
      [96, 213],
      [108, 226],
      [120, 238],
      [133, 251],
      [147, 255],
      [161, 255],
    ]);
    const out = shiftGrey(
      Float32Array.from(bytes, (b) => b / 255),
      24,
      24,
      'equalize',
      noNoise,
    );
    bytes.forEach((b, i) => expect(Math.round(255 * out[i])).toBe(pil.get(b)));
    // One grey level: nothing to spread.
    expect([...shiftGrey(new Float32Array(600).fill(0.4), 30, 20, 'equalize', noNoise)]).toEqual(
      new Array(600).fill(Math.fround(102 / 255)),
    );
  });

  it('low-res averages a quarter of the side and scales back up as PIL bilinear does', () => {
    const w = 12;
    const h = 8;
    const grey = Float32Array.from({ length: w * h }, (_, i) => (((i % w) * 29 + Math.floor(i / w) * 53) % 256) / 255);
    const out = shiftGrey(grey, w, h, 'low-res', noNoise);
    expect(out).toHaveLength(w * h);
    // PIL: Image.fromarray(grey, 'F').resize((3, 2), BILINEAR).resize((12, 8), BILINEAR), first row and last row.
    const first = [0.48575, 0.48575, 0.48951, 0.49703, 0.50455, 0.51207, 0.50738, 0.49049, 0.4736, 0.45671, 0.44826];
    const last = [0.47131, 0.47131, 0.47579, 0.48475, 0.4937, 0.50266, 0.50246, 0.49309, 0.48372, 0.47435, 0.46967];
    first.forEach((v, x) => expect(out[x]).toBeCloseTo(v, 4));
    last.forEach((v, x) => expect(out[(h - 1) * w + x]).toBeCloseTo(v, 4));
    // A flat image stays flat.
    for (const v of shiftGrey(new Float32Array(150 * 150).fill(0.3), 150, 150, 'low-res', noNoise))
      expect(v).toBeCloseTo(0.3, 6);
  });

  it('sharpens by adding the difference from a blur of sigma 2 px at 150 px', () => {
    const w = 150;
    const step = Float32Array.from({ length: w * w }, (_, i) => (i % w < 75 ? 0.2 : 0.6));
    const blur = shiftGrey(step, w, w, 'blur 2 px', noNoise);
    const sharp = shiftGrey(step, w, w, 'sharpen', noNoise);
    for (const i of [0, 70, 74, 75, 76, 80, 149]) expect(sharp[i]).toBeCloseTo(2 * step[i] - blur[i], 6);
    // Overshoot on each side of the edge, none far from it.
    expect(sharp[74]).toBeLessThan(0.2);
    expect(sharp[75]).toBeGreaterThan(0.6);
    expect(sharp[10]).toBeCloseTo(0.2, 6);
    // The blur at 150 px spreads an edge over about 2 px: 2 px either side it has moved, 12 px away it has not.
    expect(blur[73]).toBeGreaterThan(0.2 + 0.01);
    expect(blur[63]).toBeCloseTo(0.2, 4);
  });

  it('keeps the pointwise shifts as they were measured', () => {
    const grey = Float32Array.from([0, 0.25, 0.5, 1]);
    expect([...shiftGrey(grey, 2, 2, 'inverted', noNoise)]).toEqual([1, 0.75, 0.5, 0]);
    expect([...shiftGrey(grey, 2, 2, 'gamma 0.5', noNoise)]).toEqual([0, 0.5, Math.fround(Math.SQRT1_2), 1]);
    expect([...shiftGrey(grey, 2, 2, 'gamma 2', noNoise)]).toEqual([0, 0.0625, 0.25, 1]);
    // Mean 0.4375: half the spread about it.
    expect([...shiftGrey(grey, 2, 2, 'contrast x0.5', noNoise)]).toEqual([0.21875, 0.34375, 0.46875, 0.71875]);
    expect([...shiftGrey(grey, 2, 2, 'noise', () => 1)]).toEqual([0.1, 0.35, 0.6, 1.1].map(Math.fround));
    expect([...shiftGrey(grey, 2, 2, 'crop 70%', noNoise)]).toEqual([...grey]);
  });
});
