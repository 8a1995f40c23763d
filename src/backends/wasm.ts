/**
 * Starts tfjs' WebAssembly backend in the training worker: loads the package, installs our
 * training kernels over its own, serves its binaries from the app, and runs it on a thread a
 * logical core where the page is cross-origin isolated.
 */
import * as tf from '@tensorflow/tfjs';
// The app serves the WASM binaries itself (the page's CSP allows no other origin); Vite emits them.
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import nativeUrl from './native/training.wasm?url';
import nativeSharedUrl from './native/training-shared.wasm?url';
import { startNativeKernels } from './native/register';
import type { NativeBuild } from './native/nativeKernels';
import { registerWasmTrainingKernels } from './wasmKernels';

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');
type BackendWasm = import('@tensorflow/tfjs-backend-wasm').BackendWasm;

const NATIVE_URLS: Record<NativeBuild, string> = { 'training.wasm': nativeUrl, 'training-shared.wasm': nativeSharedUrl };

async function fetchNative(build: NativeBuild): Promise<ArrayBuffer> {
  const response = await fetch(NATIVE_URLS[build]);
  if (!response.ok) throw new Error(`${build}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** Kernels that training this CNN needs beyond inference; some backends ship without them. */
export const TRAINING_KERNELS: readonly string[] = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad'];

/** At most this many threads: tfjs-backend-wasm 4.22 pre-starts 8 pthreads and caps its pool there. */
const MAX_THREADS = 8;

const isCrossOriginIsolated = () => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;

/** The state of one worker's WASM backend: whether its paths and threads are set, and its module. */
export class WasmStarter {
  private module: WasmModule | null = null;
  private pathsSet = false;
  /** Threads asked of tfjs, one a logical core (0: left to tfjs, where the page is not isolated). */
  private threads = 0;
  /** Why our native kernels (native/training.c) do not run, once the backend started; null when they do. */
  private nativeProblem: string | null = null;

  /**
   * null when WASM runs and can train this CNN, else why not. `startBackend` switches tfjs to a
   * backend and checks it (null when it works, else a short reason).
   */
  async start(startBackend: (name: string) => Promise<string | null>): Promise<string | null> {
    let wasm: WasmModule;
    try {
      wasm = await import('@tensorflow/tfjs-backend-wasm');
    } catch (error) {
      return `The WASM backend could not be loaded (${error instanceof Error ? error.message : String(error)}).`;
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
    this.module = wasm;
    // A thread a logical core, up to 8: training owns the machine while it runs (decoding is over, the page idles).
    if (isCrossOriginIsolated() && this.threads === 0) {
      this.threads = Math.max(1, Math.min(MAX_THREADS, navigator.hardwareConcurrency || 1));
      wasm.setThreadsCount(this.threads);
    }
    if (!this.pathsSet) {
      wasm.setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
      });
      this.pathsSet = true;
    }
    const run = () => startBackend('wasm');
    const problem = await (this.threads > 0 ? whileLogicalCoresShownAs(2 * this.threads, run) : run());
    if (problem !== null) return `The WASM backend could not start (${problem}).`;
    // Ours are optional: without them BatchNormalization and the max-pool gradient take slower, shipped paths.
    // On every thread tfjs runs on: helpers share the heap where it is shared (the threaded build).
    this.nativeProblem = await startNativeKernels(tf.findBackend('wasm') as BackendWasm, fetchNative, {
      threads: wasm.getThreadsCount(),
      makeWorker: () => new Worker(new URL('./native/helper.worker.ts', import.meta.url), { type: 'module', name: 'wasm-kernels-helper' }),
    });
    return null;
  }

  /** How many threads the WebAssembly backend runs on, and why only one when so. */
  threadsNote(): string {
    const native = this.nativeProblem === null ? '' : ` Slower kernels: ${this.nativeProblem}.`;
    return this.threadsOnly() + native;
  }

  private threadsOnly(): string {
    const threads = this.module?.getThreadsCount() ?? 1;
    if (threads > 1) return `WebAssembly runs on ${threads} threads.`;
    const cores = this.threads || (typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 0);
    return isCrossOriginIsolated()
      ? `WebAssembly runs on one thread${cores ? ` (this machine has ${cores} logical core${cores === 1 ? '' : 's'})` : ''}.`
      : 'WebAssembly runs on one thread: the page is not cross-origin isolated (its host sends no COOP/COEP headers), and browsers allow threads only then.';
  }
}

/**
 * Runs `start` while this worker's navigator.hardwareConcurrency reads `shown`, then puts it back.
 *
 * Why: tfjs-backend-wasm 4.22 sizes its XNNPACK thread pool as min(setThreadsCount's count, 8,
 * navigator.hardwareConcurrency / 2): its C++ (src/cc/backend.cc) takes every core for two
 * hyper-threads and halves the logical count, which leaves a 2-core machine one thread. It reads
 * that count once, through Emscripten's emscripten_num_logical_cores() (which returns
 * navigator.hardwareConcurrency), in a static initialiser that runs when the module starts, i.e.
 * during the first tf.setBackend('wasm'). No option of the package reaches it: setThreadsCount is
 * capped by it, and the Emscripten module's settings (and its imports) are internal to tfjs. So the
 * count is shown doubled while the module starts, and only then. A browser that refuses keeps tfjs' own count.
 */
async function whileLogicalCoresShownAs<T>(shown: number, start: () => Promise<T>): Promise<T> {
  const own = Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency');
  try {
    Object.defineProperty(navigator, 'hardwareConcurrency', { value: shown, configurable: true });
  } catch {
    return start();
  }
  try {
    return await start();
  } finally {
    if (own) Object.defineProperty(navigator, 'hardwareConcurrency', own);
    else delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}
