/** A Trainer on the cpu backend for the snapshot-ensemble tests, and their data. */
import { CpuOnlyBackends } from '../backends/cpuOnly.testutil';
import { syntheticSet } from '../model/testImages.testutil';
import type { FromTrainer, TrainerRequest } from './protocol';
import { Trainer } from './trainer';

export const SIZE = 32;

/**
 * A Trainer on the cpu backend; `ask` resolves with the request's reply or error message once it is handled.
 * `onPost` sees every message as it is posted (to stop a run at a given point).
 */
export function setup(onPost: (message: FromTrainer, trainer: Trainer) => void = () => {}) {
  const posted: FromTrainer[] = [];
  const trainer: Trainer = new Trainer(
    (message) => {
      posted.push(message);
      onPost(message, trainer);
    },
    { backends: new CpuOnlyBackends() },
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
