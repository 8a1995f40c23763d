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
import { nativeKernelsFor, type NativeBuild } from './native/nativeKernels';
import { kernelThreadsFor } from './native/threadCount';
import { registerWasmTrainingKernels } from './wasmKernels';

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');
type BackendWasm = import('@tensorflow/tfjs-backend-wasm').BackendWasm;

const NATIVE_URLS: Record<NativeBuild, string> = {
  'training.wasm': nativeUrl,
  'training-shared.wasm': nativeSharedUrl,
};

async function fetchNative(build: NativeBuild): Promise<ArrayBuffer> {
  const response = await fetch(NATIVE_URLS[build]);
  if (!response.ok) throw new Error(`${build}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** Kernels that training this CNN needs beyond inference; some backends ship without them. */
export const TRAINING_KERNELS: readonly string[] = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad'];

const isCrossOriginIsolated = () => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;

/** The state of one worker's WASM backend: whether its paths and threads are set, and its module. */
export class WasmStarter {
  private module: WasmModule | null = null;
  private pathsSet = false;
  /** Threads for our kernels, one a logical core where the page is isolated (0: one thread, undecided elsewhere). */
  private threads = 0;
  /** Threads our kernels run on once started (the helpers that did start, and this one). */
  private kernelThreads = 1;
  /** Why our native kernels (native/csrc/) do not run, once the backend started; null when they do. */
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
    // Where the page is cross-origin isolated, tfjs picks the threaded SIMD build, whose heap is shared
    // (its pthreads start thanks to the build's wasmPthreadScript plugin, see vite.config.ts); elsewhere the
    // single-threaded one.
    this.module = wasm;
    // A thread a logical core the browser reports, for our kernels (native/threadCount.ts says why, and how a call
    // wakes only the threads its work pays for): training owns the machine while it runs.
    // tfjs' own thread pool gets one thread: its XNNPACK threads spin on the cores for a while after each of
    // their kernels, and so slowed our helper threads that a 2-core machine trained no faster on two threads
    // than on one at 64 px. Every heavy kernel of training and evaluation is ours, cut into chunks that all
    // threads take from one queue (native/partners.ts): the convolutions (the first layer's one input channel
    // too), a convolution's bias and ReLU (fused in training: model/convBiasRelu.ts), pools, BatchNormalization,
    // the bias gradients' sums. What is left to XNNPACK on one thread (the dense layers) is small. The figures
    // (one XNNPACK thread against two beside our kernels) are in docs/benchmarks.md's kernel-level measurements.
    if (isCrossOriginIsolated() && this.threads === 0) {
      this.threads = kernelThreadsFor(navigator.hardwareConcurrency);
      wasm.setThreadsCount(1);
    }
    if (!this.pathsSet) {
      wasm.setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
      });
      this.pathsSet = true;
    }
    const problem = await startBackend('wasm');
    if (problem !== null) return `The WASM backend could not start (${problem}).`;
    // Ours are optional: without them the shipped, slower paths run, on one thread.
    // Helpers share the heap where it is shared (the threaded build).
    const backend = tf.findBackend('wasm') as BackendWasm;
    this.nativeProblem = await startNativeKernels(backend, fetchNative, {
      threads: Math.max(1, this.threads),
      makeWorker: () =>
        new Worker(new URL('./native/helper.worker.ts', import.meta.url), {
          type: 'module',
          name: 'wasm-kernels-helper',
        }),
    });
    this.kernelThreads = nativeKernelsFor(backend)?.threads ?? 1;
    return null;
  }

  /** How many threads the WebAssembly backend runs on, and why only one when so. */
  threadsNote(): string {
    const native = this.nativeProblem === null ? '' : ` Slower kernels: ${this.nativeProblem}.`;
    return this.threadsOnly() + native;
  }

  private threadsOnly(): string {
    const threads = this.module ? this.kernelThreads : 1;
    if (threads > 1) return `WebAssembly runs on ${threads} threads.`;
    const cores = this.threads || (typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 0);
    return isCrossOriginIsolated()
      ? `WebAssembly runs on one thread${cores ? ` (this machine has ${cores} logical core${cores === 1 ? '' : 's'})` : ''}.`
      : 'WebAssembly runs on one thread: the page is not cross-origin isolated (its host sends no COOP/COEP headers), and browsers allow threads only then.';
  }
}
