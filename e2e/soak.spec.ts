/**
 * Memory soak through the page (issue 12): 50 epochs of a tiny generated dataset. The training worker's tensors
 * stay flat (each history row's `data-tensors`), and the page's JS heap, read after a forced collection at epochs
 * along the run, stays bounded: what legitimately grows is a history row and a few chart points an epoch (the
 * curves merge their oldest batches past 400 points), while a leak of what passes each epoch (a checkpoint is the
 * model's weights and optimizer state, ~0.3 MB here) would add over 10 MB in 40 epochs. The trainer's heap is read
 * too when the browser lets a test attach to the worker (the unit soak, src/worker/memorySoak.test.ts, asserts it).
 */
import { type Browser, type CDPSession, type Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { expectAugmentedSamplesShown, expectStatus, writeSyntheticZip } from './helpers';

const SIZE = 32;
const EPOCHS = 50;
/**
 * Heap readings at these epochs' ends, each with the run paused (so the last is taken while it trains, before the
 * Results mount: with 16 training images, 50 epochs took ~8 s, and on a loaded machine a Pause clicked at epoch 45
 * took effect after the end; now 48 images (6 batches an epoch) and the last reading at 40, ten epochs short of the
 * end); the first comes after warm-up (JIT, lazily built charts and tables).
 */
const READ_AT = [10, 20, 30, 40];
/**
 * The most the page's heap may grow from the first reading to the last: 30 history rows (their DOM and React fibers,
 * a few kB each), chart points and optimised code, and the readings' own spread (0.0-1.3 MB in three runs). Before the curves
 * stopped re-inserting their validation points every epoch, vega kept each removed point's mark: +2.5 MB over these
 * epochs, and more the longer the run, until 10,000 marks a layer.
 */
const PAGE_GROWTH_LIMIT_MB = 2;

const mb = (bytes: number) => bytes / 2 ** 20;

/** The page's JS heap after a full collection: V8's used heap plus ArrayBuffer backing stores, in bytes. */
async function pageHeap(cdp: CDPSession): Promise<number> {
  // Twice: the first collection frees what finalizers and weak references were holding, the second what that released.
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; backingStorageSize?: number };
  return usage.usedSize + (usage.backingStorageSize ?? 0);
}

/**
 * The page's heap once it is idle, the least of three readings each after an idle callback: a reading taken while a
 * chart update or a message is being handled holds its transient objects (up to 3 MB above its neighbours in CI runs),
 * which a leak is not; a leak stays in all three.
 */
async function settledPageHeap(page: Page, cdp: CDPSession): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 3; i++) {
    await page.evaluate(() => new Promise<void>((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 })));
    readings.push(await pageHeap(cdp));
  }
  return Math.min(...readings);
}

/**
 * The training worker's heap, the same way, through the browser's own CDP session (Playwright gives none for a
 * worker); null when the browser does not let us attach.
 */
async function trainerHeap(browser: Browser): Promise<(() => Promise<number>) | null> {
  const session = await browser.newBrowserCDPSession();
  const { targetInfos } = (await session.send('Target.getTargets')) as {
    targetInfos: { targetId: string; type: string; url: string }[];
  };
  const trainer = targetInfos.find((t) => t.type === 'worker' && /train\.worker/.test(t.url));
  if (!trainer) return null;
  const { sessionId } = (await session.send('Target.attachToTarget', {
    targetId: trainer.targetId,
    flatten: false,
  })) as { sessionId: string };
  let nextId = 1;
  const call = (method: string) =>
    new Promise<Record<string, number>>((resolve, reject) => {
      const id = nextId++;
      const onMessage = (event: { sessionId: string; message: string }) => {
        const reply = JSON.parse(event.message) as {
          id?: number;
          result?: Record<string, number>;
          error?: { message: string };
        };
        if (event.sessionId !== sessionId || reply.id !== id) return;
        session.off('Target.receivedMessageFromTarget', onMessage);
        if (reply.error) reject(new Error(reply.error.message));
        else resolve(reply.result ?? {});
      };
      session.on('Target.receivedMessageFromTarget', onMessage);
      void session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
    });
  return async () => {
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.getHeapUsage');
    return usage.usedSize + (usage.backingStorageSize ?? 0);
  };
}

async function epochsDone(page: Page): Promise<number> {
  return page.getByRole('table', { name: 'Training history' }).locator('tbody tr').count();
}

test(`a ${EPOCHS}-epoch run keeps the worker's tensors flat and the page's heap bounded`, async ({ page, browser }) => {
  test.setTimeout(300_000);
  const { zipPath } = await writeSyntheticZip(
    { seed: 7, perClass: { train: 24, val: 3, test: 4 }, imageSize: SIZE },
    'xray-soak-',
  );

  // WebAssembly named, so no backend probe; no early stopping, so all 50 epochs run.
  await page.goto(`/?size=${SIZE}&epochs=${EPOCHS}&batch=8&patience=0&backend=wasm`);
  await page.getByLabel('Dataset', { exact: true }).setInputFiles(zipPath);
  await expectStatus(page, 'ready');
  await expectAugmentedSamplesShown(page);
  const cdp = await page.context().newCDPSession(page);
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  // The trainer is attached to once it trains (its first epoch is in).
  await expect.poll(() => epochsDone(page), { timeout: 120_000, intervals: [100] }).toBeGreaterThanOrEqual(1);
  const readTrainer = await trainerHeap(browser).catch(() => null);

  const readings: { epoch: number; page: number; trainer: number | null }[] = [];
  for (const at of READ_AT) {
    await expect.poll(() => epochsDone(page), { timeout: 120_000, intervals: [50] }).toBeGreaterThanOrEqual(at);
    await page.getByRole('button', { name: 'Pause' }).click();
    await expectStatus(page, 'paused');
    readings.push({
      epoch: await epochsDone(page),
      page: await settledPageHeap(page, cdp),
      trainer: readTrainer ? await readTrainer().catch(() => null) : null,
    });
    await page.getByRole('button', { name: 'Continue' }).click();
  }
  await expectStatus(page, 'done', 120_000);
  const finalPage = await pageHeap(cdp);

  const rows = page.getByRole('table', { name: 'Training history' }).locator('tbody tr');
  await expect(rows).toHaveCount(EPOCHS);
  const tensors = await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-tensors')));
  const line = (r: (typeof readings)[number]) =>
    `epoch ${r.epoch}: page ${mb(r.page).toFixed(1)} MB${r.trainer === null ? '' : `, trainer ${mb(r.trainer).toFixed(1)} MB`}`;
  console.log(
    `memory soak in the browser, ${EPOCHS} epochs at ${SIZE} px: tensors at every epoch end ${[...new Set(tensors)].join(', ')}; ` +
      `${readings.map(line).join('; ')}; page with the results ${mb(finalPage).toFixed(1)} MB`,
  );
  expect(new Set(tensors).size, 'tf.memory().numTensors at each epoch end').toBe(1);
  const first = readings[0];
  const last = readings[readings.length - 1];
  expect(mb(last.page - first.page), `page heap growth from epoch ${first.epoch} to ${last.epoch} (MB)`).toBeLessThan(
    PAGE_GROWTH_LIMIT_MB,
  );
});
