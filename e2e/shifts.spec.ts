import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { expectStatus, reportShown } from './helpers';

const SIZE = 32;

test('after training, the Results check the model under acquisition shifts at the current threshold', async ({
  page,
}) => {
  await page.goto(`/?size=${SIZE}&epochs=1&batch=32`);
  await page.getByRole('button', { name: 'Try demo dataset' }).click();
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  await reportShown(page);

  await page.getByRole('button', { name: 'Check acquisition shifts' }).click();
  const table = page.getByRole('table', { name: 'Under acquisition shifts' });
  await expect(table.locator('tbody tr')).toHaveCount(9, { timeout: 120_000 });
  const shifts = await table.locator('tbody th').allInnerTexts();
  expect(shifts.map((s) => s.trim())).toEqual([
    'as is',
    'blurred',
    'low resolution',
    'tighter framing',
    'contrast halved',
    'brighter (gamma 0.5)',
    'darker (gamma 2)',
    'noise',
    'inverted',
  ]);
  const headers = (await table.locator('thead th').allInnerTexts()).map((h) => h.trim());
  expect(headers).toEqual(['Shift', 'Accuracy', 'Sensitivity', 'Specificity', 'AUC', 'Unlike training data']);
  // Every figure a number (or n/a where a class is missing), every share a percentage.
  for (const row of await table.locator('tbody tr').all()) {
    const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
    for (const figure of cells.slice(0, 4)) expect(figure).toMatch(/^(\d\.\d{4}|n\/a)$/);
    expect(cells[4]).toMatch(/^\d+%$/);
  }
  await expect(page.getByTestId('shift-summary')).toContainText(
    /(: the model’s (specificity|sensitivity) falls from \d\.\d\d to \d\.\d\d \(\d+ images\); the unlike-training detector flags \d+% of them\.|^No shift lowers)/,
  );
  await expect(page.getByTestId('shift-summary')).toContainText('A film from another scanner or site');

  // The Results with the table: no serious or critical axe violations.
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

  // The table follows the Decision threshold slider, as the other Results do.
  await page.getByRole('slider', { name: 'Decision threshold' }).fill('0.01');
  await expect(table.locator('caption')).toContainText('at least 0.01');
  const sensitivity = await table
    .getByRole('row', { name: /^as is/ })
    .locator('td')
    .nth(1)
    .innerText();
  expect(sensitivity.trim()).toMatch(/^(1\.0000|0\.9\d{3})$/);
});
