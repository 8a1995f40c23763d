/**
 * What every benchmark that drives the real app needs: the production build, served by `vite preview`
 * on a free port (other benchmarks and test runs may hold fixed ones), and Debian's Chromium launched
 * headless with the project's flags. `close` ends both.
 */
import { chromium, type Browser } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

export interface ServedApp {
  baseUrl: string;
  browser: Browser;
  close(): Promise<void>;
}

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForServer(url: string, exited: () => boolean): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (exited()) throw new Error('vite preview exited before it served the app');
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not up yet.
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`vite preview did not answer at ${url}`);
}

/** Debian's Chromium (never a downloaded one), and the flags every benchmark launches it with. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** Builds the app (`buildArgs` added to vite's), serves it and opens a browser; `browserArgs` are added to the usual flags. */
export async function serveBuiltApp(browserArgs: string[] = [], buildArgs: string[] = []): Promise<ServedApp> {
  if (spawnSync('npx', ['vite', 'build', '--logLevel', 'error', ...buildArgs], { stdio: 'inherit' }).status !== 0)
    process.exit(1);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  // Its own process group, so that killing it ends vite too, not only npx.
  const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
    stdio: 'ignore',
    detached: true,
  });
  let serverExited = false;
  server.on('exit', () => (serverExited = true));
  const stopServer = () => {
    try {
      if (server.pid && !serverExited) process.kill(-server.pid);
    } catch {
      // Already gone.
    }
  };
  let browser: Browser;
  try {
    await waitForServer(baseUrl, () => serverExited);
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...browserArgs] });
  } catch (error) {
    stopServer();
    throw error;
  }
  return {
    baseUrl,
    browser,
    close: async () => {
      await browser.close();
      stopServer();
    },
  };
}

export interface DemoTrainingOptions {
  size: number;
  /** The settings table's `backend` (auto, webgl, wasm, cpu…). */
  backend: string;
  /** The settings table's `model`; the app's default when left out. */
  model?: string;
  /**
   * Timed batches after the warm-up ones: at most the page's moving-average window (20 batches), which then
   * holds exactly the timed ones; with fewer, the window also holds warm-up batches but the first.
   */
  batches: number;
  /** Untimed batches first (default 1: the page's average always leaves out the first). */
  warmup?: number;
  /** Epochs to train (default 1: the demo set has 19 batches an epoch). */
  epochs?: number;
  /** Gives up on a cell after this many milliseconds (the figure is then n/a unless two batches ran). */
  budgetMs: number;
  /**
   * Also time the app's evaluation: once the figure is read, Stop, and when the run has ended ask the training
   * worker `evaluations` times (3 by default, the first a warm-up) to score the trained model on the demo set's
   * validation and test splits (its `evaluateModel` request: the run's own final evaluation, batch 32), timed on
   * the page's clock from the request to its reply.
   */
  evaluations?: number;
}

export interface DemoTrainingResult {
  /** The page's own moving average after the warm-up batch; null when fewer than two batches ran. */
  imagesPerSecond: number | null;
  /** The figure as the page shows it. */
  text: string;
  /** The backend the page says it used. */
  used: string;
  /** The page's note on the backend, e.g. 'WebAssembly runs on 2 threads.' */
  note: string;
  /** WebAssembly threads, read from the note (1 where it runs on one); null for other backends. */
  threads: number | null;
  /** Batches done when the figure was read. */
  batches: number;
  /** The evaluation (`evaluations`): images scored each time and the quickest time after the warm-up, or null. */
  evaluation: { images: number; ms: number } | null;
}

/**
 * Trains the demo dataset in a fresh page of the served app (batch 32) and reads its throughput figure:
 * the worker's moving average of whole training steps (batch preparation, forward, class-weighted loss,
 * gradients, RMSprop update, the loss read back) after the warm-up batch. bench:train and bench:native use it.
 */
export async function trainDemoOnPage(
  browser: Browser,
  baseUrl: string,
  options: DemoTrainingOptions,
): Promise<DemoTrainingResult> {
  const { size, backend, model, batches, budgetMs, evaluations = 0, warmup = 1, epochs = 1 } = options;
  const page = await browser.newPage();
  try {
    if (evaluations > 0) await page.addInitScript(HOOK_TRAINER_WORKER);
    await page.goto(
      `${baseUrl}/?size=${size}&epochs=${epochs}&batch=32&backend=${backend}${model ? `&model=${model}` : ''}`,
    );
    await page.getByRole('button', { name: 'Try demo dataset' }).click();
    await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout: 60_000 });
    const used = /validation\s+(\d+)(?:.*?, test (\d+))?/.exec(await page.getByTestId('validation-source').innerText());
    const evaluatedImages = Number(used?.[1] ?? 0) + Number(used?.[2] ?? 0);
    await page.getByRole('button', { name: 'Train' }).click();
    const progress = page.getByRole('progressbar', { name: 'Training' });
    const started = Date.now();
    let done = 0;
    // Warm-up batch + the timed ones, or as many as the time budget allows.
    while (Date.now() - started < budgetMs) {
      done = Number((await progress.getAttribute('aria-valuenow')) ?? 0);
      if (done >= batches + warmup) break;
      await page.waitForTimeout(250);
    }
    const text = await page.getByTestId('throughput').innerText();
    const backendUsed = await page.getByTestId('backend').innerText();
    const note = await page
      .getByTestId('backend-note')
      .innerText({ timeout: 1000 })
      .catch(() => '');
    const threadsMatch = /runs on (\d+|one) thread/.exec(note);
    const threads = threadsMatch ? (threadsMatch[1] === 'one' ? 1 : Number(threadsMatch[1])) : null;
    const imagesPerSecond = done >= 2 ? Number.parseFloat(text) : null;
    let evaluation: DemoTrainingResult['evaluation'] = null;
    if (evaluations > 0 && evaluatedImages > 0) {
      // The run may have ended already (then there is no Stop to press).
      await page
        .getByRole('button', { name: 'Stop' })
        .click({ timeout: 1000 })
        .catch(() => undefined);
      await page.waitForFunction('window.__trainReplied === true', undefined, { timeout: budgetMs, polling: 100 });
      const times = (await page.evaluate(`window.__timeEvaluations(${evaluations})`)) as number[];
      const warm = times.length > 1 ? times.slice(1) : times;
      evaluation = { images: evaluatedImages, ms: Math.min(...warm) };
    }
    return { imagesPerSecond, text, used: backendUsed, note, threads, batches: done, evaluation };
  } finally {
    await page.close();
  }
}

/**
 * Before the page's scripts: keeps the training worker (the Worker named 'trainer') as window.__trainer, sets
 * window.__trainReplied when it answers a train request, and defines window.__timeEvaluations(n), which sends it
 * n evaluateModel requests in turn (ids no page request has) and resolves with each one's milliseconds.
 * A string, not a function: tsx would wrap named inner functions in a helper the page does not have.
 */
const HOOK_TRAINER_WORKER = `(() => {
  const PageWorker = window.Worker;
  window.Worker = class extends PageWorker {
    constructor(url, options) {
      super(url, options);
      if (options && options.name === 'trainer') {
        window.__trainer = this;
        this.addEventListener('message', (event) => {
          const m = event.data;
          if (m && m.type === 'reply' && m.reply && m.reply.type === 'train') window.__trainReplied = true;
        });
      }
    }
  };
  window.__timeEvaluations = async (count) => {
    const worker = window.__trainer;
    const times = [];
    for (let i = 0; i < count; i++) {
      const id = 1e9 + i;
      const started = performance.now();
      await new Promise((resolve, reject) => {
        const listener = (event) => {
          const m = event.data;
          if (!m || m.id !== id || (m.type !== 'reply' && m.type !== 'error')) return;
          worker.removeEventListener('message', listener);
          if (m.type === 'reply') resolve(undefined);
          else reject(new Error(m.message));
        };
        worker.addEventListener('message', listener);
        worker.postMessage({ id, request: { type: 'evaluateModel', batchSize: 32 } });
      });
      times.push(performance.now() - started);
    }
    return times;
  };
})();`;
