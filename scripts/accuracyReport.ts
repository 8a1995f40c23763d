/**
 * The printing of bench:accuracy: each run's figures as it ends, then the mean ± sd over seeds by variant, the seeds'
 * ensemble per fold, and one table a lever (scripts/leverTables.ts).
 */
import { binaryMetrics, defaultPositiveClass, rocAuc } from '../src/eval/metrics';
import type { Options } from './accuracyOptions';
import { FIGURES, OTHER_RULES, type Figure, type FigureName, type SeedResult } from './accuracyResult';
import { leverTable, meanSd } from './leverTables';
import { shiftLeverTables, shiftReasonTables, shiftRunLines, shiftSummaryRows } from './shiftTables';

/**
 * The seeds' models as one: each image's probabilities averaged over the seeds, then accuracy, AUC, sensitivity and
 * specificity at 0.5 for the default positive class (images matched by file; the test split is the same for every seed).
 */
function ensembleFigures(runs: SeedResult[]): Record<FigureName, number> | null {
  if (runs.length < 2 || runs.some((r) => r.predictions.length === 0)) return null;
  const classNames = runs[0].classNames;
  if (classNames.length !== 2) return null;
  const positive = defaultPositiveClass(classNames);
  const sums = new Map<string, { label: number; p: number; n: number }>();
  for (const run of runs) {
    for (const p of run.predictions) {
      const entry = sums.get(p.file) ?? { label: classNames.indexOf(p.label), p: 0, n: 0 };
      entry.p += p.probabilities[positive];
      entry.n++;
      sums.set(p.file, entry);
    }
  }
  const rows = [...sums.values()].filter((e) => e.n === runs.length);
  const scores = rows.map((e) => e.p / e.n);
  const labels = rows.map((e) => e.label);
  const m = binaryMetrics(scores, labels, positive, 0.5);
  return {
    accuracy: m.accuracy,
    AUC: rocAuc(scores, labels, positive),
    sensitivity: m.sensitivity,
    specificity: m.specificity,
  };
}

/** `0.9120 (0.885–0.936)`, or the figure alone when there is no interval. */
function withInterval(f: Figure): string {
  return Number.isFinite(f.low)
    ? `${f.value.toFixed(4)} (${f.low.toFixed(3)}–${f.high.toFixed(3)})`
    : f.value.toFixed(4);
}
/** Prints a run's figures as it ends; returns it. */
export function report(r: SeedResult): SeedResult {
  const line = (f: Record<FigureName, Figure>) => FIGURES.map((n) => `${n} ${withInterval(f[n])}`).join('  ');
  console.log(`${r.model} fold ${r.fold} seed ${r.seed}, test: ${line(r.test)}`);
  if (r.validation) console.log(`${' '.repeat(r.model.length)} seed ${r.seed}, validation: ${line(r.validation)}`);
  for (const [rule, { figures: f, threshold }] of Object.entries(r.rules))
    console.log(`${' '.repeat(r.model.length)} seed ${r.seed}, test with rule ${rule}: ${line(f)}  (${threshold})`);
  if (r.tta)
    console.log(`${' '.repeat(r.model.length)} seed ${r.seed}, test with test-time augmentation: ${line(r.tta)}`);
  if (r.adapted)
    console.log(`${' '.repeat(r.model.length)} seed ${r.seed}, test with BatchNorm adapted to it: ${line(r.adapted)}`);
  console.log(
    `  ${r.threshold} | epochs ${r.epochs} (best ${r.bestEpoch})  | load ${r.loadS.toFixed(1)} s  train ${r.trainS.toFixed(1)} s  total ${r.totalS.toFixed(1)} s  | ${r.backend}` +
      `  | main-thread tasks over 50 ms while training: ${r.longTasks.count}, longest ${r.longTasks.longest} ms`,
  );
  console.log(`  test: ${r.testImages}`);
  console.log(
    `  unlike the training data: validation ${(100 * r.unlike.validation).toFixed(1)}% (the cut), test ${(100 * r.unlike.test).toFixed(1)}%`,
  );
  if (r.shifted)
    console.log(
      `  unlike the training data, test images shifted: ${Object.entries(r.shifted)
        .map(([shift, share]) => `${shift} ${(100 * share).toFixed(1)}%`)
        .join(', ')}`,
    );
  for (const line of shiftRunLines(r)) console.log(line);
  if (r.outcome) console.log(`  ${r.outcome}`);
  return r;
}

/** The summary tables over every run (this study's and the merged ones). */
export function printSummary(results: SeedResult[], options: Pick<Options, 'seeds' | 'levers' | 'query'>): void {
  // One column a variant, mean ± sd over its seeds, so the models read side by side.
  const columns = [...new Set(results.map((r) => r.model))];
  const folds = [...new Set(results.map((r) => r.fold))];
  console.log(
    `\nOver ${options.seeds.length} seed${options.seeds.length === 1 ? '' : 's'}${folds.length > 1 ? ` x ${folds.length} folds` : ''} (mean ± standard deviation):`,
  );
  const rows: [string, (r: SeedResult) => number, number][] = [
    ...FIGURES.map((n): [string, (r: SeedResult) => number, number] => [`test ${n}`, (r) => r.test[n].value, 4]),
    ...FIGURES.map((n): [string, (r: SeedResult) => number, number] => [
      `validation ${n}`,
      (r) => r.validation?.[n].value ?? Number.NaN,
      4,
    ]),
    ...OTHER_RULES.flatMap((rule) =>
      FIGURES.map((n): [string, (r: SeedResult) => number, number] => [
        `test ${n}, rule ${rule}`,
        (r) => r.rules[rule]?.figures[n].value ?? Number.NaN,
        4,
      ]),
    ),
    ...FIGURES.map((n): [string, (r: SeedResult) => number, number] => [
      `test ${n}, test-time augmentation (7 views)`,
      (r) => r.tta?.[n].value ?? Number.NaN,
      4,
    ]),
    ...FIGURES.map((n): [string, (r: SeedResult) => number, number] => [
      `test ${n}, BatchNorm adapted to test`,
      (r) => r.adapted?.[n].value ?? Number.NaN,
      4,
    ]),
    ['test images unlike the training data (share)', (r) => r.unlike.test, 4],
    ...[...new Set(results.flatMap((r) => Object.keys(r.shifted ?? {})))].map(
      (shift): [string, (r: SeedResult) => number, number] => [
        `unlike the training data (share): ${shift.startsWith('extra') ? shift : `test ${shift}`}`,
        (r) => r.shifted?.[shift] ?? Number.NaN,
        4,
      ],
    ),
    ...shiftSummaryRows(results),
    ['epochs run', (r) => r.epochs, 1],
    ['load (s)', (r) => r.loadS, 1],
    ['train (s)', (r) => r.trainS, 1],
    ['total (s)', (r) => r.totalS, 1],
    ['longest main-thread task while training (ms)', (r) => r.longTasks.longest, 0],
  ];
  console.log(`metric | ${columns.join(' | ')}\n--- | ${columns.map(() => '---').join(' | ')}`);
  for (const [name, pick, digits] of rows) {
    console.log(
      `${name} | ${columns.map((c) => meanSd(results.filter((r) => r.model === c).map(pick), digits)).join(' | ')}`,
    );
  }

  // The seeds' models averaged, one row a figure a fold (a second opinion on what ensembling would buy).
  for (const fold of folds) {
    const ensembles = columns.map((c) => ensembleFigures(results.filter((r) => r.model === c && r.fold === fold)));
    if (!ensembles.some(Boolean)) continue;
    console.log(`\nEnsemble of the seeds' models, ${fold} (probabilities averaged per image, threshold 0.5):`);
    console.log(`metric | ${columns.join(' | ')}\n--- | ${columns.map(() => '---').join(' | ')}`);
    for (const n of FIGURES)
      console.log(`test ${n} | ${ensembles.map((e) => (e ? e[n].toFixed(4) : 'n/a')).join(' | ')}`);
  }

  // One table a lever: every fold x seed, the spread, and whether a variant wins on every fold.
  const figuresOf = (f: Record<FigureName, Figure>) => Object.fromEntries(FIGURES.map((n) => [n, f[n].value]));
  const leverRuns = results.flatMap((r) => [
    { variant: r.model, fold: r.fold, seed: r.seed, figures: figuresOf(r.test) },
    // The same model scored with test-time augmentation: a lever of its own, paired with its plain scoring.
    ...(r.tta ? [{ variant: `${r.model} + TTA`, fold: r.fold, seed: r.seed, figures: figuresOf(r.tta) }] : []),
  ]);
  const ttaLever = {
    name: 'test-time augmentation (the defaults, the same models)',
    variants: ['default', 'default + TTA'],
  };
  const levers = leverRuns.some((r) => r.variant === 'default + TTA') ? [...options.levers, ttaLever] : options.levers;
  for (const lever of levers) {
    console.log(`\nTest figures at the run's threshold rule (${options.query.rule ?? 'the default rule'}):`);
    console.log(leverTable(lever, leverRuns, [...FIGURES], ['AUC', 'accuracy']).join('\n'));
  }
  // The same levers judged on the test sample under acquisition shifts (scripts/oodShifts.ts).
  for (const line of shiftLeverTables(results, options.levers)) console.log(line);
  for (const line of shiftReasonTables(results)) console.log(line);
}
