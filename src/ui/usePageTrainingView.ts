import { useTrainingView } from './training/useTrainer';
import type { TrainingStore } from './training/trainingStore';

/** Only what the page itself shows of the training state: each batch re-renders the training panel alone. */
export function usePageTrainingView(store: TrainingStore) {
  return {
    phase: useTrainingView(store, (v) => v.phase),
    error: useTrainingView(store, (v) => v.error),
    stopRequested: useTrainingView(store, (v) => v.stopRequested),
    paused: useTrainingView(store, (v) => v.paused),
    test: useTrainingView(store, (v) => v.test),
    modelSummary: useTrainingView(store, (v) => v.modelSummary),
    hasModel: useTrainingView(store, (v) => v.hasModel),
    modelVersion: useTrainingView(store, (v) => v.modelVersion),
    epochsDone: useTrainingView(store, (v) => v.epochsDone),
    dataReady: useTrainingView(store, (v) => v.dataReady),
  };
}
