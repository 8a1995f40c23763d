/**
 * The per-run page driver of bench:accuracy: opens the app with a run's settings, drops the zip, trains, and reads the
 * page's tables (test and validation figures, the other threshold rules, test-time augmentation, adapted BatchNorm,
 * the test predictions CSV, the share of images unlike the training data).
 */
import type { Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import type { Options, Variant } from './accuracyOptions';
import { FIGURES, OTHER_RULES, type Figure, type FigureName, type SeedResult } from './accuracyResult';
import { longTasks, pageNow } from './longTasks';
import type { SourceFold } from './sourceFolds';
import { shiftedResults } from './oodShifts';

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

export async function runSeed(
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
  const result: SeedResult = {
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
  // Last: Predict's table is the page's own, the runs' figures are read by now.
  const files = result.predictions.map((p) => p.file);
  try {
    return { ...result, ...(await shiftedResults(page, options.zip, files, options.oodExtra)) };
  } catch (error) {
    // The run's figures stay; the tables show the shifts as missing.
    console.log(`  shifted test images could not be judged: ${String(error)}`);
    return result;
  }
}

/** The share of a split's images flagged unlike the training data, from its `ood-summary`; NaN when there is none. */
async function unlikeShare(page: Page, split: 'validation' | 'test'): Promise<number> {
  const summary = page.locator(`[data-testid="ood-summary"][data-split="${split}"]`);
  if ((await summary.count()) === 0) return Number.NaN;
  return Number(await summary.getAttribute('data-flagged')) / Number(await summary.getAttribute('data-images'));
}

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
