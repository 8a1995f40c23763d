import { describe, expect, it } from 'vitest';
import { rgbaToGrey } from './grey';

describe('rgbaToGrey', () => {
  it('leaves grey pixels exactly as they are, whatever the alpha', () => {
    const rgba = new Uint8ClampedArray(256 * 4);
    for (let v = 0; v < 256; v++) rgba.set([v, v, v, v % 2 ? 255 : 17], v * 4);
    expect([...rgbaToGrey(rgba)]).toEqual(Array.from({ length: 256 }, (_, v) => v));
  });

  it('weighs channels as PIL convert("L") does', () => {
    const rgba = Uint8Array.from([
      255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 200, 30, 255, 255, 255, 255, 255, 0, 0, 0, 0,
    ]);
    // PIL's L24 fixed point: (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16, worked by hand.
    expect([...rgbaToGrey(rgba)]).toEqual([76, 150, 29, 124, 255, 0]);
  });

  it('agrees with round(0.299 R + 0.587 G + 0.114 B) away from ties', () => {
    let state = 12345;
    const next = () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
    const rgba = Uint8Array.from({ length: 4000 }, next);
    const grey = rgbaToGrey(rgba);
    for (let i = 0; i < 1000; i++) {
      const exact = 0.299 * rgba[i * 4] + 0.587 * rgba[i * 4 + 1] + 0.114 * rgba[i * 4 + 2];
      expect(Math.abs(grey[i] - exact)).toBeLessThanOrEqual(0.5 + 1e-3);
    }
  });

  it('writes into a given buffer and refuses one too small', () => {
    const out = new Uint8Array(3);
    expect(rgbaToGrey(new Uint8Array([9, 9, 9, 255, 7, 7, 7, 255]), out)).toBe(out);
    expect([...out]).toEqual([9, 7, 0]);
    expect(() => rgbaToGrey(new Uint8Array(16), new Uint8Array(3))).toThrow(RangeError);
  });
});
