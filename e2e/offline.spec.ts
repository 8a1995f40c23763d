import { expect, test } from './fixtures';
import { expectStatus } from './helpers';

// The one spec that needs the service worker (playwright.config.ts blocks it elsewhere).
test.use({ serviceWorkers: 'allow' });

test('after one visit the app loads, trains and downloads with the network off; it is installable', async ({
  page,
  context,
}) => {
  await page.goto('/?size=32&epochs=1&batch=32');
  // The service worker precaches the whole build on the first visit.
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    if (registration.active?.state !== 'activated') {
      await new Promise<void>((resolve) =>
        registration.active?.addEventListener(
          'statechange',
          () => registration.active?.state === 'activated' && resolve(),
        ),
      );
    }
  });
  const manifest = await page.evaluate(async () => {
    const link = document.querySelector<HTMLLinkElement>('link[rel=manifest]');
    return link
      ? ((await (await fetch(link.href)).json()) as { name: string; icons: { sizes: string }[]; display: string })
      : null;
  });
  expect(manifest?.display).toBe('standalone');
  expect(manifest?.icons.map((i) => i.sizes)).toContain('512x512');

  await context.setOffline(true);
  await page.reload();
  await expectStatus(page, 'idle');
  // Really offline: what the service worker has not cached does not arrive.
  expect(
    await page.evaluate(() =>
      fetch(`/not-cached-${Date.now()}.txt`).then(
        () => 'reached',
        () => 'offline',
      ),
    ),
  ).toBe('offline');
  await page.getByRole('button', { name: 'Try demo dataset' }).click();
  await expectStatus(page, 'ready');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expectStatus(page, 'done', 180_000);
  // Every format, the HDF5 library's chunk included, comes from the cache.
  for (const [format, ending] of [
    ['TensorFlow.js', '.zip'],
    ['Keras HDF5', '-keras.zip'],
  ] as const) {
    await page.getByLabel('Model format').selectOption({ label: format });
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download model' }).click();
    expect((await download).suggestedFilename()).toMatch(new RegExp(`\\${ending}$`));
  }
  await context.setOffline(false);
});
