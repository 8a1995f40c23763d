/**
 * `npm run bench:native`: the app against native PyTorch on the same machine. For each size and model, back to back,
 * the real app trains the demo set in headless Chromium on the WebAssembly backend (bench:train's measurement:
 * the page's own images/s after the warm-up batch), then Debian's PyTorch (scripts/bench_native.py) trains the
 * same network at the same size and batch on as many threads as the app's WebAssembly backend used. One table:
 * images/s of both and their ratio, for training and, unless --no-eval, for inference (evaluation).
 *
 * Options: --sizes 64,150  --models batchnorm,tutorial  --steps 20 (timed steps of each, after warm-up; at most 20, the page's window)
 *   --warmup 2 (untimed steps first, on both sides)  --threads N (PyTorch's; default: the app's)  --backend wasm  --python /usr/bin/python3  --budget 240 (s per app cell)
 *   --repeats 1 (each cell this many times, app and PyTorch in turn; the best of each is kept)
 *   --omp-wait-policy passive|active (PyTorch's OpenMP threads: by default as the environment has it, i.e. spinning
 *     while they wait; on a machine busy with other work, spinning threads that lose their core slow PyTorch
 *     several times over, and `passive` keeps them from it)  --no-eval (training only)
 * Each row also gives the 1-minute load average when its cell started: above the core count, the machine was shared.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serveBuiltApp, trainDemoOnPage, type DemoTrainingResult } from './benchApp';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '64,150' },
    models: { type: 'string', default: 'batchnorm,tutorial' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
    python: { type: 'string', default: '/usr/bin/python3' },
    budget: { type: 'string', default: '240' },
    repeats: { type: 'string', default: '1' },
    'omp-wait-policy': { type: 'string' },
    'no-eval': { type: 'boolean', default: false },
  },
});
const sizes = values.sizes.split(',').map(Number);
const models = values.models.split(',');
const BATCH = 32;
// The demo set's train split is 600 images: 19 batches of 32. The app trains as many epochs as the
// warm-up and timed batches need, and its figure is the page's moving average over the last 20 batches.
const DEMO_BATCHES = 19;
const PAGE_WINDOW = 20;
const warmup = Math.max(1, Number(values.warmup));
const steps = Math.min(Number(values.steps), PAGE_WINDOW);
if (steps < Number(values.steps))
  console.log(`--steps ${values.steps}: the page averages at most ${steps} batches; both sides time ${steps}.`);
const epochs = Math.ceil((warmup + steps) / DEMO_BATCHES);
const budgetMs = Number(values.budget) * 1000;
const evaluation = !values['no-eval'];
const repeats = Math.max(1, Number(values.repeats));
const python = values.python;
const pythonEnv = values['omp-wait-policy']
  ? { ...process.env, OMP_WAIT_POLICY: values['omp-wait-policy'].toUpperCase() }
  : process.env;
const pythonScript = fileURLToPath(new URL('./bench_native.py', import.meta.url));

interface NativeFigures {
  images_per_s: number;
  ms_median: number;
}

interface NativeResult {
  torch: string;
  torch_path: string;
  threads: number;
  train: NativeFigures;
  eval: NativeFigures;
}

interface Row {
  size: number;
  model: string;
  app: DemoTrainingResult;
  native: NativeResult | null;
  /** 1-minute load average when the cell started. */
  load: number;
}

/** Why `python` cannot run the PyTorch side, with what to do about it; null when it can. */
function torchProblem(): string | null {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status === 0) return null;
  return (
    `PyTorch is not importable by ${python}${probe.error ? ` (${probe.error.message})` : ''}: on Debian, ` +
    '`sudo apt-get install python3-torch` installs it (or pass --python with a Python that has torch). ' +
    'Only the app side runs this time.'
  );
}

function runNative(
  size: number,
  model: string,
  threads: number,
): { result: NativeResult | null; problem: string | null } {
  const args = [
    pythonScript,
    '--model',
    model,
    '--size',
    String(size),
    '--batch',
    String(BATCH),
    '--threads',
    String(threads),
    '--steps',
    String(steps),
    '--warmup',
    String(warmup),
  ];
  const run = spawnSync(python, args, { encoding: 'utf8', env: pythonEnv });
  if (run.status !== 0)
    return {
      result: null,
      problem: `bench_native.py failed (${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' ')}`,
    };
  return { result: JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as NativeResult, problem: null };
}

const fixed = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
const ratio = (app: number | null | undefined, native: number | null | undefined) =>
  app && native ? `${(app / native).toFixed(2)}x` : 'n/a';

/** The app's best of two repeats: the quicker training figure and, apart, the quicker validation pass. */
function bestApp(kept: DemoTrainingResult | null, run: DemoTrainingResult): DemoTrainingResult {
  if (!kept) return run;
  const better = (run.imagesPerSecond ?? 0) > (kept.imagesPerSecond ?? 0) ? run : kept;
  const passes = [kept.evaluation, run.evaluation].filter((e) => e !== null);
  return { ...better, evaluation: passes.sort((a, b) => a.ms - b.ms)[0] ?? null };
}

/** PyTorch's best of two repeats, training and inference apart. */
function bestNative(kept: NativeResult | null, run: NativeResult): NativeResult {
  if (!kept) return run;
  const faster = (a: NativeFigures, b: NativeFigures) => (b.images_per_s > a.images_per_s ? b : a);
  return { ...kept, train: faster(kept.train, run.train), eval: faster(kept.eval, run.eval) };
}

const noTorch = torchProblem();
if (noTorch) console.log(noTorch);

const { baseUrl, browser, close } = await serveBuiltApp();
const rows: Row[] = [];
try {
  for (const size of sizes) {
    for (const model of models) {
      const load = loadavg()[0];
      let app: DemoTrainingResult | null = null;
      let native: NativeResult | null = null;
      // App and PyTorch in turn, so that both see the machine as it is then; the best of each is kept.
      for (let repeat = 0; repeat < repeats; repeat++) {
        const appRun = await trainDemoOnPage(browser, baseUrl, {
          size,
          backend: values.backend,
          model,
          batches: steps,
          warmup,
          epochs,
          budgetMs,
          evaluations: evaluation ? 3 : 0,
        });
        console.log(
          `app ${model} ${size} px: ${appRun.text} (${appRun.used}; ${appRun.note || 'no note'}; ${appRun.batches} batches)`,
        );
        app = bestApp(app, appRun);
        if (noTorch) continue;
        const appThreads = appRun.threads ?? 1;
        const threads = values.threads ? Number(values.threads) : appThreads;
        if (threads !== appThreads)
          console.log(`  note: the app ran ${appThreads} thread(s), PyTorch gets --threads ${threads}`);
        const { result, problem } = runNative(size, model, threads);
        if (!result) {
          console.log(`PyTorch ${model} ${size} px: ${problem}`);
          continue;
        }
        console.log(
          `PyTorch ${result.torch} ${model} ${size} px, ${result.threads} thread(s): ${result.train.images_per_s.toFixed(1)} images/s`,
        );
        native = bestNative(native, result);
      }
      if (app) rows.push({ size, model, app, native, load });
    }
  }
} finally {
  await close();
}

const native = rows.find((r) => r.native)?.native;
const threadsUsed = [...new Set(rows.map((r) => r.native?.threads ?? r.app.threads ?? 1))].join(', ');
console.log(
  `\nTraining, batch ${BATCH}, ${steps} timed steps each after warm-up (app: the page's moving average; PyTorch: ` +
    `${native ? `${native.torch} from ${native.torch_path.replace(/\/torch\/__init__\.py$/, '')}` : 'not run'}), threads: ${threadsUsed}` +
    `${repeats > 1 ? `, best of ${repeats}` : ''}, ${cpus().length} logical cores (${cpus()[0]?.model ?? 'unknown CPU'})` +
    `${values['omp-wait-policy'] ? `, OMP_WAIT_POLICY=${values['omp-wait-policy'].toUpperCase()}` : ''}`,
);
console.log('size | model | app backend | app images/s | PyTorch images/s | app / PyTorch | load average');
console.log('--- | --- | --- | --- | --- | --- | ---');
for (const r of rows) {
  console.log(
    `${r.size} | ${r.model} | ${r.app.used} | ${fixed(r.app.imagesPerSecond)} | ${fixed(r.native?.train.images_per_s)} | ${ratio(r.app.imagesPerSecond, r.native?.train.images_per_s)} | ${r.load.toFixed(1)}`,
  );
}
if (evaluation) {
  console.log(
    `\nInference (evaluation), batch ${BATCH} (app: the training worker's evaluation of the trained model on the demo set's validation and test splits, quicker of 2 after a warm-up, page clock, messages included; ` +
      `PyTorch: ${steps} eval-mode forward passes after warm-up)`,
  );
  console.log('size | model | app images | app ms | app images/s | PyTorch images/s | app / PyTorch');
  console.log('--- | --- | --- | --- | --- | --- | ---');
  for (const r of rows) {
    const e = r.app.evaluation;
    const appRate = e ? (e.images * 1000) / e.ms : null;
    console.log(
      `${r.size} | ${r.model} | ${e?.images ?? 'n/a'} | ${fixed(e?.ms, 0)} | ${fixed(appRate)} | ${fixed(r.native?.eval.images_per_s)} | ${ratio(appRate, r.native?.eval.images_per_s)}`,
    );
  }
}
if (noTorch) console.log(`\n${noTorch}`);
