import { useEffect, useRef } from 'react';
import type { TrainingStore } from '../training/trainingStore';
import type { RunsApi } from './useRuns';
import { isGpuLostMessage } from '../../core/gpuLost';
import { unfinishedModelText } from './unfinishedModel';

/**
 * A failed run keeps its finished epochs: the best one comes back into the (possibly new) worker, and after a lost
 * GPU context the run goes on by itself from its last checkpoint (once a run, so a GPU that keeps failing cannot loop).
 */
export function useFailureRecovery(
  store: TrainingStore,
  runs: RunsApi,
  resume: (moreEpochs: number) => Promise<void>,
  say: (message: string) => void,
): void {
  const autoResumed = useRef<string | null>(null);
  const latest = useRef({ runs, resume, say });
  latest.current = { runs, resume, say };
  useEffect(
    () =>
      store.onRunEvent((event) => {
        if (event.type !== 'failed') return;
        void (async () => {
          const { runs: r, resume: go, say: tell } = latest.current;
          const recovered = await r.recoverAfterFailure().catch(() => null);
          if (!recovered) return;
          const done = recovered.history.epochsDone;
          const remaining = recovered.settings.epochs - done;
          const contextLost = isGpuLostMessage(event.message);
          const dataReady = store.getSnapshot().dataReady;
          if (contextLost && dataReady && remaining > 0 && autoResumed.current !== recovered.id) {
            autoResumed.current = recovered.id;
            tell(
              `The GPU stopped working for this page during epoch ${done + 1}. Training goes on from the last finished epoch (${done}), on a backend that works now.`,
            );
            await go(remaining);
            return;
          }
          tell(
            `${event.message} What was trained is not lost: ${unfinishedModelText(recovered.settings, recovered.history)} is back for Predict and downloads, and Resume training continues the run${dataReady ? '' : ' once the dataset is loaded again'}.`,
          );
        })();
      }),
    [store],
  );
}
