import * as tfvis from '@tensorflow/tfjs-vis';
import type { TrainingView } from './trainingState';
import { useThrottled } from './useThrottled';
import { VisFigure } from './VisFigure';

type Metric = 'loss' | 'accuracy';

const TRAINING = 'training (per batch)';
const VALIDATION = 'validation (per epoch)';
const BEST = 'best epoch (lowest validation loss)';
const COLOURS: Record<string, string> = { [TRAINING]: '#4c78a8', [VALIDATION]: '#f58518', [BEST]: '#2ca02c' };

/** A dotted vertical line at epoch x, across the values drawn (vega clips it to the plot). */
function verticalMarker(x: number, ys: number[], domain: [number, number] | null): { x: number; y: number }[] {
  const finite = ys.filter(Number.isFinite);
  const [low, high] = domain ?? [Math.min(...finite), Math.max(...finite)];
  if (!Number.isFinite(low) || !Number.isFinite(high)) return [];
  const steps = 16;
  return Array.from({ length: steps + 1 }, (_, i) => ({ x, y: low + ((high - low) * i) / steps }));
}

/** Live loss and accuracy: training per batch, validation per epoch, on one epoch axis. */
export function TrainingCurves({ view }: { view: TrainingView }) {
  // Arrays from the reducer keep their identity until they change, so throttling them is safe.
  const shown = { batch: useThrottled(view.batchPoints, 400), epoch: useThrottled(view.epochPoints, 400) };
  // The best epoch as it was when the shown epoch points arrived, so the marker sits on a drawn point.
  const bestShown = shown.epoch.find((p) => p.epoch === view.bestEpoch) ?? null;
  return (
    <div className="charts">
      {(['loss', 'accuracy'] as Metric[]).map((metric) => {
        const train = shown.batch.map((p) => ({ x: p.x, y: p[metric] }));
        const validation = shown.epoch.map((p) => ({ x: p.x, y: metric === 'loss' ? p.valLoss : p.valAccuracy }));
        const domain: [number, number] | null = metric === 'accuracy' ? [0, 1] : null;
        const best = bestShown ? verticalMarker(bestShown.x, [...train, ...validation].map((p) => p.y), domain) : [];
        const label = metric === 'loss' ? 'Loss curves' : 'Accuracy curves';
        return (
          <VisFigure
            key={metric}
            label={label}
            version={`${train.length}:${validation.length}:${bestShown?.epoch ?? ''}`}
            data={{ points: train.length + validation.length, 'best-epoch': bestShown ? bestShown.epoch + 1 : '' }}
            draw={(el) => {
              if (train.length === 0) {
                el.textContent = 'Curves appear with the first batch.';
                return;
              }
              const drawn = ([[TRAINING, train], [VALIDATION, validation], [BEST, best]] as const).filter(([, v]) => v.length > 0);
              const values = drawn.map(([, v]) => v);
              const series = drawn.map(([name]) => name);
              el.textContent = '';
              // tfjs-vis's linechart plots by index, not x; the scatter plot keeps batches and epochs on one epoch axis.
              return tfvis.render.scatterplot(el, { values, series }, {
                width: 420,
                height: 240,
                xLabel: 'epoch',
                yLabel: metric,
                // tfjs-vis wants exactly one colour a series, and no keys set to undefined; vega gives the
                // colours to the series names in sorted order.
                seriesColors: [...series].sort().map((name) => COLOURS[name]),
                fontSize: 12,
                ...(domain ? { yAxisDomain: domain } : { zoomToFit: true }),
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
          <th scope="col">lowest validation loss</th>
        </tr>
      </thead>
      <tbody>
        {view.epochPoints.map((p) => (
          <tr key={p.epoch} data-tensors={p.tensors} aria-current={p.epoch === view.bestEpoch ? 'true' : undefined} className={p.epoch === view.bestEpoch ? 'history__best' : undefined}>
            <td>{p.epoch + 1}</td>
            <td>{p.loss.toFixed(4)}</td>
            <td>{p.accuracy.toFixed(4)}</td>
            <td>{p.valLoss.toFixed(4)}</td>
            <td>{p.valAccuracy.toFixed(4)}</td>
            <td>{p.epoch === view.bestEpoch ? 'best' : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
