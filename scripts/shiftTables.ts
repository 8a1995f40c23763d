/**
 * bench:accuracy's printing of the decisions under acquisition shifts (scripts/oodShifts.ts): each run's sets as it
 * ends, rows for the summary, and one lever table a figure (specificity, AUC) with a column a shift and the means over
 * them, in scripts/leverTables.ts's form. Pure: runs in, lines out.
 */
import type { SeedResult, ShiftFigureName } from './accuracyResult';
import { leverTable, type Lever, type LeverRun } from './leverTables';
import { ACQUISITION_SHIFTS, FLAG_REASONS, HELD_OUT_SHIFTS, meanOverShifts } from './shiftFigures';
import { AS_PNG } from './shiftImages';

export const MEAN_OF_SHIFTS = 'mean of shifts';
export const MEAN_HELD_OUT = 'mean held out';
/**
 * The figures that get a lever table each: what collapses under a shift (specificity), its other side (a shift can
 * also tip the model to calling every film normal: sensitivity), and the ranking (AUC).
 */
export const SHIFT_TABLE_FIGURES = ['specificity', 'sensitivity', 'AUC'] as const;

const fixed = (x: number | null, digits = 4) => (x !== null && Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** Every set the runs have, in the order they were predicted (`as is`, the shifts, `extra: …`). */
function setsOf(results: SeedResult[]): string[] {
  return [...new Set(results.flatMap((r) => Object.keys(r.shiftedFigures ?? {})))];
}

/** A run's sets as a Markdown table, printed as it ends; none for a run without them. */
export function shiftRunLines(r: SeedResult): string[] {
  if (!r.shiftedFigures) return [];
  const lines = [
    `  decisions on the test sample under acquisition shifts (the page's threshold; "flagged": unlike training):`,
    '  set | images | accuracy | sensitivity | specificity | AUC | flagged | accuracy of flagged | of unflagged | ' +
      'flagged most of all by: less detail / more detail / early layers / later layers',
    '  --- | --- | --- | --- | --- | --- | --- | --- | --- | ---',
  ];
  for (const [set, f] of Object.entries(r.shiftedFigures)) {
    const flagged = f.flagged !== null && Number.isFinite(f.flagged) ? String(f.flagged) : 'n/a';
    const cells = [f.accuracy, f.sensitivity, f.specificity, f.AUC].map((x) => fixed(x));
    const reasons = f.reasons ? FLAG_REASONS.map((k) => f.reasons![k]).join(' / ') : 'n/a';
    lines.push(
      `  ${set} | ${f.images} | ${cells.join(' | ')} | ${flagged} | ${fixed(f.flaggedAccuracy)} | ` +
        `${fixed(f.unflaggedAccuracy)} | ${reasons}`,
    );
  }
  for (const figure of SHIFT_TABLE_FIGURES)
    lines.push(
      `  ${figure}: mean of the ${ACQUISITION_SHIFTS.length} shifts ${fixed(meanOverShifts(r.shiftedFigures, ACQUISITION_SHIFTS, figure))}` +
        `, of the ${HELD_OUT_SHIFTS.length} held out ${fixed(meanOverShifts(r.shiftedFigures, HELD_OUT_SHIFTS, figure))}` +
        ` (as is ${fixed(r.shiftedFigures['as is']?.[figure] ?? null)})`,
    );
  return lines;
}

/** Rows of the summary table (mean ± sd over seeds by variant): each set's decisions and the detector's worth. */
export function shiftSummaryRows(results: SeedResult[]): [string, (r: SeedResult) => number, number][] {
  const pick = (set: string, figure: ShiftFigureName) => (r: SeedResult) =>
    r.shiftedFigures?.[set]?.[figure] ?? Number.NaN;
  return setsOf(results).flatMap((set): [string, (r: SeedResult) => number, number][] => [
    [`${set}: specificity`, pick(set, 'specificity'), 4],
    [`${set}: sensitivity`, pick(set, 'sensitivity'), 4],
    [`${set}: AUC`, pick(set, 'AUC'), 4],
    [`${set}: accuracy of the flagged images`, pick(set, 'flaggedAccuracy'), 4],
    [`${set}: accuracy of the unflagged images`, pick(set, 'unflaggedAccuracy'), 4],
  ]);
}

/** The columns of a shift table: the sample as it is, each acquisition shift, the means, then `extra` sets. */
export function shiftColumns(results: SeedResult[]): string[] {
  const extra = setsOf(results).filter((s) => s.startsWith('extra'));
  const control = setsOf(results).includes(AS_PNG) ? [AS_PNG] : [];
  return ['as is', ...control, ...ACQUISITION_SHIFTS, MEAN_OF_SHIFTS, MEAN_HELD_OUT, ...extra];
}

/** One lever run a training run that has the shifts: `figure` on each column. */
export function shiftLeverRuns(results: SeedResult[], figure: (typeof SHIFT_TABLE_FIGURES)[number]): LeverRun[] {
  const columns = shiftColumns(results);
  return results.flatMap((r) => {
    const sets = r.shiftedFigures;
    if (!sets) return [];
    const figures: Record<string, number> = {};
    for (const column of columns) figures[column] = sets[column]?.[figure] ?? Number.NaN;
    figures[MEAN_OF_SHIFTS] = meanOverShifts(sets, ACQUISITION_SHIFTS, figure);
    figures[MEAN_HELD_OUT] = meanOverShifts(sets, HELD_OUT_SHIFTS, figure);
    return [{ variant: r.model, fold: r.fold, seed: r.seed, figures }];
  });
}

/** For each lever, one table a figure under acquisition shifts; nothing when no run has the shifts. */
export function shiftLeverTables(results: SeedResult[], levers: Lever[]): string[] {
  if (!results.some((r) => r.shiftedFigures)) return [];
  const columns = shiftColumns(results);
  return levers.flatMap((lever) =>
    SHIFT_TABLE_FIGURES.flatMap((figure) => [
      '',
      `Test sample under acquisition shifts, ${figure} at the page's threshold (${MEAN_OF_SHIFTS}: the ` +
        `${ACQUISITION_SHIFTS.length} shifts but inverted; ${MEAN_HELD_OUT}: ${HELD_OUT_SHIFTS.join(', ')}, ` +
        'which no lever trains on):',
      ...leverTable(
        { ...lever, name: `${lever.name}, ${figure} under acquisition shifts` },
        shiftLeverRuns(results, figure),
        columns,
        [MEAN_OF_SHIFTS, MEAN_HELD_OUT],
      ),
    ]),
  );
}

/**
 * For each variant, what the flagged images of each set owe their scores to (the page's `unlike_why`), pooled over its
 * runs: the share of the flagged images a reason; nothing when no run has reasons.
 */
export function shiftReasonTables(results: SeedResult[]): string[] {
  const withReasons = results.filter((r) => Object.values(r.shiftedFigures ?? {}).some((f) => f.reasons));
  if (withReasons.length === 0) return [];
  const variants = [...new Set(withReasons.map((r) => r.model))];
  const percent = (n: number, of: number) => (of > 0 ? `${((100 * n) / of).toFixed(1)}%` : 'n/a');
  return variants.flatMap((variant) => {
    const runs = withReasons.filter((r) => r.model === variant);
    const lines = [
      '',
      `What the flagged images owe their scores to most (the page's unlike_why), ${variant}, ${runs.length} run` +
        `${runs.length === 1 ? '' : 's'} pooled: share of the flagged images`,
      'set | flagged | less fine detail | more fine detail | early layers | later layers',
      '--- | --- | --- | --- | --- | ---',
    ];
    for (const set of setsOf(runs)) {
      const figures = runs.map((r) => r.shiftedFigures?.[set]).filter((f) => f?.reasons && Number.isFinite(f.flagged));
      const flagged = figures.reduce((sum, f) => sum + f!.flagged, 0);
      const cells = FLAG_REASONS.map((k) =>
        percent(
          figures.reduce((sum, f) => sum + f!.reasons![k], 0),
          flagged,
        ),
      );
      lines.push(`${set} | ${flagged} | ${cells.join(' | ')}`);
    }
    return lines;
  });
}
