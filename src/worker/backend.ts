/**
 * Picks the TensorFlow.js backend the training runs on, checking that it really works before
 * trusting it, and says in plain words why it fell back when it did.
 * Runs in the training worker: WebGL draws on an OffscreenCanvas there (no DOM).
 */
import * as tf from '@tensorflow/tfjs';
// The app serves the WASM binaries itself (the page's CSP allows no other origin); Vite emits them.
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { KERAS_EPSILON } from '../model/cnn';
import { registerFastCpuKernels } from '../model/cpuKernels';
import { UserError } from '../model/userError';
import { registerWasmTrainingKernels } from './wasm/kernels';
import { describeOutcomes, fastest, msPerImage, type ProbeOutcome, type ProbeShape } from './probe';
import type { BackendChoice } from './protocol';

export interface BackendInfo {
  /** The backend tfjs now runs on, as tf.getBackend() names it. */
  name: string;
  /** For the page: why this backend, and what it means for speed ('' when nothing needs saying). */
  note: string;
}

const CPU_SLOW = 'training on the CPU backend, which is much slower';

/** Kernels that training this CNN needs beyond inference; some backends ship without them. */
export const TRAINING_KERNELS: readonly string[] = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad'];

/** Backends already proven in this worker (a check costs a few shader compilations). */
const verified = new Set<string>();

export async function chooseBackend(requested: BackendChoice, shape?: ProbeShape): Promise<BackendInfo> {
  resetLostWebgl();
  switch (requested) {
    case 'auto':
      return shape ? fastestBackend(shape) : webglOrCpu(null);
    case 'cpu':
      await useCpu();
      return { name: 'cpu', note: 'Training on the CPU backend, as chosen: much slower than WebGL.' };
    case 'webgl':
      return webglOrCpu(null);
    case 'webgpu':
      return webglOrCpu(webgpuUnavailable());
    case 'wasm': {
      const problem = await startWasm();
      return problem === null ? { name: 'wasm', note: wasmThreadsNote() } : webglOrCpu(problem);
    }
    default: {
      const never: never = requested;
      throw new UserError(`Unknown backend "${String(never)}".`);
    }
  }
}

/**
 * `auto`: times a few training steps of this very model on each backend that starts (WebGL first, then
 * WebAssembly) and keeps the fastest. A GPU the browser blocks or emulates in software loses to WASM here.
 */
async function fastestBackend(shape: ProbeShape): Promise<BackendInfo> {
  const outcomes: ProbeOutcome[] = [];
  for (const [name, start] of [
    ['webgl', () => tryBackend('webgl')],
    ['wasm', () => startWasm()],
  ] as const) {
    const problem = await start();
    if (problem !== null) {
      outcomes.push({ name, msPerImage: null, problem });
      continue;
    }
    try {
      outcomes.push({ name, msPerImage: await msPerImage(shape), problem: null });
    } catch (error) {
      outcomes.push({ name, msPerImage: null, problem: messageOf(error) });
    }
  }
  const best = fastest(outcomes);
  const measured = `Measured on training steps of this model at ${shape.imageSize} px: ${describeOutcomes(outcomes)}.`;
  if (!best) {
    await useCpu();
    return { name: 'cpu', note: `Neither WebGL nor WebAssembly could train here; ${CPU_SLOW}. ${measured}` };
  }
  if (!(await tf.setBackend(best.name))) throw new UserError(`The ${best.name} backend stopped working after it was measured: reload the page.`);
  const warnings = best.name === 'webgl' ? join(softwareWarning(), float16Warning()) : wasmThreadsNote();
  return { name: best.name, note: join(`Auto picked ${best.name}, the fastest here.`, measured, warnings) };
}

/** WebGL if it works, else the CPU; `whyNotRequested` says why the chosen backend was not used. */
async function webglOrCpu(whyNotRequested: string | null): Promise<BackendInfo> {
  const prefix = whyNotRequested ?? '';
  const problem = await tryBackend('webgl');
  if (problem === null) {
    return { name: 'webgl', note: join(prefix, whyNotRequested ? 'Training on WebGL instead.' : '', softwareWarning(), float16Warning()) };
  }
  await useCpu();
  return { name: 'cpu', note: join(prefix, `WebGL could not start in this browser (${problem}); ${CPU_SLOW}.`) };
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

async function useCpu(): Promise<void> {
  registerFastCpuKernels();
  if (!(await tf.setBackend('cpu'))) throw new UserError('Even the CPU backend of TensorFlow.js failed to start: reload the page.');
}

/** null when `name` is running and computes correctly, else a short reason. */
async function tryBackend(name: string): Promise<string | null> {
  if (tf.findBackendFactory(name) == null) return `TensorFlow.js has no ${name} backend in this environment`;
  let started = false;
  try {
    started = await tf.setBackend(name);
  } catch (error) {
    return messageOf(error);
  }
  if (!started) return name === 'webgl' ? diagnoseWebgl() : 'it did not initialise';
  if (verified.has(name)) return null;
  const problem = await smokeTest();
  if (problem === null) verified.add(name);
  return problem;
}

/**
 * One small training step on the current backend: a conv, a pool, a dense layer, RMSprop.
 * It catches missing kernels and broken GPU drivers before the real run starts.
 */
async function smokeTest(): Promise<string | null> {
  const owned: { dispose(): unknown }[] = [];
  try {
    const sum = tf.tidy(() => tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, tf.ones([2, 2, 1, 1]) as tf.Tensor4D, 1, 'valid').sum());
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

/** The most useful reason we can find for WebGL not starting in this worker. */
function diagnoseWebgl(): string {
  if (typeof OffscreenCanvas === 'undefined') {
    return typeof document === 'undefined' ? 'it cannot draw with WebGL inside a web worker: no OffscreenCanvas' : 'no WebGL canvas';
  }
  if (typeof document === 'undefined' && tf.env().getBool('IS_SAFARI')) {
    return 'TensorFlow.js does not use WebGL inside a web worker in Safari';
  }
  const fast = probeContext(true);
  if (fast) return 'WebGL 2 is available, but TensorFlow.js failed to set it up';
  if (probeContext(false)) return 'only software WebGL is available: hardware acceleration is off in the browser settings, or the GPU or its driver is blocklisted';
  return 'WebGL 2 is disabled or not supported';
}

/** Whether a WebGL 2 context can be had; the context is released at once (browsers allow few). */
function probeContext(failIfMajorPerformanceCaveat: boolean): boolean {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2', { failIfMajorPerformanceCaveat });
    if (!gl) return false;
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return true;
  } catch {
    return false;
  }
}

/**
 * RMSprop's epsilon for the current backend: Keras' 1e-7, except on a GPU that computes only in
 * 16-bit floats, where 1e-7 rounds to 0 (division by zero); tfjs itself uses 1e-4 there.
 */
export function optimizerEpsilon(): number {
  if (tf.getBackend() !== 'webgl') return KERAS_EPSILON;
  try {
    return tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE') ? KERAS_EPSILON : 1e-4;
  } catch {
    return 1e-4;
  }
}

/** WebGL drawn by the CPU (SwiftShader, llvmpipe…) works, but was 2-3x slower than the CPU backend where measured. */
function softwareWarning(): string {
  const gl = currentGl();
  if (!gl) return '';
  try {
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    const software = /swiftshader|llvmpipe|softpipe|microsoft basic render|software/i.exec(renderer);
    if (!software) return '';
    return `WebGL is drawn in software here (${software[0]}), not by a GPU (hardware acceleration may be off in the browser settings, or the GPU blocklisted): training will be slow, and the CPU backend may well be faster on this computer.`;
  } catch {
    return '';
  }
}

function float16Warning(): string {
  try {
    if (tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE')) return '';
  } catch {
    return '';
  }
  return 'This GPU computes only with 16-bit floats in WebGL: training may be less precise; if the loss turns to NaN, choose the CPU backend.';
}

function webgpuUnavailable(): string {
  const hasGpu = typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu != null;
  return `WebGPU is not included in this app yet (the TensorFlow.js WebGPU backend is not bundled)${
    hasGpu ? ', although this browser supports WebGPU' : ''
  }.`;
}

let wasmPathsSet = false;
let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm') | null = null;
let wasmThreadsSet = false;
/** navigator.hardwareConcurrency as it was before startWasm doubled it for tfjs. */
let logicalCores = 0;

/** How many threads the WebAssembly backend runs on, and why only one when so. */
function wasmThreadsNote(): string {
  const threads = wasmModule?.getThreadsCount() ?? 1;
  if (threads > 1) return `WebAssembly runs on ${threads} threads.`;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = logicalCores || (typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 0);
  return isolated
    ? `WebAssembly runs on one thread${cores ? ` (this machine has ${cores} logical core${cores === 1 ? '' : 's'})` : ''}.`
    : 'WebAssembly runs on one thread: the page is not cross-origin isolated (its host sends no COOP/COEP headers), and browsers allow threads only then.';
}

/** null when WASM runs and can train this CNN, else why not. */
async function startWasm(): Promise<string | null> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return `The WASM backend could not be loaded (${messageOf(error)}).`;
  }
  // As shipped, tfjs-backend-wasm 4.22 cannot train convolutions (no Conv2DBackpropFilter) and its
  // other gradient kernels are slow: ours are registered after the import, which registers the originals.
  registerWasmTrainingKernels();
  const missing = TRAINING_KERNELS.filter((kernel) => tf.getKernel(kernel, 'wasm') === undefined);
  if (missing.length > 0) {
    return `The WASM backend cannot train this CNN: TensorFlow.js ${tf.version_core} ships it without ${missing.join(', ')} (needed to train convolutions).`;
  }
  // Where the page is cross-origin isolated, tfjs picks the threaded SIMD build (its pthreads start
  // thanks to the build's wasmPthreadScript plugin, see vite.config.ts); elsewhere the single-threaded one.
  wasmModule = wasm;
  // A thread a logical core, up to 8: training owns the machine while it runs (decoding is over, the page
  // idles). tfjs-backend-wasm 4.22 caps its pool at half of navigator.hardwareConcurrency (its C++
  // assumes two hyper-threads a core), which leaves a 2-core machine one thread; it reads that figure
  // once, when the module starts, so this worker shows it doubled just before.
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && !wasmThreadsSet) {
    const cores = Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
    try {
      Object.defineProperty(navigator, 'hardwareConcurrency', { value: cores * 2, configurable: true });
    } catch {
      // A browser that refuses keeps tfjs' own count.
    }
    wasm.setThreadsCount(cores);
    logicalCores = cores;
    wasmThreadsSet = true;
  }
  if (!wasmPathsSet) {
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
    });
    wasmPathsSet = true;
  }
  const problem = await tryBackend('wasm');
  return problem === null ? null : `The WASM backend could not start (${problem}).`;
}

// ---------------------------------------------------------------- WebGL context loss

/** The WebGL context of the running webgl backend, if that is the current backend. */
function currentGl(): WebGLRenderingContext | WebGL2RenderingContext | null {
  if (tf.getBackend() !== 'webgl') return null;
  const backend = tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } };
  return backend.gpgpu?.gl ?? null;
}

export const CONTEXT_LOST_MESSAGE =
  'The GPU stopped working for this page (the WebGL context was lost): the browser or graphics driver reset it, ' +
  'most often because GPU memory ran out or another tab or app needed the GPU. The model being trained is gone. ' +
  'Press Train to start again; a smaller batch size or image size needs less GPU memory, and the CPU backend always works (slowly).';

export function isWebglContextLost(): boolean {
  const gl = currentGl();
  return gl !== null && gl.isContextLost();
}

/** Calls `onLost` if the current WebGL context is lost; returns a function that stops listening. */
export function watchWebglContextLoss(onLost: () => void): () => void {
  const canvas = currentGl()?.canvas;
  if (!canvas || !('addEventListener' in canvas)) return () => {};
  const listener = () => onLost();
  canvas.addEventListener('webglcontextlost', listener);
  return () => canvas.removeEventListener('webglcontextlost', listener);
}

/** After a context loss the webgl backend is dead; a fresh one (new context) replaces it. */
function resetLostWebgl(): void {
  // Read the registry directly: tf.findBackend would start WebGL just to look at it.
  const backend = tf.engine().registry['webgl'] as unknown as { gpgpu?: { gl?: WebGLRenderingContext } } | undefined;
  if (!backend?.gpgpu?.gl?.isContextLost()) return;
  try {
    tf.removeBackend('webgl');
  } catch {
    // Disposing a dead context's textures may throw; the backend is gone either way.
  }
  tf.registerBackend('webgl', () => new tf.MathBackendWebGL(), 2);
  verified.delete('webgl');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
