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
 * default settings (class weights, early stopping, augmentation…; only what is passed is overridden),
 * and reads the `Test metrics` and `Validation and test` tables at the threshold the page reports (chosen
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
 * BatchNorm adapted to the test images, the share of validation and test images called unlike the training data; then
 * the mean ± standard deviation over seeds.
 */
import type { Page } from '@playwright/test';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SETTING_PATHS, parseSettingText, settingRow, type SettingPath } from '../src/core/settings';
import { binaryMetrics, defaultPositiveClass, rocAuc } from '../src/eval/metrics';
import { serveBuiltApp } from './benchApp';
import { leverTable, meanSd, type Lever } from './leverTables';
import { longTasks, pageNow, recordLongTasks } from './longTasks';
import { parseFolds, type SourceFold } from './sourceFolds';

interface Options {
  zip: string;
  seeds: number[];
  /** Every setting to train, each a label and its URL values; the first, with no values, the defaults. */
  variants: Variant[];
  /** The comparisons asked for (`--model`, each `--vary`, each `--variant`): one table each, beside the defaults. */
  levers: Lever[];
  /** Leave-one-source-out folds (`--folds`), each a test split of its own; null: one split, as `--holdout` says. */
  folds: SourceFold[] | null;
  /** URL query keys and values passed on to the app, as the settings table names them. */
  query: Record<string, string>;
  /** `--save`: a JSON file the runs are written to, run by run. */
  save: string | null;
  /** `--merge`: JSON files of earlier runs (`--save`) tabled with these, e.g. the defaults of an earlier study. */
  merge: string[];
}

/** Every setting's URL key: the settings table's, so a new setting can be benchmarked without touching this file. */
const QUERY_KEYS = new Map<string, SettingPath>(SETTING_PATHS.map((path) => [settingRow(path).query, path]));

/** The value as the app would read it from its URL; throws the app's own message when it would refuse it. */
function checked(key: string, value: string): string {
  const path = QUERY_KEYS.get(key);
  if (!path)
    throw new Error(
      `Unknown option --${key} (known: --seeds, --folds, --vary, --variant, ${[...QUERY_KEYS.keys()].map((k) => `--${k}`).join(', ')})`,
    );
  const { problem } = parseSettingText(path, value);
  if (problem) throw new Error(`--${key} ${value}: ${problem}`);
  return value;
}

interface Variant {
  /** `default`, `key=value`, or a `--variant`'s name. */
  label: string;
  query: Record<string, string>;
}

const DEFAULTS: Variant = { label: 'default', query: {} };

/** One variant a value of `key` (checked by the app's parser). */
function variantsOf(key: string, list: string): Variant[] {
  return list.split(',').map((raw) => {
    const value = checked(key, raw.trim());
    return { label: key === 'model' ? value : `${key}=${value}`, query: { [key]: value } };
  });
}

/** `--variant name:key=value&key=value`: several settings moved together, under one name. */
function namedVariant(text: string): Variant {
  const colon = text.indexOf(':');
  const label = text.slice(0, colon).trim();
  if (colon <= 0 || !label || label === 'default')
    throw new Error(
      '--variant takes <name>:<URL key>=<value>&<URL key>=<value>…, e.g. --variant acq:contrast=0.3&gamma=0.3',
    );
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text.slice(colon + 1))) query[key] = checked(key, value);
  if (Object.keys(query).length === 0) throw new Error(`--variant ${label}: no settings given`);
  return { label, query };
}

/** Adds a lever's variants to the list to train (each once, whatever lever names it) and the lever to the tables. */
function addLever(
  options: Pick<Options, 'variants' | 'levers'>,
  name: string,
  variants: Variant[],
  withDefaults = true,
): void {
  for (const v of variants) {
    const known = options.variants.find((x) => x.label === v.label);
    if (known && JSON.stringify(known.query) !== JSON.stringify(v.query))
      throw new Error(`Two variants are called ${v.label}: name them apart`);
    if (!known) options.variants.push(v);
  }
  const labels = variants.map((v) => v.label).filter((l) => l !== 'default');
  options.levers.push({ name, variants: withDefaults ? ['default', ...labels] : labels });
}

function parseArgs(argv: string[]): Options {
  let zip: string | null = null;
  let seeds = [1, 2, 3];
  const options: Pick<Options, 'variants' | 'levers'> = { variants: [DEFAULTS], levers: [] };
  let folds: SourceFold[] | null = null;
  let save: string | null = null;
  const merge: string[] = [];
  const query: Record<string, string> = { holdout: '15' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      zip = arg;
      continue;
    }
    const name = arg.slice(2);
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (name === 'seeds') seeds = value.split(',').map((s) => Number(s.trim()));
    else if (name === 'folds') folds = parseFolds(value);
    else if (name === 'save') save = resolve(value);
    else if (name === 'merge') merge.push(resolve(value));
    else if (name === 'variant') {
      const variant = namedVariant(value);
      addLever(options, variant.label, [variant]);
    } else if (name === 'model' || name === 'vary') {
      const [key, list] =
        name === 'model' ? ['model', value] : [value.slice(0, value.indexOf('=')), value.slice(value.indexOf('=') + 1)];
      if (!key || !list)
        throw new Error('--vary takes <URL key>=<value>,<value>…, e.g. --vary schedule=constant,cosine');
      // `--model tutorial,batchnorm` names every model compared: the defaults are one of them, not a column.
      addLever(options, key, variantsOf(key, list), key !== 'model');
    } else query[name] = checked(name, value);
  }
  if (!zip)
    throw new Error(
      'Usage: npm run bench:accuracy -- <zip> [--seeds 1,2,3] [--folds A,B|all] [--model tutorial,batchnorm] [--vary <key>=v1,v2]… [--variant <name>:<key>=v&<key>=v]… [--<URL key of a setting> value]…',
    );
  if (!existsSync(zip)) throw new Error(`No such file: ${zip}`);
  if (seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error('--seeds takes whole numbers, e.g. 1,2,3');
  if (folds && query.testre) throw new Error('--folds sets the test split itself: leave out --testre');
  // The defaults train when a lever compares with them, or when nothing else is asked for.
  const variants =
    options.levers.length > 0 && !options.levers.some((l) => l.variants.includes('default'))
      ? options.variants.slice(1)
      : options.variants;
  const levers = options.levers.length > 0 ? options.levers : [{ name: 'the defaults', variants: ['default'] }];
  return { zip: resolve(zip), seeds, variants, levers, folds, query, save, merge };
}

/** A figure and its 95% bootstrap interval (NaN ends when the page gives none). */
interface Figure {
  value: number;
  low: number;
  high: number;
}

const FIGURES = ['accuracy', 'AUC', 'sensitivity', 'specificity'] as const;
type FigureName = (typeof FIGURES)[number];

interface SeedResult {
  /** The variant's label. */
  model: string;
  /** The leave-one-source-out fold (`--folds`), or `hold-out` without folds. */
  fold: string;
  seed: number;
  /** On the evaluated split (the test folder, else the test hold-out), at the threshold the page reports. */
  test: Record<FigureName, Figure>;
  /** The same on validation (patient-grouped by default), from the `Validation and test` table; null when absent. */
  validation: Record<FigureName, Figure> | null;
  /** The page's threshold line, e.g. `threshold 0.5, fixed at 0.5, applied to test`. */
  threshold: string;
  /** Main-thread tasks over 50 ms from Train to the results: count and longest (ms). */
  longTasks: { count: number; longest: number };
  loadS: number;
  trainS: number;
  totalS: number;
  epochs: number;
  bestEpoch: string;
  backend: string;
  testImages: string;
  outcome: string;
  /** The test figures at the threshold each other rule chooses on validation (`fixed`, `youden`, `sensitivity`), and its line. */
  rules: Record<string, { figures: Record<FigureName, Figure>; threshold: string }>;
  /** The test figures at the run's rule with test-time augmentation `shift-scale` (7 views); null where not offered. */
  tta: Record<FigureName, Figure> | null;
  /** The test figures with BatchNorm re-estimated on the test images (test-time adaptation); null without BatchNorm. */
  adapted: Record<FigureName, Figure> | null;
  /** Each evaluated image's label and probability of each class, from the page's `Download test predictions (CSV)`. */
  predictions: { file: string; label: string; probabilities: number[] }[];
  classNames: string[];
  /** Share of each evaluated split's images the page calls unlike the training data (`ood-summary`); NaN when not judged. */
  unlike: { validation: number; test: number };
}

/** A cell such as `0.9120 (0.885–0.936)`: the figure, then its interval when there is one. */
function parseFigure(text: string): Figure {
  const numbers = text.match(/-?\d+(?:\.\d+)?(?:e-?\d+)?/gi)?.map(Number) ?? [];
  return { value: numbers[0] ?? Number.NaN, low: numbers[1] ?? Number.NaN, high: numbers[2] ?? Number.NaN };
}

const ROW_NAMES: Record<FigureName, string> = {
  accuracy: 'Accuracy',
  AUC: 'AUC',
  sensitivity: 'Sensitivity',
  specificity: 'Specificity',
};

/** The figures of a table's rows, from its cell `column` (0 = the first value cell). */
async function figures(page: Page, table: string, column: number): Promise<Record<FigureName, Figure>> {
  const out = {} as Record<FigureName, Figure>;
  for (const name of FIGURES) {
    const row = page
      .getByRole('table', { name: table })
      .getByRole('row', { name: new RegExp(`^${ROW_NAMES[name]}\\b`) });
    out[name] = parseFigure(await row.locator('td').nth(column).innerText());
  }
  return out;
}

/** Waits until the status is one of `wanted`, printing progress now and then; throws on `error`. */
async function waitForStatus(
  page: Page,
  wanted: string[],
  what: string,
  progress: () => Promise<string>,
): Promise<void> {
  let lastPrint = Date.now();
  for (;;) {
    const status = (await page.getByTestId('status').innerText()).trim();
    if (wanted.includes(status)) return;
    if (status === 'error') {
      const alert = await page
        .getByRole('alert')
        .innerText()
        .catch(() => '(no message)');
      throw new Error(`The app reported an error while ${what}: ${alert}`);
    }
    if (Date.now() - lastPrint > 30_000) {
      console.log(`  … ${what}: ${await progress()}`);
      lastPrint = Date.now();
    }
    await page.waitForTimeout(500);
  }
}

async function runSeed(
  page: Page,
  baseUrl: string,
  options: Options,
  variant: Variant,
  fold: SourceFold | null,
  seed: number,
): Promise<SeedResult> {
  const query = new URLSearchParams({
    ...options.query,
    ...variant.query,
    ...(fold ? { testre: fold.testPattern } : {}),
    seed: String(seed),
  });
  await page.goto(`${baseUrl}/?${query}`);
  await page.getByTestId('status').filter({ hasText: 'idle' }).waitFor();
  const started = Date.now();
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(options.zip);
  await waitForStatus(page, ['ready'], 'loading', async () => {
    const bar = page.getByRole('progressbar', { name: 'Loading dataset' });
    return `${await bar.getAttribute('aria-valuenow')} / ${await bar.getAttribute('aria-valuemax')} images`;
  });
  const loaded = Date.now();
  const testSource = page.getByTestId('test-source');
  const testImages =
    (await testSource.count()) > 0 ? (await testSource.innerText()).replace(/^Test: /, '') : 'the test folder';

  const trainFrom = await pageNow(page);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await waitForStatus(page, ['done', 'stopped'], 'training', async () => {
    const bar = page.getByRole('progressbar', { name: 'Training' });
    const speed = await page.getByTestId('throughput').innerText();
    return `${await bar.getAttribute('aria-valuenow')} / ${await bar.getAttribute('aria-valuemax')} batches, ${speed}`;
  });
  const trained = Date.now();
  const history = page.getByRole('table', { name: 'Training history' });
  const best = history.locator('tbody tr[aria-current="true"] td').first();
  return {
    model: variant.label,
    fold: fold?.name ?? 'hold-out',
    seed,
    // The intervals come in the worker's report a moment after the run ends.
    test: await page
      .getByRole('table', { name: 'Test metrics' })
      .getByText(/95% intervals/)
      .waitFor()
      .then(() => figures(page, 'Test metrics', 0)),
    validation:
      (await page.getByRole('table', { name: 'Validation and test' }).count()) > 0
        ? await figures(page, 'Validation and test', 0)
        : null,
    threshold: (
      await page
        .getByText(/^Reported figures:/)
        .innerText()
        .catch(() => '')
    ).replace(/^Reported figures:\s*/, ''),
    longTasks: await longTasks(page, trainFrom).then((tasks) => ({
      count: tasks.length,
      longest: Math.max(0, ...tasks),
    })),
    loadS: (loaded - started) / 1000,
    trainS: (trained - loaded) / 1000,
    totalS: (trained - started) / 1000,
    epochs: await history.locator('tbody tr').count(),
    bestEpoch: (await best.count()) > 0 ? (await best.innerText()).trim() : '–',
    backend: await page.getByTestId('backend').innerText(),
    testImages,
    outcome: await page
      .getByTestId('early-stopping')
      .innerText()
      .catch(() => ''),
    // The CSV first: it holds the probabilities, whatever the rule.
    ...(await testPredictions(page)),
    rules: await otherRules(page),
    tta: await ttaFigures(page),
    adapted: await adaptedFigures(page),
    unlike: { validation: await unlikeShare(page, 'validation'), test: await unlikeShare(page, 'test') },
  };
}

/** The share of a split's images flagged unlike the training data, from its `ood-summary`; NaN when there is none. */
async function unlikeShare(page: Page, split: 'validation' | 'test'): Promise<number> {
  const summary = page.locator(`[data-testid="ood-summary"][data-split="${split}"]`);
  if ((await summary.count()) === 0) return Number.NaN;
  return Number(await summary.getAttribute('data-flagged')) / Number(await summary.getAttribute('data-images'));
}

// Every rule but the run's own (the default, or --rule) is read after training.
const OTHER_RULES = ['fixed', 'youden', 'sensitivity'];

/**
 * The test figures under the other threshold rules (each picks its threshold on validation): the Results change at
 * once when the `Threshold rule` setting does, without training. The rule is set back to the run's afterwards.
 */
async function otherRules(page: Page): Promise<SeedResult['rules']> {
  // The select's name also holds its chosen option's text: match the label's start.
  const select = page.getByLabel(/^Threshold rule/);
  const original = await select.inputValue();
  const operatingPoint = page.getByTestId('operating-point');
  const out: SeedResult['rules'] = {};
  for (const rule of OTHER_RULES.filter((r) => r !== original)) {
    await select.selectOption(rule);
    // The worker chooses again on validation and re-reports: the operating point names the rule, then the intervals come.
    await operatingPoint.and(page.locator(`[data-rule="${rule}"]`)).waitFor({ timeout: 300_000 });
    await page
      .getByRole('table', { name: 'Test metrics' })
      .getByText(/95% intervals/)
      .waitFor();
    out[rule] = {
      figures: await figures(page, 'Test metrics', 0),
      threshold: (await operatingPoint.innerText()).replace(/^Reported figures:\s*/, ''),
    };
  }
  await select.selectOption(original);
  await operatingPoint.and(page.locator(`[data-rule="${original}"]`)).waitFor({ timeout: 300_000 });
  return out;
}

/**
 * The test figures with test-time augmentation (`shift-scale`: each image's score the mean over 7 views), read by
 * switching the Results' setting (the worker scores validation and test again, the threshold chosen on validation
 * scored alike), then switching it back; null where the page has no such setting.
 */
async function ttaFigures(page: Page): Promise<Record<FigureName, Figure> | null> {
  const select = page.getByLabel(/^Test-time augmentation/);
  if ((await select.count()) === 0) return null;
  const original = await select.inputValue();
  const operatingPoint = page.getByTestId('operating-point');
  // The report's own kind (data-tta), not the setting's: the figures are the report's once it has come.
  const settled = (kind: string) =>
    operatingPoint.and(page.locator(`[aria-busy="false"][data-tta="${kind}"]`)).waitFor({ timeout: 600_000 });
  await select.selectOption('shift-scale');
  await settled('shift-scale');
  await page
    .getByRole('table', { name: 'Test metrics' })
    .getByText(/95% intervals/)
    .waitFor();
  const out = await figures(page, 'Test metrics', 0);
  await select.selectOption(original);
  await settled(original);
  return out;
}

/** Asks the page to adapt BatchNorm to the test images and reads the adapted column; null when the model has none. */
async function adaptedFigures(page: Page): Promise<Record<FigureName, Figure> | null> {
  const button = page.getByRole('button', { name: 'Adapt BatchNorm to the test images' });
  if ((await button.count()) === 0) return null;
  await button.click();
  const table = page.getByRole('table', { name: 'Adapted BatchNorm' });
  const refused = page.getByRole('note').filter({ hasText: /no BatchNormalization|needs the test split/ });
  await Promise.race([table.waitFor({ timeout: 600_000 }), refused.waitFor({ timeout: 600_000 })]);
  return (await table.count()) > 0 ? figures(page, 'Adapted BatchNorm', 1) : null;
}

/** Every evaluated image's probabilities, through the page's CSV download (the table shows only the first 200). */
async function testPredictions(page: Page): Promise<Pick<SeedResult, 'predictions' | 'classNames'>> {
  const pending = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download test predictions (CSV)' }).click();
  const text = readFileSync((await (await pending).path())!, 'utf8');
  const [header, ...lines] = text
    .trim()
    .split(/\r?\n/)
    .map((line) => line.split(','));
  const classNames = header.filter((h) => h.startsWith('probability_')).map((h) => h.slice('probability_'.length));
  return {
    classNames,
    predictions: lines.map((cells) => ({
      file: cells[0],
      label: cells[1],
      probabilities: cells.slice(2, 2 + classNames.length).map(Number),
    })),
  };
}

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

/** Prints a run's figures as it ends; returns it. */
function report(r: SeedResult): SeedResult {
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
  if (r.outcome) console.log(`  ${r.outcome}`);
  return r;
}

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
