import * as tfvis from '@tensorflow/tfjs-vis';
import type { TrainingView } from './trainingState';
import { useThrottled } from './useThrottled';
import { VisFigure } from './VisFigure';

type Metric = 'loss' | 'accuracy';

/** Live loss and accuracy: training per batch, validation per epoch, on one epoch axis. */
export function TrainingCurves({ view }: { view: TrainingView }) {
  // Arrays from the reducer keep their identity until they change, so throttling them is safe.
  const shown = { batch: useThrottled(view.batchPoints, 400), epoch: useThrottled(view.epochPoints, 400) };
  return (
    <div className="charts">
      {(['loss', 'accuracy'] as Metric[]).map((metric) => {
        const train = shown.batch.map((p) => ({ x: p.x, y: p[metric] }));
        const validation = shown.epoch.map((p) => ({ x: p.x, y: metric === 'loss' ? p.valLoss : p.valAccuracy }));
        const label = metric === 'loss' ? 'Loss curves' : 'Accuracy curves';
        return (
          <VisFigure
            key={metric}
            label={label}
            version={`${train.length}:${validation.length}`}
            data={{ points: train.length + validation.length }}
            draw={(el) => {
              if (train.length === 0) {
                el.textContent = 'Curves appear with the first batch.';
                return;
              }
              const series = validation.length > 0 ? ['training (per batch)', 'validation (per epoch)'] : ['training (per batch)'];
              el.textContent = '';
              // tfjs-vis's linechart plots by index, not x; the scatter plot keeps batches and epochs on one epoch axis.
              return tfvis.render.scatterplot(el, { values: validation.length > 0 ? [train, validation] : [train], series }, {
                width: 420,
                height: 240,
                xLabel: 'epoch',
                yLabel: metric,
                // tfjs-vis wants exactly one colour a series, and no keys set to undefined.
                seriesColors: ['#4c78a8', '#f58518'].slice(0, series.length),
                fontSize: 12,
                ...(metric === 'accuracy' ? { yAxisDomain: [0, 1] as [number, number] } : { zoomToFit: true }),
              });
            }}
          />
        );
      })}
    </div>
  );
}

/** The figures behind the curves, one row an epoch: readable without the charts. */
export function TrainingHistory({ view }: { view: TrainingView }) {
  if (view.epochPoints.length === 0) return null;
  return (
    <table aria-label="Training history" className="history">
      <caption>Per epoch</caption>
      <thead>
        <tr>
          <th scope="col">epoch</th>
          <th scope="col">loss</th>
          <th scope="col">accuracy</th>
          <th scope="col">validation loss</th>
          <th scope="col">validation accuracy</th>
        </tr>
      </thead>
      <tbody>
        {view.epochPoints.map((p) => (
          <tr key={p.epoch}>
            <td>{p.epoch + 1}</td>
            <td>{p.loss.toFixed(4)}</td>
            <td>{p.accuracy.toFixed(4)}</td>
            <td>{p.valLoss.toFixed(4)}</td>
            <td>{p.valAccuracy.toFixed(4)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
