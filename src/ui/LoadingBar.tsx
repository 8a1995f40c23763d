import type { LoadProgress } from '../data/types';

const PHASE_TEXT: Record<LoadProgress['phase'], string> = {
  listing: 'Reading the archive',
  decoding: 'Decoding images',
  done: 'Done',
};

export function LoadingBar({ progress, sourceName, onCancel }: { progress: LoadProgress; sourceName: string; onCancel: () => void }) {
  const max = Math.max(1, progress.total);
  return (
    <div className="loading">
      <label>
        {PHASE_TEXT[progress.phase]} — {sourceName}: {progress.done} / {progress.total || '…'}
        <progress
          aria-label="Loading dataset"
          role="progressbar"
          max={max}
          value={progress.total ? progress.done : undefined}
          aria-valuemin={0}
          aria-valuemax={max}
          aria-valuenow={progress.done}
        />
      </label>{' '}
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
