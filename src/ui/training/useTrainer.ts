import { useEffect, useState, useSyncExternalStore } from 'react';
import { TrainerClient } from '../../worker/trainerClient';
import { TrainingStore } from './trainingStore';
import type { TrainingView } from './trainingState';

/**
 * The page's training worker, one for the page's life: a TrainingStore over a TrainerClient, read
 * through useSyncExternalStore. The worker starts with the first request and is ended on unmount.
 */
export function useTrainer(): { store: TrainingStore } {
  const [store] = useState(() => new TrainingStore(new TrainerClient()));
  useEffect(() => () => store.dispose(), [store]);
  return { store };
}

/**
 * One part of the training view, re-rendering its component only when that part changes: `select`
 * must return a primitive or a reference the view keeps (the reducer keeps unchanged parts as they
 * are). The page's top level reads only what it needs this way, so a batch re-renders the training
 * panel and not the whole page (React rewrites every input's `name` when a form re-renders).
 */
export function useTrainingView<T>(store: TrainingStore, select: (view: TrainingView) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.getSnapshot()));
}
