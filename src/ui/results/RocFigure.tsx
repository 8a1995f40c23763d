import * as tfvis from '@tensorflow/tfjs-vis';
import type { BinaryMetrics, rocCurve } from '../../eval/metrics';
import { rocTableRows } from '../common/chartText';
import { VisFigure } from '../common/VisFigure';
import { fmt, fmtThreshold } from './formatFigures';

/** The Results' ROC curve with the point of the current threshold, its AUC, and its numbers as a table for screen readers. */
export function RocFigure({
  roc,
  metrics,
  positiveName,
}: {
  roc: ReturnType<typeof rocCurve>;
  metrics: BinaryMetrics;
  positiveName: string;
}) {
  return (
    <VisFigure
      label="ROC curve"
      version={roc}
      data={{ auc: metrics.auc }}
      draw={(el) =>
        tfvis.render.scatterplot(
          el,
          {
            values: [
              roc.map((p) => ({ x: p.fpr, y: p.tpr })),
              [{ x: 1 - metrics.specificity, y: metrics.sensitivity }],
            ],
            series: ['ROC', 'at this threshold'],
          },
          {
            width: 300,
            height: 260,
            xLabel: '1 − specificity',
            yLabel: 'sensitivity',
            xAxisDomain: [0, 1],
            yAxisDomain: [0, 1],
            seriesColors: ['#4c78a8', '#e45756'],
            fontSize: 11,
          },
        )
      }
    >
      <p className="chart__note">AUC {fmt(metrics.auc)}</p>
      <RocTable roc={roc} positiveName={positiveName} />
    </VisFigure>
  );
}

/** The ROC curve's numbers for readers who cannot see it: the best sensitivity at a few false-positive rates. */
function RocTable({ roc, positiveName }: { roc: ReturnType<typeof rocCurve>; positiveName: string }) {
  const rows = rocTableRows(roc);
  if (rows.length === 0)
    return (
      <p className="visually-hidden">No ROC curve: the split needs images of both the positive class and the others.</p>
    );
  return (
    <div className="visually-hidden">
      <table aria-label="ROC curve points">
        <caption>
          ROC curve read at a few false-positive rates: the highest sensitivity for {positiveName} within each, and the
          threshold that gives it
        </caption>
        <thead>
          <tr>
            <th scope="col">false-positive rate at most</th>
            <th scope="col">sensitivity</th>
            <th scope="col">false-positive rate</th>
            <th scope="col">threshold</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.maxFpr}>
              <th scope="row">{r.maxFpr}</th>
              <td>{fmt(r.tpr)}</td>
              <td>{fmt(r.fpr)}</td>
              <td>{Number.isFinite(r.threshold) ? fmtThreshold(r.threshold) : 'above every score'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
