import * as tfvis from '@tensorflow/tfjs-vis';
import type { Interval, IntervalMetric } from '../../eval/bootstrap';
import type { EvaluationReport, SplitReport } from '../../eval/report';
import { describeRule } from '../../eval/thresholdRules';
import { fmt, fmtInterval, fmtThreshold } from './formatFigures';
import { VisFigure } from '../common/VisFigure';
import { ScrollingTable } from '../common/ScrollingTable';

/** The figures with intervals, as the report tables name their rows. */
export const REPORT_ROWS: { name: string; metric: IntervalMetric }[] = [
  { name: 'Accuracy', metric: 'accuracy' },
  { name: 'Sensitivity', metric: 'sensitivity' },
  { name: 'Specificity', metric: 'specificity' },
  { name: 'Precision', metric: 'precision' },
  { name: 'AUC', metric: 'auc' },
];

/**
 * Validation and test side by side at the reported threshold, with intervals and calibration, and a note when
 * they disagree beyond their intervals (the test split looks different from training).
 */
export function ValidationVsTest({ report }: { report: EvaluationReport }) {
  const splits = [report.validation, ...(report.test ? [report.test] : [])];
  const point = report.operatingPoint;
  return (
    <div className="report">
      <ScrollingTable label="Validation and test" className="metrics">
        <caption>
          At threshold {fmtThreshold(point.threshold)} ({describeRule(point)}); 95% intervals from {report.resamples}{' '}
          bootstrap resamples
        </caption>
        <thead>
          <tr>
            <th scope="col">figure</th>
            {splits.map((s) => (
              <th scope="col" key={s.split}>
                {s.split} ({s.count} images{s.unit === 'patients' ? `, ${s.units} patients` : ''})
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {REPORT_ROWS.map(({ name, metric }) => (
            <tr key={metric}>
              <th scope="row">{name}</th>
              {splits.map((s) => (
                <Cell key={s.split} value={s.metrics[metric]} interval={s.intervals[metric]} />
              ))}
            </tr>
          ))}
          <tr>
            <th scope="row">ECE</th>
            {splits.map((s) => (
              <Cell key={s.split} value={s.calibration.ece} />
            ))}
          </tr>
          <tr>
            <th scope="row">Brier score</th>
            {splits.map((s) => (
              <Cell key={s.split} value={s.calibration.brier} />
            ))}
          </tr>
        </tbody>
      </ScrollingTable>
      <ShiftNote report={report} />
      <Reliability splits={splits} temperature={report.temperature} />
    </div>
  );
}

/** A figure with its 95% interval after it (the figure stays the cell's first number). */
export function Cell({ value, interval }: { value: number; interval?: Interval }) {
  return (
    <td>
      {fmt(value)}
      {fmtInterval(interval)}
    </td>
  );
}

function ShiftNote({ report }: { report: EvaluationReport }) {
  if (!report.test) {
    return (
      <p data-testid="shift-warning" data-shift="no-test">
        No test split: these figures are on validation, the split that chose the threshold and the kept epoch, so they
        flatter the model. Set <code>Test hold-out</code> or add a test folder for a figure to report.
      </p>
    );
  }
  if (report.shift.length === 0) {
    return (
      <p data-testid="shift-warning" data-shift="none">
        Validation and test agree within their 95% intervals.
      </p>
    );
  }
  const gaps = report.shift
    .map((f) => `${f.metric} ${fmt(f.validation)} on validation against ${fmt(f.test)} on test`)
    .join(', ');
  return (
    <p
      role="note"
      data-testid="shift-warning"
      data-shift={report.shift.map((f) => f.metric).join(',')}
      className="warning"
    >
      Validation and test disagree beyond what their 95% intervals explain ({gaps}): the test split looks different from
      training. Report the test figure, not validation&apos;s.
    </p>
  );
}

/** The diagonal, as dots every 0.05. */
const DIAGONAL = Array.from({ length: 21 }, (_, i) => ({ x: i / 20, y: i / 20 }));

function Reliability({ splits, temperature }: { splits: SplitReport[]; temperature: number | null }) {
  const series = splits.map((s) =>
    s.calibration.bins.filter((b) => b.count > 0).map((b) => ({ x: b.confidence, y: b.observed })),
  );
  const data = Object.fromEntries(splits.map((s) => [`ece-${s.split}`, s.calibration.ece.toFixed(4)]));
  return (
    <VisFigure
      label="Reliability diagram"
      // The points themselves, not the array: a new array every render redrew the chart (70 ms at 150 px) whenever the
      // page re-rendered, e.g. at each click on Download model.
      version={JSON.stringify(series)}
      data={data}
      draw={(el) =>
        tfvis.render.scatterplot(
          el,
          { values: [DIAGONAL, ...series], series: ['perfectly calibrated', ...splits.map((s) => s.split)] },
          {
            width: 300,
            height: 260,
            xLabel: 'predicted probability (bin mean)',
            yLabel: 'observed share positive',
            xAxisDomain: [0, 1],
            yAxisDomain: [0, 1],
            fontSize: 11,
          },
        )
      }
    >
      <p className="chart__note">
        Ten equal-width bins of the positive class&apos;s probability; a calibrated model lies on the diagonal. ECE: the
        images&apos; mean gap from it; Brier score: mean squared error of the probability.{' '}
        {temperature === null
          ? 'Scores as the model gives them (no temperature scaling).'
          : `After temperature scaling: T = ${temperature.toFixed(2)}, fitted on validation and applied to both splits' probabilities here. The threshold and every other figure use the model's own scores, as downloaded (for two classes the temperature changes no decision anyway).`}
      </p>
      <ReliabilityTable splits={splits} />
    </VisFigure>
  );
}

/** The reliability diagram's points for readers who cannot see it: each bin's images, mean probability and observed share, by split. */
function ReliabilityTable({ splits }: { splits: SplitReport[] }) {
  const bins = splits[0]?.calibration.bins ?? [];
  const cell = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(3));
  return (
    <div className="visually-hidden">
      <table aria-label="Reliability diagram bins">
        <caption>
          Reliability diagram: for each bin of predicted probability, the images in it, their mean predicted probability
          and the share that is positive
        </caption>
        <thead>
          <tr>
            <th scope="col">bin</th>
            {splits.map((s) => (
              <th scope="col" key={s.split}>
                {s.split}: images, mean probability, observed share
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {bins.map((b, i) => (
            <tr key={i}>
              <th scope="row">
                {b.low.toFixed(1)}–{b.high.toFixed(1)}
              </th>
              {splits.map((s) => {
                const bin = s.calibration.bins[i];
                return (
                  <td key={s.split}>{bin ? `${bin.count}, ${cell(bin.confidence)}, ${cell(bin.observed)}` : '–'}</td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
