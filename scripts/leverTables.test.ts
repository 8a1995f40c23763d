import { describe, expect, it } from 'vitest';
import { foldWinner, leverTable, pairedDifferences, type LeverRun } from './leverTables';

const run = (variant: string, fold: string, seed: number, AUC: number): LeverRun => ({
  variant,
  fold,
  seed,
  figures: { AUC, accuracy: AUC - 0.05 },
});

const lever = { name: 'contrast', variants: ['default', 'contrast=0.3'] };

/** Two seeds of each on fold A, the variant 0.03 ahead on both. */
const twoSeedsOnA = [
  run('default', 'A', 1, 0.9),
  run('default', 'A', 2, 0.92),
  run('contrast=0.3', 'A', 1, 0.93),
  run('contrast=0.3', 'A', 2, 0.95),
];

describe('lever tables', () => {
  it('names a winner only when it is best on every fold', () => {
    const everywhere = [...twoSeedsOnA, run('default', 'B', 1, 0.8), run('contrast=0.3', 'B', 1, 0.85)];
    const won = foldWinner(lever, everywhere, 'AUC');
    expect(won.winner).toBe('contrast=0.3');
    expect(won.perFold.map((f) => f.best)).toEqual(['contrast=0.3', 'contrast=0.3']);
    expect(won.perFold[0].margin).toBeCloseTo(0.03);

    // Better on average (a big win on B), worse on A: no winner across folds.
    const onAverage = [run('default', 'A', 1, 0.95), run('contrast=0.3', 'A', 1, 0.94)].concat([
      run('default', 'B', 1, 0.7),
      run('contrast=0.3', 'B', 1, 0.9),
    ]);
    expect(foldWinner(lever, onAverage, 'AUC').winner).toBeNull();
  });

  it('gives no winner on a fold where a variant did not run', () => {
    const missing = [run('default', 'A', 1, 0.9), run('contrast=0.3', 'A', 1, 0.95), run('default', 'B', 1, 0.9)];
    expect(foldWinner(lever, missing, 'AUC').winner).toBeNull();
  });

  it('pairs differences by fold and seed', () => {
    const runs = [
      run('default', 'A', 1, 0.9),
      run('default', 'A', 2, 0.8),
      run('contrast=0.3', 'A', 2, 0.85),
      run('contrast=0.3', 'A', 1, 0.88),
      run('contrast=0.3', 'B', 1, 0.99),
    ];
    const diffs = pairedDifferences(runs, 'contrast=0.3', 'AUC');
    expect(diffs.map((d) => Number(d.toFixed(4))).sort()).toEqual([-0.02, 0.05]);
  });

  it('prints every fold x seed, the spread and the verdict', () => {
    const runs = [...twoSeedsOnA, run('other', 'A', 1, 0.5)];
    const lines = leverTable(lever, runs, ['accuracy', 'AUC'], ['AUC']);
    expect(lines[0]).toBe('Lever: contrast');
    expect(lines).toContain('default | A | 1 | 0.8500 | 0.9000');
    expect(lines).toContain('contrast=0.3 | A | 2 | 0.9000 | 0.9500');
    expect(lines).toContain('**contrast=0.3** | all 1 | mean ± sd of 2 | 0.8900 ± 0.0141 | 0.9400 ± 0.0141');
    expect(lines.join('\n')).not.toContain('other');
    expect(lines).toContain(
      "AUC: contrast=0.3 wins on every fold (A: contrast=0.3 by 0.0300); default's sd over seeds within a fold is 0.0141: every margin is larger.",
    );
    // A margin inside the seeds' spread is called noise.
    const close = [...twoSeedsOnA.slice(0, 2), run('contrast=0.3', 'A', 1, 0.905), run('contrast=0.3', 'A', 2, 0.925)];
    expect(leverTable(lever, close, ['AUC'], ['AUC']).join('\n')).toMatch(
      /by 0\.0050\); .* a margin below it is noise/,
    );
    expect(lines).toContain(
      '  contrast=0.3 − default: +0.0300 (paired by fold and seed, 0.0300 ± 0.0000), higher on 2 of 2.',
    );
  });
});
