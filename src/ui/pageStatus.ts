import type { DatasetState } from './dataset/useDataset';
import type { TrainingView } from './training/trainingState';

/** The page's one-word state (`data-testid=status`), from the dataset's and the training worker's. */
export type PageStatus =
  'idle' | 'loading' | 'ready' | 'training' | 'paused' | 'evaluating' | 'done' | 'stopped' | 'error';

export function pageStatus(
  data: DatasetState['phase'],
  training: TrainingView['phase'],
  hasError: boolean,
  paused = false,
): PageStatus {
  if (data === 'loading') return 'loading';
  if (training === 'starting' || training === 'training') return paused ? 'paused' : 'training';
  if (training === 'evaluating') return 'evaluating';
  if (hasError || training === 'error') return 'error';
  if (training === 'done') return 'done';
  if (training === 'stopped') return 'stopped';
  return data === 'ready' ? 'ready' : 'idle';
}
