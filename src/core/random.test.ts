import { describe, expect, it } from 'vitest';
import { mulberry32, range, shuffleInPlace } from './random';

describe('seeded random numbers', () => {
  it('repeat for a seed and differ between seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    for (const v of seqA) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it('shuffle to a permutation, the same one for the same seed', () => {
    const one = shuffleInPlace(range(50), mulberry32(7));
    const two = shuffleInPlace(range(50), mulberry32(7));
    expect(Array.from(one)).toEqual(Array.from(two));
    expect(Array.from(one)).not.toEqual(Array.from(range(50)));
    expect(Array.from(one).sort((x, y) => x - y)).toEqual(Array.from(range(50)));
  });

  it('shuffle roughly uniformly (each item reaches each place)', () => {
    const random = mulberry32(1);
    const counts = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
    for (let trial = 0; trial < 4000; trial++) {
      const order = shuffleInPlace([0, 1, 2, 3], random);
      order.forEach((item, place) => counts[item][place]++);
    }
    for (const row of counts) for (const n of row) expect(n).toBeGreaterThan(850);
  });

  it('match the reference Mulberry32 output', () => {
    // First outputs of the reference C implementation (Tommy Ettinger) for seed 1, over 2^32.
    const rng = mulberry32(1);
    expect([rng(), rng(), rng()].map((v) => v * 4294967296)).toEqual([2693262067, 11749833, 2265367787]);
  });
});
