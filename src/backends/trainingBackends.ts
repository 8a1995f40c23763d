/**
 * Picks the TensorFlow.js backend the training runs on, checking that it really works before
 * trusting it, and says in plain words why it fell back when it did. One TrainingBackends a
 * worker holds all that this needs to remember; the Trainer is given it.
 * Runs in the training worker: WebGL draws on an OffscreenCanvas there (no DOM).
 */
import * as tf from '@tensorflow/tfjs';
import { KERAS_EPSILON } from '../model/cnn';
import { UserError, messageOf } from '../core/userError';
import type { BackendChoice } from '../core/types';
import { registerFastCpuKernels } from './cpuKernels';
import { describeOutcomes, fastest, raceBackends, type ProbeShape } from './probe';
import { WasmStarter } from './wasm';
import { registerWebglTrainingKernels } from './webglKernels';
import { registerWebglImageKernels } from './webglGatherImages';
import { WebgpuStarter } from './webgpu';
import {
  followWebgpuDevice,
  isWebgpuDeviceLost,
  replaceLostWebgpu,
  watchWebgpuDeviceLoss,
  webgpuDeviceLostWithin,
} from './webgpuDevice';
import { compareGradientsWithCpu, describeComparison, GRADIENT_TOLERANCE } from './gradientCheck';
import {
  diagnoseWebgl,
  float16Warning,
  isWebglContextLost,
  replaceLostWebgl,
  softwareWarning,
  watchWebglContextLoss,
  webglRendersFloat32,
} from './webgl';

export interface BackendInfo {
  /** The backend tfjs now runs on, as tf.getBackend() names it. */
  name: string;
  /** For the page: why this backend, and what it means for speed ('' when nothing needs saying). */
  note: string;
}

/** What the Trainer asks of the backends (tests give it a fake). */
export interface TrainingBackendsLike {
  /** Switches tfjs to the backend to train on: `requested` if it works, else a fallback; `auto` measures on `shape`. */
  choose(requested: BackendChoice, shape?: ProbeShape): Promise<BackendInfo>;
  /** RMSprop's epsilon for the current backend. */
  optimizerEpsilon(): number;
  /** Whether the current backend's GPU (WebGL context, WebGPU device) is lost (false off the GPU backends). */
  isContextLost(): boolean;
  /** Calls `onLost` when the current backend's WebGL context or WebGPU device is lost; returns a function that stops listening. */
  watchContextLoss(onLost: () => void): () => void;
  /**
   * Whether the current backend's GPU is lost, waiting briefly for the browser to say so: a failed GPU read may
   * reach the run before the loss does (when a run fails, so that its message names the lost GPU).
   */
  confirmLoss?(): Promise<boolean>;
}

/** How long a failed run waits for the browser to tell of a lost WebGPU device (it tells within milliseconds). */
const LOSS_REPORT_MS = 1_000;

const CPU_SLOW = 'training on the CPU backend, which is much slower';

export class TrainingBackends implements TrainingBackendsLike {
  /** Backends already proven in this worker (a check costs a few shader compilations). */
  private readonly verified = new Set<string>();
  private readonly wasm = new WasmStarter();
  private readonly webgpu = new WebgpuStarter();
  /** How WebGPU's gradients compared with the cpu backend's when it was checked, for the page. */
  private webgpuGradients = '';

  constructor() {
    // The only place the fast cpu kernels are registered: whatever runs on the cpu backend in this
    // realm gets them from now on, also when tfjs falls back to the cpu by itself before a backend
    // is chosen (a preview), and in the Node tests that train on the cpu. Other backends are untouched.
    registerFastCpuKernels();
    // Likewise our WebGL kernels (webglKernels.ts): they run only once the webgl backend does.
    registerWebglTrainingKernels();
    // And WebGL's gather of a batch from the split's packed bytes (webglGatherImages.ts, worker/residentImages.ts).
    registerWebglImageKernels();
  }

  async choose(requested: BackendChoice, shape?: ProbeShape): Promise<BackendInfo> {
    // A backend whose GPU was lost is replaced by a fresh one, checked again before it is trusted.
    if (replaceLostWebgl()) this.verified.delete('webgl');
    if (replaceLostWebgpu()) this.verified.delete('webgpu');
    switch (requested) {
      case 'auto':
        return shape ? this.fastest(shape) : this.webglOrCpu(null);
      case 'cpu':
        await this.useCpu();
        return { name: 'cpu', note: 'Training on the CPU backend, as chosen: much slower than WebGL.' };
      case 'webgl':
        return this.webglOrCpu(null);
      case 'webgpu': {
        const problem = await this.startWebgpu();
        if (problem === null)
          return { name: 'webgpu', note: join(this.webgpuGradients, this.webgpu.softwareWarning()) };
        return this.webglOrCpu(`WebGPU cannot be used: ${problem}.`);
      }
      case 'wasm': {
        const problem = await this.startWasm();
        return problem === null ? { name: 'wasm', note: this.wasm.threadsNote() } : this.webglOrCpu(problem);
      }
      default: {
        const never: never = requested;
        throw new UserError(`Unknown backend "${String(never)}".`);
      }
    }
  }

  /**
   * Keras' 1e-7, except on a GPU that computes only in 16-bit floats, where 1e-7 rounds to 0
   * (division by zero); tfjs itself uses 1e-4 there.
   */
  optimizerEpsilon(): number {
    if (tf.getBackend() !== 'webgl') return KERAS_EPSILON;
    try {
      return webglRendersFloat32() ? KERAS_EPSILON : 1e-4;
    } catch {
      return 1e-4;
    }
  }

  isContextLost(): boolean {
    return isWebglContextLost() || isWebgpuDeviceLost();
  }

  watchContextLoss(onLost: () => void): () => void {
    const stops = [watchWebglContextLoss(onLost), watchWebgpuDeviceLoss(onLost)];
    return () => stops.forEach((stop) => stop());
  }

  async confirmLoss(): Promise<boolean> {
    return isWebglContextLost() || (await webgpuDeviceLostWithin(LOSS_REPORT_MS));
  }

  /**
   * `auto`: times training steps of this very model at the run's batch size on each backend that starts (WebGL,
   * WebAssembly, then WebGPU, which is passed over at once where the browser offers no adapter) and keeps the
   * fastest. A GPU the browser blocks loses to WASM here; one it emulates in software is timed and picked only
   * when nothing else runs (probe.ts).
   */
  private async fastest(shape: ProbeShape): Promise<BackendInfo> {
    const outcomes = await raceBackends(
      [
        { name: 'webgl', start: () => this.tryBackend('webgl'), software: () => softwareWarning() !== '' },
        { name: 'wasm', start: () => this.startWasm(), software: () => false },
        { name: 'webgpu', start: () => this.startWebgpu(), software: () => this.webgpu.softwareWarning() !== '' },
      ],
      shape,
    );
    const best = fastest(outcomes);
    const measured = `Measured on training steps of this model at ${shape.imageSize} px: ${describeOutcomes(outcomes)}.`;
    if (!best) {
      await this.useCpu();
      return { name: 'cpu', note: `Neither WebGL, WebAssembly nor WebGPU could train here; ${CPU_SLOW}. ${measured}` };
    }
    if (!(await tf.setBackend(best.name)))
      throw new UserError(`The ${best.name} backend stopped working after it was measured: reload the page.`);
    const warnings = {
      webgl: () => join(softwareWarning(), float16Warning()),
      webgpu: () => join(this.webgpuGradients, this.webgpu.softwareWarning()),
      wasm: () => this.wasm.threadsNote(),
    }[best.name as 'webgl' | 'webgpu' | 'wasm']();
    return { name: best.name, note: join(`Auto picked ${best.name}, the fastest here.`, measured, warnings) };
  }

  /** WebGL if it works, else the CPU; `whyNotRequested` says why the chosen backend was not used. */
  private async webglOrCpu(whyNotRequested: string | null): Promise<BackendInfo> {
    const prefix = whyNotRequested ?? '';
    const problem = await this.tryBackend('webgl');
    if (problem === null) {
      return {
        name: 'webgl',
        note: join(prefix, whyNotRequested ? 'Training on WebGL instead.' : '', softwareWarning(), float16Warning()),
      };
    }
    await this.useCpu();
    return { name: 'cpu', note: join(prefix, `WebGL could not start in this browser (${problem}); ${CPU_SLOW}.`) };
  }

  private async useCpu(): Promise<void> {
    registerFastCpuKernels();
    if (!(await tf.setBackend('cpu')))
      throw new UserError('Even the CPU backend of TensorFlow.js failed to start: reload the page.');
  }

  private startWasm(): Promise<string | null> {
    return this.wasm.start((name) => this.tryBackend(name));
  }

  private async startWebgpu(): Promise<string | null> {
    const problem = await this.webgpu.start((name) => this.tryBackend(name));
    if (problem === null) followWebgpuDevice();
    return problem;
  }

  /** null when `name` is running and computes correctly, else a short reason. */
  private async tryBackend(name: string): Promise<string | null> {
    if (tf.findBackendFactory(name) == null) return `TensorFlow.js has no ${name} backend in this environment`;
    let started = false;
    try {
      started = await tf.setBackend(name);
    } catch (error) {
      return messageOf(error);
    }
    if (!started) return name === 'webgl' ? diagnoseWebgl() : 'it did not initialise';
    if (this.verified.has(name)) return null;
    const problem = (await smokeTest()) ?? (name === 'webgpu' ? await this.checkWebgpuGradients() : null);
    if (problem === null) this.verified.add(name);
    return problem;
  }

  /**
   * A backend new to this app is trusted only once its gradients of a training step of every model
   * match the cpu backend's (WebGL and WASM have been checked so by the tests over many runs).
   */
  private async checkWebgpuGradients(): Promise<string | null> {
    try {
      const comparison = await compareGradientsWithCpu('webgpu');
      if (comparison.largest > GRADIENT_TOLERANCE) {
        return `its gradients differ from the CPU backend's by ${describeComparison(comparison)} at ${comparison.where}`;
      }
      this.webgpuGradients = `WebGPU's gradients match the CPU backend's: largest relative difference ${describeComparison(comparison)}.`;
      return null;
    } catch (error) {
      return `its gradient check failed (${messageOf(error)})`;
    }
  }
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

/**
 * One small training step on the current backend: a conv, a pool, a dense layer, RMSprop.
 * It catches missing kernels and broken GPU drivers before the real run starts.
 */
async function smokeTest(): Promise<string | null> {
  const owned: { dispose(): unknown }[] = [];
  try {
    const sum = tf.tidy(() =>
      tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, tf.ones([2, 2, 1, 1]) as tf.Tensor4D, 1, 'valid').sum(),
    );
    owned.push(sum);
    const value = (await sum.data())[0];
    if (value !== 36) return `a test computation gave ${value} instead of 36`;

    const model = tf.sequential();
    owned.push(model);
    model.add(tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 2, activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
    const optimizer = tf.train.rmsprop(1e-3);
    owned.push(optimizer);
    model.compile({ optimizer, loss: 'binaryCrossentropy' });
    const xs = tf.randomUniform([2, 6, 6, 1]);
    const ys = tf.tensor2d([0, 1], [2, 1]);
    owned.push(xs, ys);
    const loss = await model.trainOnBatch(xs, ys);
    const first = Array.isArray(loss) ? loss[0] : loss;
    return Number.isFinite(first) ? null : `a test training step gave a loss of ${first}`;
  } catch (error) {
    return messageOf(error);
  } finally {
    for (const item of owned) item.dispose();
  }
}
