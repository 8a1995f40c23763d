import { describe, expect, it } from 'vitest';
import type { SeedResult, ShiftFigures } from './accuracyResult';
import { ACQUISITION_SHIFTS } from './shiftFigures';
import { AS_PNG } from './shiftImages';
import {
  shiftColumns,
  shiftLeverRuns,
  shiftLeverTables,
  shiftReasonTables,
  shiftRunLines,
  shiftSummaryRows,
} from './shiftTables';

/** A set's figures: specificity as given, AUC 0.1 above it, the rest made up. */
const set = (specificity: number): ShiftFigures => ({
  images: 10,
  accuracy: 0.5,
  sensitivity: 0.9,
  specificity,
  AUC: specificity + 0.1,
  flagged: 2,
  flaggedAccuracy: 0.25,
  unflaggedAccuracy: 0.75,
});

/** A run whose shifts all have specificity `shifted` and whose sample as it is has `asIs`. */
const run = (model: string, fold: string, seed: number, asIs: number, shifted: number): SeedResult =>
  ({
    model,
    fold,
    seed,
    shiftedFigures: {
      'as is': set(asIs),
      inverted: set(0),
      ...Object.fromEntries(ACQUISITION_SHIFTS.map((s) => [s, set(shifted)])),
    },
  }) as unknown as SeedResult;

const lever = { name: 'acq', variants: ['default', 'acq'] };

describe('tables under acquisition shifts', () => {
  it('gives a lever run a column a shift, and the means over them', () => {
    const r = run('default', 'A', 1, 0.8, 0.2);
    // Held-out shifts lower: the held-out mean moves, the whole mean by 3 of 9.
    r.shiftedFigures!.sharpen = set(0.05);
    r.shiftedFigures!.equalize = set(0.05);
    r.shiftedFigures!['low-res'] = set(0.05);
    const [specificity] = shiftLeverRuns([r], 'specificity');
    expect(specificity.figures['as is']).toBe(0.8);
    expect(specificity.figures['gamma 0.5']).toBe(0.2);
    expect(specificity.figures['mean held out']).toBeCloseTo(0.05);
    expect(specificity.figures['mean of shifts']).toBeCloseTo((6 * 0.2 + 3 * 0.05) / 9);
    // Inverted is no acquisition: no column, not in the mean.
    expect(Object.keys(specificity.figures)).not.toContain('inverted');
    expect(shiftLeverRuns([r], 'AUC')[0].figures['mean held out']).toBeCloseTo(0.15);
  });

  it('leaves out runs saved before the shifts and adds the extra archive as a column', () => {
    const old = { model: 'default', fold: 'A', seed: 2 } as SeedResult;
    const withExtra = run('default', 'A', 1, 0.8, 0.2);
    withExtra.shiftedFigures!['extra: full.zip'] = set(0.4);
    expect(shiftLeverRuns([old, withExtra], 'specificity')).toHaveLength(1);
    expect(shiftColumns([old, withExtra]).at(-1)).toBe('extra: full.zip');
    // The control set, where a run has it, comes right after the sample as it is.
    const withControl = run('default', 'B', 1, 0.8, 0.2);
    withControl.shiftedFigures![AS_PNG] = set(0.8);
    expect(shiftColumns([withControl]).slice(0, 3)).toEqual(['as is', AS_PNG, 'gamma 0.5']);
    expect(shiftColumns([old, withExtra])[1]).toBe('gamma 0.5');
    expect(shiftLeverTables([old], [lever])).toEqual([]);
    expect(shiftRunLines(old)).toEqual([]);
  });

  it('prints one table a figure a lever, every fold x seed, the verdict on the means', () => {
    const runs = [
      run('default', 'A', 1, 0.8, 0.1),
      run('acq', 'A', 1, 0.78, 0.5),
      run('default', 'C', 1, 0.7, 0.2),
      run('acq', 'C', 1, 0.72, 0.4),
    ];
    const lines = shiftLeverTables(runs, [lever]);
    expect(lines.filter((l) => l.startsWith('Lever: '))).toEqual([
      'Lever: acq, specificity under acquisition shifts',
      'Lever: acq, sensitivity under acquisition shifts',
      'Lever: acq, AUC under acquisition shifts',
    ]);
    const header = lines.find((l) => l.startsWith('variant | fold | seed | as is | gamma 0.5'))!;
    expect(header.endsWith('| low-res | mean of shifts | mean held out')).toBe(true);
    const cells = (s: number) => Array(9).fill(s.toFixed(4)).join(' | ');
    expect(lines).toContain(`acq | C | 1 | 0.7200 | ${cells(0.4)} | 0.4000 | 0.4000`);
    expect(lines).toContain(`default | A | 1 | 0.8000 | ${cells(0.1)} | 0.1000 | 0.1000`);
    expect(lines.join('\n')).toContain('mean of shifts: acq wins on every fold (A: acq by 0.4000; C: acq by 0.2000)');
    expect(lines).toContain('  acq − default: +0.3000 (paired by fold and seed, 0.3000 ± 0.1414), higher on 2 of 2.');
    // AUC sits 0.1 above: the same margins.
    expect(lines.join('\n')).toMatch(/mean held out: acq wins on every fold \(A: acq by 0\.4000; C: acq by 0\.2000\)/);
  });

  it("prints a run's sets and gives the summary rows", () => {
    const r = run('default', 'A', 1, 0.8, 0.2);
    r.shiftedFigures!.noise = { ...set(0.2), flagged: Number.NaN, flaggedAccuracy: Number.NaN };
    const lines = shiftRunLines(r);
    expect(lines).toContain('  as is | 10 | 0.5000 | 0.9000 | 0.8000 | 0.9000 | 2 | 0.2500 | 0.7500 | n/a');
    expect(lines).toContain('  noise | 10 | 0.5000 | 0.9000 | 0.2000 | 0.3000 | n/a | n/a | 0.7500 | n/a');
    expect(lines).toContain('  specificity: mean of the 9 shifts 0.2000, of the 3 held out 0.2000 (as is 0.8000)');
    const rows = shiftSummaryRows([r, { model: 'default' } as SeedResult]);
    const flagged = rows.find(([name]) => name === 'blur 2 px: accuracy of the flagged images')!;
    expect(flagged[1](r)).toBe(0.25);
    expect(flagged[1]({ model: 'default' } as SeedResult)).toBeNaN();
  });

  it('tables what the flagged images owe their scores to, pooled over a variant’s runs', () => {
    expect(shiftReasonTables([run('default', 'A', 1, 0.8, 0.2)])).toEqual([]);
    const withReasons = (fold: string, softer: number, early: number) => {
      const r = run('default', fold, 1, 0.8, 0.2);
      r.shiftedFigures!['blur 2 px'] = {
        ...set(0.2),
        flagged: softer + early,
        reasons: { softer, sharper: 0, early, later: 0 },
      };
      return r;
    };
    const lines = shiftReasonTables([withReasons('A', 9, 1), withReasons('B', 5, 5)]);
    expect(lines[1]).toMatch(/^What the flagged images owe their scores to most .*default, 2 runs pooled/);
    expect(lines).toContain('blur 2 px | 20 | 70.0% | 0.0% | 30.0% | 0.0%');
    // A set no run has reasons for: nothing pooled.
    expect(lines).toContain('as is | 0 | n/a | n/a | n/a | n/a');
  });
});
