/**
 * How the Trainer is wired: where its messages go, and its seams for tests.
 */
import type { TrainingBackendsLike } from '../backends/trainingBackends';
import type { FromTrainer } from './protocol';

export type Post = (message: FromTrainer, transfer?: Transferable[]) => void;

/** Seams for tests (and for a later WebGPU/WASM task); the defaults are the real thing. */
export interface TrainerOptions {
  /** The backends to train on; by default this worker's real ones (which also make the cpu backend fast). */
  backends?: TrainingBackendsLike;
  /** Milliseconds, for images/s. */
  now?: () => number;
  /** How a paused run waits before it looks at its control again (trainingRun.ts's RunContext.heldWait). */
  heldWait?: () => Promise<void>;
}
