/**
 * Backends for tests of the training worker: always tfjs' WebAssembly backend with our training kernels, the
 * backend the page trains on where there is no GPU (in Node: the single-threaded SIMD binary). No WebGL context to
 * lose. tfjs' cpu backend, the kernels' reference (their own tests compare with it), trains the same runs many
 * times slower in Node (docs/benchmarks.md, "CI"). A test replaces any method with its own.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendChoice } from '../core/types';
import { KERAS_EPSILON } from '../model/cnn';
import type { BackendInfo, TrainingBackendsLike } from './trainingBackends';
import { registerWasmTrainingKernels } from './wasmKernels';

export class WasmOnlyBackends implements TrainingBackendsLike {
  /** Every backend asked for, in order. */
  readonly requested: BackendChoice[] = [];

  constructor(private readonly note = 'test backend') {}

  async choose(requested: BackendChoice): Promise<BackendInfo> {
    this.requested.push(requested);
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    return { name: 'wasm', note: this.note };
  }

  optimizerEpsilon(): number {
    return KERAS_EPSILON;
  }

  isContextLost(): boolean {
    return false;
  }

  watchContextLoss(): () => void {
    return () => {};
  }
}
