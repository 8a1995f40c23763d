/**
 * `bench:accuracy`'s tables, one a lever: every fold x seed of every variant, the mean ± sd over folds and seeds,
 * each variant's difference from the defaults paired by fold and seed, and which variant wins across folds (best on
 * every fold's mean over seeds), not just on average. Pure: runs in, lines of Markdown out.
 */

/** One training run's test figures under its fold and seed. */
export interface LeverRun {
  variant: string;
  fold: string;
  seed: number;
  figures: Record<string, number>;
}

/** A lever: the defaults and the variants that move it. */
export interface Lever {
  name: string;
  /** `default` first, then the lever's variants. */
  variants: string[];
}

export function meanSd(values: number[], digits: number): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return 'n/a';
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const sd = finite.length > 1 ? Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (finite.length - 1)) : 0;
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
}

/** A figure to 4 decimals; `n/a` where a run lacks it (NaN, or null in a saved run). */
const fixed = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(4) : 'n/a');

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

/** The folds in the order the runs first name them. */
function foldsOf(runs: LeverRun[]): string[] {
  return [...new Set(runs.map((r) => r.fold))];
}

/**
 * Which variant has the highest mean `figure` (over seeds) on every fold, or null when the folds disagree (or a
 * variant lacks a fold); `perFold` names each fold's best, for the words.
 */
export function foldWinner(
  lever: Lever,
  runs: LeverRun[],
  figure: string,
): { winner: string | null; perFold: { fold: string; best: string; margin: number }[] } {
  const perFold = foldsOf(runs).map((fold) => {
    const means = lever.variants
      .map((variant) => {
        const values = runs
          .filter((r) => r.fold === fold && r.variant === variant)
          .map((r) => r.figures[figure])
          .filter(Number.isFinite);
        return { variant, value: values.length > 0 ? mean(values) : Number.NaN };
      })
      .filter((m) => Number.isFinite(m.value))
      .sort((a, b) => b.value - a.value);
    const margin = means.length > 1 ? means[0].value - means[1].value : Number.NaN;
    // A tie, or a variant missing on this fold: no best.
    const best = means.length === lever.variants.length && margin > 1e-12 ? means[0].variant : '';
    return { fold, best, margin };
  });
  const bests = new Set(perFold.map((f) => f.best));
  const winner = perFold.length > 0 && bests.size === 1 && !bests.has('') ? perFold[0].best : null;
  return { winner, perFold };
}

/** The mean over folds of a variant's sd over seeds within a fold (NaN without two seeds on a fold): run-to-run noise. */
export function seedSpread(runs: LeverRun[], figure: string): number {
  const sds = foldsOf(runs).flatMap((fold) => {
    const values = runs.filter((r) => r.fold === fold).map((r) => r.figures[figure]);
    if (values.length < 2) return [];
    const m = mean(values);
    return [Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1))];
  });
  return sds.length > 0 ? mean(sds) : Number.NaN;
}

/** A variant's differences from the defaults, paired by fold and seed (only pairs where both ran). */
export function pairedDifferences(runs: LeverRun[], variant: string, figure: string): number[] {
  const out: number[] = [];
  for (const r of runs.filter((x) => x.variant === variant)) {
    const base = runs.find((x) => x.variant === 'default' && x.fold === r.fold && x.seed === r.seed);
    const d = base ? r.figures[figure] - base.figures[figure] : Number.NaN;
    if (Number.isFinite(d)) out.push(d);
  }
  return out;
}

/** The lever's table and its verdict on each of `verdictFigures`, as lines of Markdown. */
export function leverTable(lever: Lever, allRuns: LeverRun[], figures: string[], verdictFigures: string[]): string[] {
  const runs = allRuns.filter((r) => lever.variants.includes(r.variant));
  const folds = foldsOf(runs);
  const lines = [`Lever: ${lever.name}`, '', `variant | fold | seed | ${figures.join(' | ')}`];
  lines.push(`--- | --- | --- | ${figures.map(() => '---').join(' | ')}`);
  for (const variant of lever.variants) {
    const own = runs.filter((r) => r.variant === variant);
    for (const fold of folds) {
      for (const r of own.filter((x) => x.fold === fold))
        lines.push(`${variant} | ${fold} | ${r.seed} | ${figures.map((f) => fixed(r.figures[f])).join(' | ')}`);
      const inFold = own.filter((x) => x.fold === fold);
      if (inFold.length > 1 && folds.length > 1)
        lines.push(
          `${variant} | ${fold} | mean ± sd | ${figures
            .map((f) =>
              meanSd(
                inFold.map((r) => r.figures[f]),
                4,
              ),
            )
            .join(' | ')}`,
        );
    }
    lines.push(
      `**${variant}** | all ${folds.length} | mean ± sd of ${own.length} | ${figures
        .map((f) =>
          meanSd(
            own.map((r) => r.figures[f]),
            4,
          ),
        )
        .join(' | ')}`,
    );
  }
  lines.push('');
  if (lever.variants.length < 2) return lines;
  for (const figure of verdictFigures) {
    const { winner, perFold } = foldWinner(lever, runs, figure);
    const each = perFold
      .map((f) =>
        f.best ? `${f.fold}: ${f.best} by ${f.margin.toFixed(4)}` : `${f.fold}: none (a tie or a run missing)`,
      )
      .join('; ');
    const noise = seedSpread(
      runs.filter((r) => r.variant === lever.variants[0]),
      figure,
    );
    const clear = winner !== null && Number.isFinite(noise) && perFold.every((f) => f.margin > noise);
    lines.push(
      (winner
        ? `${figure}: ${winner} wins on every fold (${each})`
        : `${figure}: no variant wins on every fold (${each})`) +
        (Number.isFinite(noise)
          ? `; ${lever.variants[0]}'s sd over seeds within a fold is ${noise.toFixed(4)}: ${clear ? 'every margin is larger' : winner ? 'a margin below it is noise' : 'differences below it are noise'}.`
          : '.'),
    );
    for (const variant of lever.variants.filter((v) => v !== 'default')) {
      const diffs = pairedDifferences(runs, variant, figure);
      if (diffs.length === 0) continue;
      const higher = diffs.filter((d) => d > 0).length;
      lines.push(
        `  ${variant} − default: ${signed(mean(diffs), 4)} (paired by fold and seed, ${meanSd(diffs, 4)}), higher on ${higher} of ${diffs.length}.`,
      );
    }
  }
  return lines;
}
