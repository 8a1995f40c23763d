import { describe, expect, it } from 'vitest';
import { planFilterGrad } from './convFilterGrad';

describe('planFilterGrad', () => {
  it('splits the rows into runs that cover each row once, no run empty', () => {
    for (const [rows, weights] of [[4768, 128], [1, 128], [7, 3], [32 * 73, 16384], [100_000, 1]]) {
      const { chunks, rowsPerChunk } = planFilterGrad(rows, weights);
      expect(chunks * rowsPerChunk).toBeGreaterThanOrEqual(rows);
      expect((chunks - 1) * rowsPerChunk).toBeLessThan(rows);
      expect(chunks).toBeGreaterThanOrEqual(1);
    }
  });

  it('gives a small layer many chunks and a large one few', () => {
    // The first layer at 150 px, batch 32: 128 weights over 4,768 rows.
    expect(planFilterGrad(32 * 149, 128).chunks).toBeGreaterThan(400);
    // The fourth: 2x2x64x64 weights; already enough invocations without splitting much.
    expect(planFilterGrad(32 * 15, 16384).chunks).toBeLessThanOrEqual(4);
  });
});
