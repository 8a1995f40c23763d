import { describe, expect, it } from 'vitest';
import { DownsampledSeries, EmaSmoother, smoothEma, type CurvePoint } from './series';

describe('smoothEma (TensorBoard smoothing)', () => {
  it('is the identity at weight 0 and debiased from the first point', () => {
    expect(smoothEma([3, 1, 4], 0)).toEqual([3, 1, 4]);
    // Debiased: a constant series stays constant from its first point (a plain EMA from 0 would start at 0.4).
    for (const v of smoothEma([1, 1, 1, 1], 0.6)) expect(v).toBeCloseTo(1, 12);
  });

  it('matches the hand-computed values', () => {
    // w = 0.5: last = 0.5*0 + 0.5*2 = 1, debias 0.5 -> 2; last = 0.5*1 + 0.5*4 = 2.5, debias 0.75 -> 3.3333
    const [a, b] = smoothEma([2, 4], 0.5);
    expect(a).toBeCloseTo(2, 12);
    expect(b).toBeCloseTo(2.5 / 0.75, 12);
  });

  it('lets NaN through without poisoning the average', () => {
    const s = new EmaSmoother(0.5);
    expect(s.next(2)).toBeCloseTo(2);
    expect(s.next(Number.NaN)).toBeNaN();
    expect(s.next(4)).toBeCloseTo(2.5 / 0.75);
  });

  it('refuses weights outside [0, 1)', () => {
    expect(() => new EmaSmoother(1)).toThrow(RangeError);
    expect(() => new EmaSmoother(-0.1)).toThrow(RangeError);
  });
});

describe('DownsampledSeries', () => {
  const point = (i: number): CurvePoint => ({ x: i / 10, value: i, smoothed: i, batches: 1 });

  it('appends until the cap, then merges the older half and asks for a redraw', () => {
    const series = new DownsampledSeries(8);
    for (let i = 0; i < 8; i++) expect(series.add(point(i)).kind).toBe('append');
    const change = series.add(point(8));
    expect(change.kind).toBe('reset');
    expect(series.drawn.length).toBeLessThanOrEqual(8);
    // The recent points are untouched, the oldest are means of pairs.
    expect(series.drawn.at(-1)).toEqual(point(8));
    expect(series.drawn[0]).toEqual({ x: 0.05, value: 0.5, smoothed: 0.5, batches: 2 });
    expect(series.batches).toBe(9);
  });

  it('never draws more than the cap over a long run, keeps every batch counted, and merges rarely', () => {
    const series = new DownsampledSeries(400);
    let resets = 0;
    for (let i = 0; i < 20_000; i++) {
      if (series.add(point(i)).kind === 'reset') resets++;
      expect(series.drawn.length).toBeLessThanOrEqual(400);
    }
    expect(series.batches).toBe(20_000);
    // x stays in order, and the last 100 batches are at full resolution.
    const xs = series.drawn.map((p) => p.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(series.drawn.slice(-100).every((p) => p.batches === 1)).toBe(true);
    expect(resets).toBeLessThan(20_000 / 50);
  });
});
