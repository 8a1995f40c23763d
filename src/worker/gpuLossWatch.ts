/**
 * Watches a run's backend for a lost GPU (a WebGL context, a WebGPU device): the run's control says so, and its
 * `lost` promise (RunControl.lost, which every await of the run races) rejects with the message to show.
 */
import { UserError } from '../core/userError';
import { gpuLostMessage } from '../core/gpuLost';
import type { TrainingBackendsLike } from '../backends/trainingBackends';
import type { RunControl } from './trainingRun';

/** Arms `run.lost` and `run.contextLost` for the backend named; returns what stops the watch. */
export function watchGpuLoss(run: RunControl, backends: TrainingBackendsLike, backendName: string): () => void {
  let onLost: (error: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => (onLost = reject));
  lost.catch(() => undefined); // Unobserved when the context stays: not an unhandled rejection.
  Object.assign(run, { lost });
  return backends.watchContextLoss(() => {
    run.contextLost = true;
    onLost(new UserError(gpuLostMessage(backendName)));
  });
}
