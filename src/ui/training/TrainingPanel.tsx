import type { TrainingStore } from './trainingStore';
import { useTrainingView } from './useTrainer';
import { etaSeconds } from './trainingState';
import { TrainingCurves, TrainingHistory } from './TrainingCurves';
import { classWeightsText, outcomeText } from './outcome';
import { trainingSummary } from '../common/chartText';
import { formatDuration } from '../../core/formatUnits';

/** Progress, speed, backend and live curves of the current run: the one part of the page that follows every batch. */
export function TrainingPanel({
  store,
  batchSize,
  classNames,
}: {
  store: TrainingStore;
  batchSize: number;
  classNames: string[];
}) {
  const view = useTrainingView(store, (v) => v);
  const outcome = outcomeText(view.outcome, view.members, view.epochs);
  const eta = etaSeconds(view);
  const epoch =
    view.batchesPerEpoch > 0 ? Math.min(view.epochs, Math.floor(view.batchesDone / view.batchesPerEpoch) + 1) : 0;
  return (
    <div className="training">
      <dl className="training__facts">
        <div>
          <dt>Backend</dt>
          <dd data-testid="backend">{view.backend?.name ?? '–'}</dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd data-testid="throughput">
            {view.imagesPerSecond !== null ? `${view.imagesPerSecond.toFixed(1)} images/s` : '–'}
          </dd>
        </div>
        <div>
          <dt>Epoch</dt>
          <dd>{view.epochs > 0 ? `${view.outcome ? view.outcome.epochsDone : epoch} / ${view.epochs}` : '–'}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd data-testid="eta">{view.phase === 'training' && eta !== null ? formatDuration(eta) : '–'}</dd>
        </div>
        <div>
          <dt>Class weights</dt>
          <dd data-testid="class-weights">{view.epochs > 0 ? classWeightsText(classNames, view.classWeights) : '–'}</dd>
        </div>
      </dl>
      {/* Live, and changed once an epoch (the facts above change every batch and would flood a screen reader). */}
      <p className="training__summary" aria-live="polite" data-testid="training-summary">
        {trainingSummary(view)}
      </p>
      {view.backend?.note && (
        <p className="training__note" data-testid="backend-note">
          {view.backend.note}
        </p>
      )}
      <label className="training__progress">
        Batches: {view.batchesDone} / {view.totalBatches || '–'} (batch size {batchSize})
        <progress
          aria-label="Training"
          role="progressbar"
          max={Math.max(1, view.totalBatches)}
          value={view.batchesDone}
          aria-valuemin={0}
          aria-valuemax={view.totalBatches}
          aria-valuenow={view.batchesDone}
        />
      </label>
      <div aria-live="polite">{view.stopRequested && <p>Stopping after the current batch…</p>}</div>
      <TrainingCurves view={view} />
      <div aria-live="polite">{outcome && <p data-testid="early-stopping">{outcome}</p>}</div>
      <TrainingHistory view={view} />
    </div>
  );
}
