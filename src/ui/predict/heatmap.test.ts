import { describe, expect, it } from 'vitest';
import { heatmapRgba, turboColor } from './heatmap';

describe('heatmapRgba', () => {
  it('colours heat with turbo, alpha growing with heat', () => {
    const rgba = heatmapRgba(Float32Array.from([0, 0.25, 0.5, 1]), 2, 0.5);
    expect(rgba).toHaveLength(16);
    expect(Array.from(rgba.subarray(0, 4))).toEqual([...turboColor(0), 0]);
    expect(Array.from(rgba.subarray(12, 16))).toEqual([...turboColor(1), 128]);
    expect(rgba[7]).toBe(32);
    // Turbo: dark blue-violet when cold, green-yellow in the middle, dark red when hot.
    expect(turboColor(0)).toEqual([0x23, 0x17, 0x1b]);
    expect(turboColor(1)).toEqual([0x91, 0x0b, 0x00]);
    const [r, g, b] = turboColor(0.5);
    expect(g).toBeGreaterThan(Math.max(r, b));
  });
});
