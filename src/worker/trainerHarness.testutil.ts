/**
 * What the Trainer's test files share: a Trainer on the WebAssembly backend (wasmOnly.testutil.ts) whose posts are collected and read by kind,
 * generated splits and run settings with augmentation off.
 */
import { syntheticSet } from '../model/testImages.testutil';
import { WasmOnlyBackends } from '../backends/wasmOnly.testutil';
import type { TrainingBackendsLike } from '../backends/trainingBackends';
import { NO_AUGMENTATION, NO_RECIPE } from '../core/settings';
import type { TrainSettings } from '../core/types';
import type {
  FromTrainer,
  TrainerReply,
  TrainerRequest,
  TrainerRequestOf,
  TrainerRequestType,
  TrainProgress,
} from './protocol';
import { Trainer } from './trainer';

export const SIZE = 32;

type Progress<T extends TrainProgress['type']> = Extract<TrainProgress, { type: T }>;
type Event = FromTrainer & { type: 'progress' };

/**
 * A Trainer on the WebAssembly backend whose posts are collected, with a hook to act on a given message.
 * `ask` sends a request under a fresh id and resolves when the Trainer has handled it.
 */
export function setup(
  overrides: Partial<TrainingBackendsLike> = {},
  onMessage?: (m: FromTrainer, t: { ask: (request: TrainerRequest) => Promise<number> }) => void,
) {
  const messages: FromTrainer[] = [];
  const backends = Object.assign(new WasmOnlyBackends(), overrides);
  let nextId = 1;
  const ask = async (request: TrainerRequest): Promise<number> => {
    const id = nextId++;
    await trainer.handle({ id, request });
    return id;
  };
  const trainer: Trainer = new Trainer(
    (m) => {
      messages.push(m);
      onMessage?.(m, { ask });
    },
    { backends },
  );
  const progress = <T extends TrainProgress['type']>(type: T) =>
    messages.flatMap((m) => (m.type === 'progress' && m.progress.type === type ? [m.progress as Progress<T>] : []));
  const replies = <K extends TrainerRequestType>(type: K) =>
    messages.flatMap((m) =>
      m.type === 'reply' && m.reply.type === type ? [m.reply as Extract<TrainerReply, { type: K }>] : [],
    );
  const errors = () => messages.flatMap((m) => (m.type === 'error' ? [m] : []));
  /** Progress by its type, replies as `reply:<request type>`, errors as `error`. */
  const types = () =>
    messages.map((m) =>
      m.type === 'progress' ? m.progress.type : m.type === 'reply' ? `reply:${m.reply.type}` : 'error',
    );
  /** The evaluation in the (first) train reply. */
  const test = (n = 0) => {
    const result = replies('train')[n]?.test;
    if (!result) throw new Error('no evaluation in that train reply');
    return result;
  };
  return { trainer, ask, messages, requested: backends.requested, progress, replies, errors, types, test };
}

export function isBatch(m: FromTrainer, batchesDone: number): m is Event {
  return m.type === 'progress' && m.progress.type === 'batchEnd' && m.progress.batchesDone === batchesDone;
}

export function data(numClasses = 2, test: boolean = true): TrainerRequestOf<'setData'> {
  const names = ['NORMAL', 'PNEUMONIA', 'COVID'].slice(0, numClasses);
  return {
    type: 'setData',
    splits: {
      classNames: names,
      train: syntheticSet(48, SIZE, numClasses, 1),
      validation: syntheticSet(16, SIZE, numClasses, 2),
      test: test ? syntheticSet(20, SIZE, numClasses, 3) : null,
    },
  };
}

export function settings(overrides: Partial<TrainSettings> = {}): TrainSettings {
  return {
    model: 'tutorial',
    imageSize: SIZE,
    epochs: 2,
    batchSize: 8,
    learningRate: 2e-3,
    learningRateSchedule: 'constant',
    intensityNormalisation: 'none',
    backend: 'auto',
    seed: 1,
    classWeighting: 'balanced',
    patience: 3,
    // Off here (augment.test.ts covers it): these tests count on the images as they are.
    augmentation: { ...NO_AUGMENTATION },
    ...NO_RECIPE,
    ...overrides,
  };
}
