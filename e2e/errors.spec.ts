import { expect, test } from './fixtures';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSyntheticZip } from '../scripts/syntheticZip';
import { SETTINGS } from '../src/core/settings';
import { expectStatus, readSummary } from './helpers';

test('bad input gets a clear message and the loaded dataset is kept', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'xray-e2e-'));
  const good = join(dir, 'good.zip');
  writeFileSync(
    good,
    (await buildSyntheticZip({ seed: 5, perClass: { train: 12, val: 0, test: 2 }, imageSize: 40 })).zip,
  );
  const notZip = join(dir, 'notes.zip');
  writeFileSync(notZip, 'this is not a zip archive');

  await page.goto('/?size=40');
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(good);
  await expectStatus(page, 'ready');
  const before = await readSummary(page);

  await page.getByLabel('Dataset', { exact: true }).setInputFiles(notZip);
  await expect(page.getByRole('alert')).toContainText(/not a zip/i);
  expect(await readSummary(page)).toEqual(before);

  await page.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expectStatus(page, 'ready');
});

test('a URL parameter the app cannot use is reported and the default kept', async ({ page }) => {
  await page.goto('/?size=5&epochs=3');
  await expect(page.getByRole('alert')).toContainText('Image size must be between 31 and 512');
  await expect(page.getByLabel('Image size')).toHaveValue('150');
  await expect(page.getByLabel('Epochs')).toHaveValue('3');
  // The default model's parameters at 150 px.
  await expect(page.getByTestId('total-params')).toHaveText(
    { tutorial: '151,969', batchnorm: '152,449' }[SETTINGS.model.default],
  );
});
