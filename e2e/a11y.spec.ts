import AxeBuilder from '@axe-core/playwright';
import { type ConsoleMessage, type Locator, type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeImage } from '../scripts/syntheticZip';
import { expectNoSidewaysScroll, expectStatus, writeSyntheticZip } from './helpers';

const SIZE = 32;

/** axe's serious and critical violations, one readable line each: rule, impact, where, what to do. */
async function seriousViolations(page: Page, rules?: string[]): Promise<string[]> {
  // No rule is disabled and nothing is excluded: the charts' vega/tfjs-vis markup passes once the page names it.
  const builder = new AxeBuilder({ page });
  const { violations } = await (rules ? builder.withRules(rules) : builder).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}: ${v.help} [${v.helpUrl}]`,
    );
}

/**
 * The rules whose outcome hangs on colour. The dark scheme changes only colours (page.css sets custom properties, and
 * nothing reads the scheme from script), so in it these are all that can come out otherwise; the whole set ran in the
 * light scheme of the same state.
 */
const COLOUR_RULES = ['color-contrast', 'link-in-text-block'];

/** Checks the page in the light and the dark colour scheme (contrast differs); soft, so every state is reported. */
async function expectAccessible(page: Page, state: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const found = await seriousViolations(page, colorScheme === 'dark' ? COLOUR_RULES : undefined);
    expect
      .soft(found, `serious or critical axe violations (${state}, ${colorScheme} scheme):\n${found.join('\n')}`)
      .toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Every drawn chart (vega's `graphics-document`) is named after its figure, not "Vega visualization", and described by its numbers. */
async function expectChartsNamed(page: Page): Promise<void> {
  const charts = await page.locator('figure .chart__area[role]').evaluateAll((els) =>
    els.map((el) => ({
      figure: el.closest('figure')?.getAttribute('aria-label') ?? '',
      name: el.getAttribute('aria-label'),
      numbers: document.getElementById(el.getAttribute('aria-describedby') ?? '')?.textContent ?? '',
    })),
  );
  expect(charts.length).toBeGreaterThan(0);
  for (const chart of charts) {
    expect(chart.name, chart.figure).toBe(`${chart.figure}: chart`);
    expect(chart.numbers, `numbers beside ${chart.figure}`).toMatch(/\d/);
  }
}

test('no serious or critical axe violations: empty, loaded, training, done, predicting, with runs; live regions; charts with their numbers', async ({
  page,
}) => {
  const { dir, zipPath, dataset } = await writeSyntheticZip(
    {
      seed: 3,
      perClass: { train: 40, val: 3, test: 8 },
      imageSize: SIZE,
      formats: { test: 'png' },
      junk: true,
    },
    'xray-a11y-',
  );
  const predictPaths = dataset.images
    .filter((i) => i.split === 'test')
    .slice(0, 2)
    .map((image, k) => {
      // Long names with no hyphen or space: the enlarged image's caption must still fit a phone (below).
      const path = join(dir, `new_${k}_${image.className}_from_a_hospital_export_series_000012345678.png`);
      writeFileSync(path, encodeImage(image.pixels, image.size, 'png'));
      return path;
    });

  // What a person with the console open would see: warnings and errors of the page and its workers, none expected.
  const consoleNoise: string[] = [];
  const listen = (where: string) => (message: ConsoleMessage) => {
    // Playwright's own note: this config blocks service workers (the offline spec lets them run).
    if (message.text().includes('blocked by Playwright')) return;
    if (message.type() === 'warning' || message.type() === 'error')
      consoleNoise.push(`${where} ${message.type()}: ${message.text()}`);
  };
  page.on('console', listen('page'));
  page.on('worker', (worker) => worker.on('console', listen('worker')));

  await page.goto(`/?size=${SIZE}&epochs=2&batch=16`);
  await expectStatus(page, 'idle');
  // Landmarks: the masthead is a banner beside the main content, and the state line is a polite live region.
  await expect(page.getByRole('banner')).toContainText('X-ray trainer');
  await expect(page.getByRole('main')).toHaveCount(1);
  await expect(page.getByTestId('status').locator('xpath=ancestor-or-self::*[@aria-live="polite"]')).toHaveCount(1);
  await expect(page.getByTestId('training-summary')).toHaveAttribute('aria-live', 'polite');
  await expectAccessible(page, 'empty page');

  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await expect(page.getByRole('figure', { name: 'Class counts: train' }).locator('canvas, svg').first()).toBeVisible();
  await expect(page.getByRole('figure', { name: 'Augmented samples' })).toHaveAttribute('aria-busy', 'false');
  // Each class count plot says its numbers beside it.
  await expect(page.getByRole('figure', { name: 'Class counts: train' })).toContainText(
    'NORMAL 40, PNEUMONIA 40 (80 images).',
  );
  await expect(page.getByRole('figure', { name: 'Class counts: test' })).toContainText(
    'NORMAL 8, PNEUMONIA 8 (16 images).',
  );
  await expectAccessible(page, 'dataset loaded');

  // While training: Pause at once, so the worker holds the run after its first batch however fast this machine
  // trains, and the page is checked mid-run with the curves drawn.
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await page.getByRole('button', { name: 'Pause' }).click();
  await expectStatus(page, 'paused');
  await expect(page.getByRole('figure', { name: 'Loss curves' })).not.toHaveAttribute('data-points', '0');
  await expect(page.getByRole('progressbar', { name: 'Training' })).not.toHaveAttribute('aria-valuenow', '10');
  await expect(page.getByTestId('training-summary')).toHaveText(/^Paused after batch [1-9] of 10\./);
  await expectAccessible(page, 'training (paused mid-run)');
  await page.getByRole('button', { name: 'Continue' }).click();

  await expectStatus(page, 'done', 180_000);
  await expect(page.getByTestId('training-summary')).toHaveText('Done: 2 of 2 epochs trained.');
  await expect(
    page.getByTestId('early-stopping').locator('xpath=ancestor-or-self::*[@aria-live="polite"]'),
  ).toHaveCount(1);
  await expect(page.getByRole('table', { name: 'Test metrics' })).toBeVisible();
  await expect(page.getByRole('figure', { name: 'Reliability diagram' }).locator('canvas, svg').first()).toBeVisible();
  await expect(page.getByRole('figure', { name: 'ROC curve' }).locator('canvas, svg').first()).toBeVisible();
  await expect(
    page.getByRole('figure', { name: 'Confusion matrix heatmap' }).locator('canvas, svg').first(),
  ).toBeVisible();
  // Every chart's numbers, in text or a table beside it.
  await expect(page.getByRole('figure', { name: 'Confusion matrix heatmap' })).toContainText(
    /NORMAL: \d+ as NORMAL, \d+ as PNEUMONIA; PNEUMONIA: \d+ as NORMAL/,
  );
  await expect(page.getByRole('table', { name: 'ROC curve points' }).locator('tbody tr')).toHaveCount(7);
  await expect(page.getByRole('table', { name: 'Reliability diagram bins' }).locator('tbody tr')).toHaveCount(10);
  await expect(page.getByRole('figure', { name: 'Loss curves' })).toContainText(/Batch 10: loss \d\.\d{4}/);
  await expect(page.getByRole('table', { name: 'Training history' }).locator('tbody tr')).toHaveCount(2);
  await expectChartsNamed(page);
  await expectAccessible(page, 'done');

  await page.getByLabel('Images to predict').setInputFiles(predictPaths);
  await expect(page.getByRole('table', { name: 'Predictions' }).locator('tbody tr')).toHaveCount(predictPaths.length);
  await page
    .getByRole('button', { name: /^Enlarge / })
    .first()
    .click();
  await expect(page.getByRole('figure', { name: 'Selected prediction' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Runs' }).getByRole('listitem')).toHaveCount(1);
  await expectAccessible(page, 'done, with Predict and Runs');
  // Charts drawn before their data (the live curves) once printed dozens of vega warnings a run.
  expect(consoleNoise, 'console warnings and errors').toEqual([]);

  // A phone's width: the page does not scroll sideways; each table too wide for it scrolls in a group of its own,
  // named after it and in the tab order, which the arrow keys scroll.
  await expectNoSidewaysScroll(page, 360);
  const history = page.getByRole('group', { name: 'Training history, scrolls sideways' });
  await expect(history).toHaveAttribute('tabindex', '0');
  await history.focus();
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => history.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  // Its caption keeps to the visible width and stays in view while the table scrolls.
  const caption = (await history.locator('caption').boundingBox())!;
  const visible = (await history.boundingBox())!;
  expect(caption.x).toBeGreaterThanOrEqual(visible.x - 1);
  expect(caption.x + caption.width).toBeLessThanOrEqual(visible.x + visible.width + 1);
  await expectAccessible(page, 'done, 360 px wide');
  // Back at a desktop width the tables fit again: no scroll group, no extra tab stop.
  await page.setViewportSize({ width: 1280, height: 900 });
  await expect(history).toHaveCount(0);
  await expect(page.getByRole('table', { name: 'Training history' }).locator('xpath=..')).not.toHaveAttribute(
    'tabindex',
    '0',
  );
});

/** What has keyboard focus, and whether it is drawn: a visible outline or box-shadow. */
async function focusStop(page: Page): Promise<{ what: string; visible: boolean }> {
  return page.locator(':focus').evaluate((el) => {
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const what = `${el.tagName.toLowerCase()} "${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? ''}"`;
    return { what, visible: outline || style.boxShadow !== 'none' };
  });
}

/**
 * Presses Tab (or Shift+Tab) until `target` has focus, checking at every stop that focus is visible;
 * fails if the tab order does not reach it within `max` presses.
 */
async function tabTo(page: Page, target: Locator, { back = false, max = 200 } = {}): Promise<void> {
  const passed: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    if ((await page.locator(':focus').count()) === 0) {
      passed.push('(nothing)');
      continue;
    }
    const stop = await focusStop(page);
    passed.push(stop.what);
    expect(stop.visible, `focus is not visible on ${stop.what}`).toBe(true);
    if (await target.evaluate((el) => el.matches(':focus'))) return;
  }
  throw new Error(`The tab order never reached ${target} in ${max} presses; it went: ${passed.join(' → ')}`);
}

test('keyboard only: demo data, settings, Train, threshold and download without a click, focus always visible', async ({
  page,
}) => {
  // Epochs 2 in the URL, 1 typed in the form: the form is what is tested, the URL keeps the run short.
  await page.goto(`/?size=${SIZE}&epochs=2&batch=32`);
  await expectStatus(page, 'idle');

  await tabTo(page, page.getByRole('button', { name: 'Try demo dataset' }));
  await expect(page.locator(':focus')).toHaveAccessibleName('Try demo dataset');
  await page.keyboard.press('Enter');
  await expectStatus(page, 'ready');

  // Forward to Train (the tab order reaches it), then back to the fields with Shift+Tab.
  const train = page.getByRole('button', { name: 'Train', exact: true });
  await tabTo(page, train);
  await tabTo(page, page.getByRole('spinbutton', { name: 'Epochs' }), { back: true });
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('1');
  await tabTo(page, page.getByRole('spinbutton', { name: 'Image size' }), { back: true });
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(String(SIZE));
  await expect(page).toHaveURL(/[?&]epochs=1(&|$)/);
  await expect(page).toHaveURL(new RegExp(`[?&]size=${SIZE}(&|$)`));

  await tabTo(page, train);
  await page.keyboard.press('Enter');
  await expectStatus(page, 'done', 180_000);
  await expect(page.getByRole('table', { name: 'Training history' }).locator('tbody tr')).toHaveCount(1);

  // The decision threshold follows the arrow keys.
  const slider = page.getByRole('slider', { name: 'Decision threshold' });
  await tabTo(page, slider);
  const start = Number(await slider.inputValue());
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowLeft');
  await expect(slider).toHaveValue(String(Number((start + 0.02).toFixed(2))));
  await expect(page.getByText(`Decision threshold: ${(start + 0.02).toFixed(2)}`)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Back to the reported threshold' })).toBeVisible();

  // Download model, by Enter on the button.
  await tabTo(page, page.getByRole('button', { name: 'Download model' }));
  const download = page.waitForEvent('download');
  await page.keyboard.press('Enter');
  expect((await download).suggestedFilename()).toBe(`xray-classifier-${SIZE}px.zip`);
});
