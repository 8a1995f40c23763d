/**
 * Backends for tests of the training worker: always tfjs' cpu backend (with the fast cpu kernels,
 * see nodeTests.setup.ts), no WebGL context to lose. A test replaces any method with its own.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendChoice } from '../core/types';
import { KERAS_EPSILON } from '../model/cnn';
import type { BackendInfo, TrainingBackendsLike } from './trainingBackends';

export class CpuOnlyBackends implements TrainingBackendsLike {
  /** Every backend asked for, in order. */
  readonly requested: BackendChoice[] = [];

  constructor(private readonly note = 'test backend') {}

  async choose(requested: BackendChoice): Promise<BackendInfo> {
    this.requested.push(requested);
    await tf.setBackend('cpu');
    return { name: 'cpu', note: this.note };
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
