/**
 * bench:gpu's worker: starts one backend as the app's training worker does (WebGPU with our kernels through
 * WebgpuStarter, or with tfjs' shipped ones when asked; WebGL; WebAssembly through WasmStarter), says what
 * device it runs on (a real GPU, or software such as SwiftShader), times a few training steps of the app's
 * (weightedTrainStep) on random images, and lists tf.profile's kernels of one step, largest first. Posts text.
 */
import * as tf from '@tensorflow/tfjs';
import { WasmStarter } from '../../src/backends/wasm';
import { softwareWarning } from '../../src/backends/webgl';
import { requestGpuAdapter, WebgpuStarter } from '../../src/backends/webgpu';
import { unregisterWebgpuTrainingKernels } from '../../src/backends/webgpuKernels/register';
import { buildModel, type ModelName } from '../../src/model/models';
import { weightedTrainStep } from '../../src/model/weightedStep';
import { answerWith, kernelTable, tallyKernels } from './kernelTable';

interface Options {
  backend?: string;
  size?: string;
  batch?: string;
  model?: string;
  steps?: string;
  /** '1': WebGPU with tfjs' shipped kernels, ours put back (the "before"). */
  shipped?: string;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const setBackend = async (name: string) => ((await tf.setBackend(name)) ? null : `${name} did not start`);

/** Starts `backend`; returns the device in words, or throws. */
async function start(backend: string, shipped: boolean): Promise<string> {
  if (backend === 'webgpu') {
    const starter = new WebgpuStarter();
    const problem = await starter.start(setBackend);
    if (problem !== null) throw new Error(problem);
    if (shipped) unregisterWebgpuTrainingKernels();
    const info = (await requestGpuAdapter())?.info;
    const adapter =
      [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'no adapter info';
    const warning = starter.softwareWarning();
    const kernels = shipped ? "tfjs-backend-webgpu's shipped kernels (ours removed)" : 'our WebGPU kernels';
    return `${warning ? 'SOFTWARE GPU' : 'GPU'}: ${adapter}; ${kernels}`;
  }
  if (backend === 'webgl') {
    const problem = await setBackend('webgl');
    if (problem !== null) throw new Error(problem);
    const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGL2RenderingContext } }).gpgpu.gl;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return `${softwareWarning() ? 'SOFTWARE GPU' : 'GPU'}: ${renderer}`;
  }
  if (backend === 'wasm') {
    const starter = new WasmStarter();
    const problem = await starter.start(setBackend);
    if (problem !== null) throw new Error(problem);
    return `CPU: ${starter.threadsNote() || 'WebAssembly'}`;
  }
  throw new Error(`unknown backend ${backend}`);
}

async function report(options: Options): Promise<string> {
  const backend = options.backend ?? 'webgpu';
  const size = Number(options.size ?? 64);
  const batch = Number(options.batch ?? 32);
  const steps = Number(options.steps ?? 3);
  const modelName = (options.model ?? 'batchnorm') as ModelName;
  const device = await start(backend, options.shipped === '1');
  const lines = [`${backend}, ${modelName} ${size} px, batch ${batch}: ${device}`];
  const model = buildModel(modelName, { imageSize: size, numClasses: 2, learningRate: 1e-3, seed: 1 });
  const xs = tf.randomUniform([batch, size, size, 1]) as tf.Tensor4D;
  const ys = tf.tensor2d(
    Array.from({ length: batch }, (_, i) => i % 2),
    [batch, 1],
  );
  try {
    const step = () => weightedTrainStep(model, xs, ys, [1, 1]);
    await step();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      await step();
      times.push(performance.now() - started);
    }
    const ms = median(times);
    const perSecond = ((batch * 1000) / ms).toFixed(1);
    lines.push(`  step (median of ${steps}, after a warm-up): ${ms.toFixed(0)} ms, ${perSecond} images/s`);
    const info = await tf.profile(async () => {
      await step();
    });
    const { total, lines: table } = kernelTable(tallyKernels(new Map(), info.kernels), 16);
    lines.push(`  tf.profile of one step: ${info.kernels.length} kernel calls, ${total.toFixed(1)} ms of kernel time`);
    lines.push(...table);
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
  return lines.join('\n');
}

answerWith(report);
