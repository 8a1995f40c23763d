/**
 * bench:profile's worker: starts the WASM backend as the app's training worker does (WasmStarter: our native kernels
 * on a thread a core, tfjs' pool on one), then for each model times training steps (weightedTrainStep, the app's) and
 * predictions on random images, and profiles a few steps kernel by kernel (tf.profile). Posts a text report.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeKernelsFor } from '../../src/backends/native/nativeKernels';
import { WasmStarter } from '../../src/backends/wasm';
import { buildModel, MODEL_NAMES, type ModelName } from '../../src/model/models';
import { weightedTrainStep } from '../../src/model/weightedStep';
import { answerWith, kernelTable, tallyKernels, type KernelTally } from './kernelTable';

interface Options {
  size?: string;
  models?: string;
  steps?: string;
  calls?: string;
  batch?: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(times: number, run: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await run();
    ms.push(performance.now() - start);
  }
  return ms;
}

async function report(options: Options): Promise<string> {
  const size = Number(options.size ?? 64);
  const steps = Number(options.steps ?? 15);
  const models = (options.models ?? MODEL_NAMES.join(',')).split(',') as ModelName[];
  const lines: string[] = [];
  const problem = await new WasmStarter().start(async (name) =>
    (await tf.setBackend(name)) ? null : `${name} did not start`,
  );
  if (problem !== null) return `error ${problem}`;
  const threads = nativeKernelsFor(tf.findBackend('wasm') as BackendWasm)?.threads ?? 0;
  lines.push(
    `wasm, native kernels on ${threads} thread(s), cross-origin isolated: ${String((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated)}`,
  );
  for (const name of models) {
    const model = buildModel(name, { imageSize: size, numClasses: 2, learningRate: 1e-3, seed: 1 });
    const batch = Number(options.batch ?? 32);
    const xs = tf.randomUniform([batch, size, size, 1]) as tf.Tensor4D;
    const ys = tf.tensor2d(
      Array.from({ length: batch }, (_, i) => i % 2),
      [batch, 1],
    );
    const step = () => weightedTrainStep(model, xs, ys, [1, 1]);
    await timed(3, step);
    const stepMs = await timed(steps, step);
    const predictMs = await timed(steps, async () => {
      const p = model.predict(xs) as tf.Tensor;
      await p.data();
      p.dispose();
    });
    lines.push(
      `${name} ${size} px, batch ${batch}: step median ${median(stepMs).toFixed(1)} ms (${((batch * 1000) / median(stepMs)).toFixed(0)} images/s), fastest ${Math.min(...stepMs).toFixed(1)}; predict median ${median(predictMs).toFixed(1)} ms`,
    );
    const byKernel: KernelTally = new Map();
    const profiled = 3;
    for (let i = 0; i < profiled; i++) {
      const info = await tf.profile(async () => {
        await step();
      });
      tallyKernels(byKernel, info.kernels, 1 / profiled);
      if (i === 0 && options.calls !== undefined) {
        for (const k of info.kernels) {
          const shapes = (k.inputShapes ?? []).map((s) => JSON.stringify(s)).join(' ');
          lines.push(`    ${k.name} ${shapes} ${Number(k.kernelTimeMs).toFixed(2)} ms`);
        }
      }
    }
    const counts = nativeKernelsFor(tf.findBackend('wasm') as BackendWasm)?.chunkCounts();
    if (counts && counts.chunks > 0)
      lines.push(
        `  helper threads did ${counts.byHelpers} of ${counts.chunks} chunks of split kernel calls so far (${((100 * counts.byHelpers) / counts.chunks).toFixed(0)}%)`,
      );
    const { total, lines: table } = kernelTable(byKernel, 14);
    lines.push(
      `  kernels a profiled step: ${total.toFixed(1)} ms (a custom op's scope, "unnamed scope", counts its kernels again)`,
    );
    lines.push(...table);
    tf.dispose([xs, ys]);
    model.dispose();
  }
  return lines.join('\n');
}

answerWith(report);
