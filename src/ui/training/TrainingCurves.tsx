import { LiveCurve } from './curves/LiveCurve';
import type { TrainingView } from './trainingState';
import { useThrottled } from '../common/useThrottled';
import { ScrollingTable } from '../common/ScrollingTable';

/**
 * Live loss and accuracy: training per batch (thin) and smoothed, validation per epoch, best epoch marked,
 * on one epoch axis. The view is handed over at most every 250 ms; each chart then adds only what is new.
 */
export function TrainingCurves({ view }: { view: TrainingView }) {
  // The reducer's arrays keep their identity until they change, so throttling the view is safe.
  const shown = useThrottled(view, 250);
  return (
    <div className="charts">
      <LiveCurve view={shown} metric="loss" label="Loss curves" />
      <LiveCurve view={shown} metric="accuracy" label="Accuracy curves" />
    </div>
  );
}

/** The figures behind the curves, one row an epoch: readable without the charts. */
export function TrainingHistory({ view }: { view: TrainingView }) {
  if (view.epochPoints.length === 0) return null;
  return (
    <ScrollingTable label="Training history" className="history">
      <caption>
        Per epoch. Accuracy as training counts it: the most probable class wins. The Results apply the threshold chosen
        on validation.
      </caption>
      <thead>
        <tr>
          <th scope="col">epoch</th>
          <th scope="col">loss</th>
          <th scope="col">accuracy</th>
          <th scope="col">validation loss</th>
          <th scope="col">validation accuracy</th>
          <th scope="col">lowest validation loss</th>
        </tr>
      </thead>
      <tbody>
        {view.epochPoints.map((p) => (
          <tr
            key={p.epoch}
            data-tensors={p.tensors}
            aria-current={p.epoch === view.bestEpoch ? 'true' : undefined}
            className={p.epoch === view.bestEpoch ? 'history__best' : undefined}
          >
            <td>{p.epoch + 1}</td>
            <td>{p.loss.toFixed(4)}</td>
            <td>{p.accuracy.toFixed(4)}</td>
            <td>{p.valLoss.toFixed(4)}</td>
            <td>{p.valAccuracy.toFixed(4)}</td>
            <td>{p.epoch === view.bestEpoch ? 'best' : ''}</td>
          </tr>
        ))}
      </tbody>
    </ScrollingTable>
  );
}
