import type { LoadProgress } from '../../data/types';
import { formatCount, formatSize, loadRate } from './loadFigures';
import { formatDuration } from '../../core/formatUnits';

const PHASE_TEXT: Record<LoadProgress['phase'], string> = {
  listing: 'Reading the archive’s table of contents',
  decoding: 'Reading and decoding images',
  done: 'Done',
};

/**
 * The `Loading dataset` bar: entries listed, then images decoded, with images per second and the time
 * left once there is a rate. `data-phase` says which phase the numbers count.
 */
export function LoadingBar({
  progress,
  sourceName,
  onCancel,
}: {
  progress: LoadProgress;
  sourceName: string;
  onCancel: () => void;
}) {
  const max = Math.max(1, progress.total);
  const rate = loadRate(progress);
  const unit = progress.phase === 'listing' ? 'entries' : 'images';
  return (
    <div className="loading">
      <label>
        {PHASE_TEXT[progress.phase]} — {sourceName}: {formatCount(progress.done)} /{' '}
        {progress.total ? formatCount(progress.total) : '…'} {unit}
        <progress
          aria-label="Loading dataset"
          role="progressbar"
          data-phase={progress.phase}
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
      <p className="load-rate" aria-live="off">
        {rate ? (
          <>
            <span data-testid="load-throughput">{formatCount(Math.round(rate.imagesPerSecond))} images/s</span> ·{' '}
            {formatSize(progress.bytesRead)} read ({rate.megabytesPerSecond.toFixed(0)} MB/s) ·{' '}
            <span data-testid="load-eta">
              {rate.etaSeconds !== null ? `${formatDuration(rate.etaSeconds)} left` : ''}
            </span>
          </>
        ) : (
          '\u00a0'
        )}
      </p>
    </div>
  );
}
