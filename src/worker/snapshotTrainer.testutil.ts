/** A Trainer on the WebAssembly backend (wasmOnly.testutil.ts) for the snapshot- and seed-ensemble tests, their data, and a member's kernel. */
import * as tf from '@tensorflow/tfjs';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import { syntheticSet } from '../model/testImages.testutil';
import type { ModelFiles } from '../core/types';
import { disposeCnn } from '../model/cnn';
import { loadModelFiles } from '../model/checkpoint';
import type { FromTrainer, TrainerRequest } from './protocol';
import { Trainer } from './trainer';

export const SIZE = 32;

/**
 * A Trainer on the WebAssembly backend; `ask` resolves with the request's reply or error message once it is handled.
 * `onPost` sees every message as it is posted (to stop a run at a given point).
 */
export function setup(onPost: (message: FromTrainer, trainer: Trainer) => void = () => {}) {
  const posted: FromTrainer[] = [];
  const trainer: Trainer = new Trainer(
    (message) => {
      posted.push(message);
      onPost(message, trainer);
    },
    { backends: new WasmOnlyBackends() },
  );
  const ask = async (request: TrainerRequest) => {
    const from = posted.length;
    const id = from + 1;
    await trainer.handle({ id, request });
    const answer = posted.slice(from).find((m) => m.type !== 'progress' && m.id === id);
    return {
      error: answer?.type === 'error' ? answer.message : null,
      reply: answer?.type === 'reply' ? answer.reply : null,
    };
  };
  const checkpoints = () =>
    posted.flatMap((m) => (m.type === 'progress' && m.progress.type === 'checkpoint' ? [m.progress] : []));
  return { ask, checkpoints };
}

export function dataRequest(numClasses = 2): TrainerRequest {
  return {
    type: 'setData',
    splits: {
      classNames: ['NORMAL', 'PNEUMONIA', 'COVID'].slice(0, numClasses),
      train: syntheticSet(32, SIZE, numClasses, 1),
      validation: syntheticSet(12, SIZE, numClasses, 2),
      test: syntheticSet(12, SIZE, numClasses, 3),
    },
  };
}

/** The first convolution's kernel of member `k` of a stacked model (its filters k*F..(k+1)*F), or of a single one. */
export async function firstKernel(files: ModelFiles, member: number, members: number): Promise<Float32Array> {
  const model = await loadModelFiles(files);
  try {
    const kernel = model.layers.find((l) => l.getClassName() === 'Conv2D')!.getWeights()[0];
    const filters = (kernel.shape[3] ?? 0) / members;
    return tf.tidy(() => kernel.slice([0, 0, 0, member * filters], [-1, -1, -1, filters]).dataSync() as Float32Array);
  } finally {
    disposeCnn(model);
  }
}
