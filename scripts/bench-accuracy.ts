/**
 * `npm run bench:accuracy -- <zip> [--seeds 1,2,3] [--folds A,B|all] [--model tutorial,batchnorm] [--vary <key>=v1,v2]…
 *   [--variant <name>:<key>=v&<key>=v]… [--size N] [--epochs N] [--holdout P] [--<key> V]…`
 *   where <key> is any URL query key of the settings table (src/core/settings.ts: size, epochs, batch, lr, backend, weights,
 *   patience, val, holdout, rot, zoom, shift, shear, bright, flip, model…), checked by the app's own parser.
 *   `--model` takes a comma-separated list: every model trains on every seed (seed by seed, models in turn, so
 *   a busy machine slows them alike) and the summary puts the models side by side. `--vary <key>=v1,v2` does the
 *   same for any other setting (e.g. `--vary schedule=constant,cosine`), beside the defaults; `--variant` moves several
 *   settings together under one name (`--variant acq:contrast=0.3&gamma=0.3`). Each `--vary` and `--variant` is a
 *   lever: the defaults train once, and each lever gets its own table (scripts/leverTables.ts).
 *   `--folds`: leave one source out (scripts/sourceFolds.ts): each fold holds out a normal series and a range of
 *   patient numbers as the test split, and every variant trains on every fold and seed; the lever tables give every
 *   fold x seed, the mean ± sd over them, and which variant wins on every fold, not just on average.
 *   `--save runs.json` keeps the runs; `--merge runs.json` tables earlier runs with this study's (their defaults are
 *   then not trained again).
 *
 * How good the app's model is on a dataset, through the real app: builds it, serves it with `vite preview`,
 * and for each seed opens a fresh page in headless Chromium, drops the zip on it, trains with the app's
 * default settings (class weights, the acquisition augmentation, early stopping off…; only what is passed is
 * overridden), and reads the `Test metrics` and `Validation and test` tables at the threshold the page reports (chosen
 * on validation by the `rule` setting) for the default positive class.
 *
 * Test split: the zip's test folder when it has one; otherwise the app itself holds out a stratified
 * `--holdout` percent (default 15) of each class of train with a fixed seed (URL key `holdout`), the same
 * images for every training seed, split by patient (the app's `group` default). Validation is then chosen
 * from the rest, by patient too, as the app always does.
 *
 * Prints per seed: accuracy, AUC, sensitivity, specificity on test and on validation, each with its 95%
 * bootstrap interval (over patients), the threshold used, wall time (load, train, total; train includes the
 * backend probe and the final evaluation), epochs run, and the page's main-thread tasks over 50 ms while it
 * trained (count, longest), the test figures under the other threshold rules (each chosen on validation), and with
 * BatchNorm adapted to the test images, the share of validation and test images called unlike the training data, and
 * for a sample of the test split as it is and under acquisition shifts (scripts/oodShifts.ts) the share flagged and
 * the decisions' accuracy, sensitivity, specificity and AUC, flagged and unflagged apart; then the mean ± standard
 * deviation over seeds, and per lever its tables, under the shifts too (scripts/shiftTables.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from './accuracyOptions';
import { report, printSummary } from './accuracyReport';
import type { SeedResult } from './accuracyResult';
import { runSeed } from './accuracyRun';
import { serveBuiltApp } from './benchApp';
import { recordLongTasks } from './longTasks';

const options = parseArgs(process.argv.slice(2));
const { baseUrl, browser, close } = await serveBuiltApp();
// Earlier runs first (`--merge`): their defaults are not trained again; other variants named here are.
const merged = options.merge.flatMap((file) => JSON.parse(readFileSync(file, 'utf8')) as SeedResult[]);
if (merged.some((r) => r.model === 'default')) options.variants = options.variants.filter((v) => v.label !== 'default');
const results: SeedResult[] = merged.filter((r) => !options.variants.some((v) => v.label === r.model));
if (results.length > 0) console.log(`${results.length} earlier runs from ${options.merge.join(', ')}`);
const saved: SeedResult[] = [];
try {
  const settings = Object.entries(options.query)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const compared = options.variants.length > 1 ? `, compared: ${options.variants.map((v) => v.label).join(', ')}` : '';
  console.log(
    `bench:accuracy on ${options.zip}, app defaults except ${settings}${compared}, seeds ${options.seeds.join(', ')}`,
  );
  for (const fold of options.folds ?? [])
    console.log(`fold ${fold.name}: test = ${fold.description} (${fold.testPattern})`);
  // Fold by fold, seed by seed, the variants in turn: a busy machine slows them alike.
  for (const fold of options.folds ?? [null]) {
    for (const seed of options.seeds) {
      for (const variant of options.variants) {
        const page = await browser.newPage();
        page.setDefaultTimeout(120_000);
        // Long tasks on the page's thread (issue 12: the page must not stutter while it trains).
        await recordLongTasks(page);
        try {
          const r = report(await runSeed(page, baseUrl, options, variant, fold, seed));
          results.push(r);
          saved.push(r);
          if (options.save) writeFileSync(options.save, JSON.stringify(saved));
        } catch (error) {
          // A long study keeps its other runs; the tables say which are missing.
          console.log(`${variant.label} fold ${fold?.name ?? 'hold-out'} seed ${seed} FAILED: ${String(error)}`);
        } finally {
          await page.close();
        }
      }
    }
  }
} finally {
  await close();
}
printSummary(results, options);
