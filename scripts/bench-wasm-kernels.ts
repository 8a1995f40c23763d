/**
 * Times one training step (model.trainOnBatch) of the tutorial CNN on TensorFlow.js backends in
 * Node, to see what src/backends/wasmKernels.ts buys on the WASM backend.
 *
 *   npx tsx scripts/bench-wasm-kernels.ts [--sizes 64,150] [--batch 32] [--steps 5] [--no-cpu] [--no-naive] [--model tutorial|batchnorm]
 *     [--augment]
 *
 * Rows: 'cpu' (stock tfjs kernels, smallest size only: it is slow), 'wasm naive' (only the missing
 * Conv2DBackpropFilter, as a direct loop; the rest as shipped), 'wasm fast' (all kernels of
 * wasmKernels.ts, on XNNPACK and loops) and 'wasm native' (the app's: those plus our SIMD kernels of
 * src/backends/native, the BatchNormalization layer's two kernels and the max-pool gradient). Then a
 * per-kernel profile of one native WASM step at the largest size. `--augment`: also what the default training
 * augmentation (src/worker/augment.ts, the settings table's defaults) adds to each step, whole and change by change.
 *
 * Threads: in Node tfjs-backend-wasm always runs its single-threaded SIMD build (it turns
 * multithreading off under Node), so every WASM number here is one thread, like a browser page
 * that is not cross-origin isolated (no SharedArrayBuffer).
 */
import * as tf from '@tensorflow/tfjs';
import { buildModel as buildNamedModel, MODEL_NAMES, type ModelName } from '../src/model/models';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { registerNaiveWasmFilterGradient, registerWasmTrainingKernels } from '../src/backends/wasmKernels';
import { readFile } from 'node:fs/promises';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeBytesFromDisk, startNativeKernels, stopNativeKernels } from '../src/backends/native/register';
import { NO_AUGMENTATION, seededAugmenter } from '../src/worker/augment';
import { DEFAULT_SETTINGS } from '../src/core/settings';
import type { AugmentationSettings } from '../src/core/types';

async function startNative(): Promise<void> {
  const problem = await startNativeKernels(
    tf.findBackend('wasm') as BackendWasm,
    nativeBytesFromDisk((url) => readFile(url)),
  );
  if (problem !== null) throw new Error(`The native kernels did not start: ${problem}`);
}

interface Options {
  sizes: number[];
  batch: number;
  steps: number;
  cpu: boolean;
  naive: boolean;
  model: ModelName;
  augment: boolean;
}

interface Row {
  backend: string;
  size: number;
  msPerStep: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    sizes: [64, 150],
    batch: 32,
    steps: 5,
    cpu: true,
    naive: true,
    model: 'tutorial',
    augment: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--sizes') options.sizes = next().split(',').map(Number);
    else if (arg === '--batch') options.batch = Number(next());
    else if (arg === '--steps') options.steps = Number(next());
    else if (arg === '--no-cpu') options.cpu = false;
    else if (arg === '--no-naive') options.naive = false;
    else if (arg === '--augment') options.augment = true;
    else if (arg === '--model') {
      const model = next();
      if (!(MODEL_NAMES as readonly string[]).includes(model))
        throw new Error(`--model: one of ${MODEL_NAMES.join(', ')}`);
      options.model = model as ModelName;
    } else throw new Error(`Unknown argument ${arg}`);
  }
  return options;
}

let modelName: ModelName = 'tutorial';

/** The app's model (src/model/models.ts; the tutorial's CNN unless --model), seeded, compiled with RMSprop. */
function buildModel(size: number): tf.LayersModel {
  return buildNamedModel(modelName, { imageSize: size, numClasses: 2, learningRate: 1e-3, seed: 1 });
}

function makeBatch(size: number, batch: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const xs = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
  const ys = tf.tensor2d(
    Array.from({ length: batch }, (_, i) => i % 2),
    [batch, 1],
  );
  return { xs, ys };
}

async function timeSteps(size: number, batch: number, steps: number, warmup: number): Promise<number> {
  const model = buildModel(size);
  const { xs, ys } = makeBatch(size, batch);
  try {
    for (let i = 0; i < warmup; i++) await model.trainOnBatch(xs, ys);
    const before = tf.memory().numTensors;
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const start = performance.now();
      await model.trainOnBatch(xs, ys); // resolves after reading the loss back: the step is done
      times.push(performance.now() - start);
    }
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) console.warn(`  warning: ${leaked} tensors leaked over ${steps} steps on ${tf.getBackend()}`);
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]; // median
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

async function profileStep(size: number, batch: number): Promise<void> {
  const model = buildModel(size);
  const { xs, ys } = makeBatch(size, batch);
  try {
    await model.trainOnBatch(xs, ys);
    await model.trainOnBatch(xs, ys);
    const start = performance.now();
    const info = await tf.profile(async () => {
      await model.trainOnBatch(xs, ys);
    });
    const wall = performance.now() - start;
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
      entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      entry.calls += 1;
      byName.set(k.name, entry);
    }
    const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
    const top = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
    console.log(
      `\nKernel profile of one ${tf.getBackend()} (native) step at ${size} px, batch ${batch} (kernel time ${total.toFixed(0)} ms; wall with profiling ${wall.toFixed(0)} ms):`,
    );
    console.log(`${'kernel'.padEnd(24)}${'ms'.padStart(9)}${'calls'.padStart(7)}${'share'.padStart(8)}`);
    for (const [name, e] of top) {
      console.log(
        `${name.padEnd(24)}${e.ms.toFixed(1).padStart(9)}${String(e.calls).padStart(7)}${`${((100 * e.ms) / total).toFixed(1)}%`.padStart(8)}`,
      );
    }
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

/** Median ms of the augmentation on one batch (values read back), each image its own draw, as training does. */
async function augmentMs(size: number, batch: number, settings: AugmentationSettings, steps: number): Promise<number> {
  const { xs, ys } = makeBatch(size, batch);
  const augment = seededAugmenter(settings, 1);
  try {
    const times: number[] = [];
    for (let i = 0; i < steps + 2; i++) {
      const start = performance.now();
      const out = augment(xs);
      await out.data();
      out.dispose();
      if (i >= 2) times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  } finally {
    tf.dispose([xs, ys]);
  }
}

/** The default augmentation's cost per batch against a native step, whole and each change alone. */
async function reportAugmentation(sizes: number[], batch: number, steps: number, rows: Row[]): Promise<void> {
  const defaults = DEFAULT_SETTINGS.augmentation;
  const parts: [string, AugmentationSettings][] = [
    ['defaults, all', defaults],
    ['zoom alone', { ...NO_AUGMENTATION, zoom: defaults.zoom }],
    ['blur alone', { ...NO_AUGMENTATION, blur: defaults.blur }],
    ['contrast, gamma', { ...NO_AUGMENTATION, contrast: defaults.contrast, gamma: defaults.gamma }],
    ['noise alone', { ...NO_AUGMENTATION, noise: defaults.noise }],
  ];
  console.log(`\nThe default augmentation (${JSON.stringify(defaults)}), batch ${batch}, median of ${steps}:`);
  console.log(`${'what'.padEnd(18)}${'size'.padStart(6)}${'ms/batch'.padStart(10)}${'of a step'.padStart(11)}`);
  for (const size of sizes) {
    const step = rows.find((r) => r.backend === 'wasm native' && r.size === size)?.msPerStep;
    for (const [name, settings] of parts) {
      const ms = await augmentMs(size, batch, settings, steps);
      const share = step ? `${((100 * ms) / step).toFixed(0)}%` : '';
      console.log(`${name.padEnd(18)}${String(size).padStart(6)}${ms.toFixed(1).padStart(10)}${share.padStart(11)}`);
    }
  }
}

async function predictMs(size: number, batch: number): Promise<number> {
  const model = buildModel(size);
  const { xs, ys } = makeBatch(size, batch);
  try {
    tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync());
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync());
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return times[2];
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const { sizes, batch, steps } = options;
  modelName = options.model;
  const rows: Row[] = [];
  const smallest = Math.min(...sizes);
  const largest = Math.max(...sizes);

  if (options.cpu) {
    await tf.setBackend('cpu');
    console.log(`cpu ${smallest} px ...`);
    rows.push({ backend: 'cpu', size: smallest, msPerStep: await timeSteps(smallest, batch, Math.min(steps, 2), 1) });
  }

  // Single-threaded in Node (see the header); ask for one thread anyway, as a browser worker may have.
  tfwasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('The WASM backend did not start.');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  console.log(
    `wasm: SIMD ${simd ? 'yes' : 'no'}, threaded build ${threaded ? 'yes' : 'no'}, XNNPACK threads ${tfwasm.getThreadsCount()}`,
  );

  const predict = new Map<number, number>();
  for (const size of sizes) {
    if (options.naive) {
      registerNaiveWasmFilterGradient();
      console.log(`wasm naive ${size} px ...`);
      rows.push({ backend: 'wasm naive', size, msPerStep: await timeSteps(size, batch, steps, 1) });
    }
    registerWasmTrainingKernels();
    stopNativeKernels();
    console.log(`wasm fast ${size} px ...`);
    rows.push({ backend: 'wasm fast', size, msPerStep: await timeSteps(size, batch, steps, 2) });
    await startNative();
    console.log(`wasm native ${size} px ...`);
    rows.push({ backend: 'wasm native', size, msPerStep: await timeSteps(size, batch, steps, 2) });
    predict.set(size, await predictMs(size, batch));
  }

  console.log(
    `\nOne training step (trainOnBatch) of the ${modelName} model, batch ${batch}, median of ${steps} (cpu: of ${Math.min(steps, 2)}):`,
  );
  console.log(
    `${'backend'.padEnd(12)}${'size'.padStart(6)}${'ms/step'.padStart(10)}${'images/s'.padStart(10)}${'vs fastest'.padStart(12)}`,
  );
  for (const size of [...new Set(rows.map((r) => r.size))].sort((a, b) => a - b)) {
    const group = rows.filter((r) => r.size === size);
    const fastest = Math.min(...group.map((r) => r.msPerStep));
    for (const r of group) {
      console.log(
        `${r.backend.padEnd(12)}${String(r.size).padStart(6)}${r.msPerStep.toFixed(0).padStart(10)}${((1000 * batch) / r.msPerStep).toFixed(1).padStart(10)}${`${(r.msPerStep / fastest).toFixed(2)}x`.padStart(12)}`,
      );
    }
    const p = predict.get(size);
    if (p !== undefined) {
      const fast = group.find((r) => r.backend === 'wasm native');
      console.log(
        `${'wasm predict'.padEnd(12)}${String(size).padStart(6)}${p.toFixed(0).padStart(10)}${''.padStart(10)}${fast ? `step = ${(fast.msPerStep / p).toFixed(1)} forward passes` : ''}`,
      );
    }
  }

  registerWasmTrainingKernels();
  await startNative();
  if (options.augment) await reportAugmentation(sizes, batch, steps, rows);
  await profileStep(largest, batch);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
