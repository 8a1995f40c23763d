import { describe, expect, it } from 'vitest';
import { splitRows } from './reductions';

describe('splitRows', () => {
  it('splits the rows into runs that cover each row once, no run empty', () => {
    for (const [rows, weights] of [
      [4768, 128],
      [1, 128],
      [7, 3],
      [32 * 73, 16384],
      [100_000, 1],
    ]) {
      const { runs, rowsPerRun } = splitRows(rows, weights);
      expect(runs * rowsPerRun).toBeGreaterThanOrEqual(rows);
      expect((runs - 1) * rowsPerRun).toBeLessThan(rows);
      expect(runs).toBeGreaterThanOrEqual(1);
    }
  });

  it('gives a small layer many chunks and a large one few', () => {
    // The first layer at 150 px, batch 32: 128 weights over 4,768 rows.
    expect(splitRows(32 * 149, 128).runs).toBeGreaterThan(400);
    // The fourth: 2x2x64x64 weights; already enough invocations without splitting much.
    expect(splitRows(32 * 15, 16384).runs).toBeLessThanOrEqual(4);
  });
});
