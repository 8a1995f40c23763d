import { useEffect, useState, useSyncExternalStore } from 'react';
import { TrainerClient } from '../worker/trainerClient';
import { TrainingStore } from './trainingStore';

/**
 * The page's training worker, one for the page's life: a TrainingStore over a TrainerClient, read
 * through useSyncExternalStore. The worker starts with the first request and is ended on unmount.
 */
export function useTrainer(): { store: TrainingStore; view: ReturnType<TrainingStore['getSnapshot']> } {
  const [store] = useState(() => new TrainingStore(new TrainerClient()));
  useEffect(() => () => store.dispose(), [store]);
  const view = useSyncExternalStore(store.subscribe, store.getSnapshot);
  return { store, view };
}
