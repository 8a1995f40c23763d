import { useState } from 'react';
import type { EvalSettings } from '../core/types';
import type { IntervalMetric } from '../eval/bootstrap';
import type { EvaluationReport } from '../eval/report';
import { fmt, fmtInterval } from './format';
import type { TrainingStore } from './trainingStore';

const ROWS: { name: string; metric: IntervalMetric }[] = [
  { name: 'Accuracy', metric: 'accuracy' },
  { name: 'Sensitivity', metric: 'sensitivity' },
  { name: 'Specificity', metric: 'specificity' },
  { name: 'AUC', metric: 'auc' },
];

interface Props {
  store: TrainingStore;
  /** The report as trained (its test figures are the left column). */
  report: EvaluationReport;
  evalSettings: EvalSettings;
}

/**
 * Test-time adaptation, on request and labelled as such: the test split scored again with every BatchNorm layer's
 * statistics re-estimated on the test images (no labels read), beside the figures as trained. For a test split from
 * another source (another hospital, another machine), where a model's normalisation no longer fits.
 */
export function AdaptedBatchNorm({ store, report, evalSettings }: Props) {
  const [state, setState] = useState<{ report: EvaluationReport | null; pending: boolean; error: string | null; for: EvaluationReport | null }>({
    report: null,
    pending: false,
    error: null,
    for: null,
  });
  // A new report (rule, class, run) makes the adapted one stale: asked again on request.
  const adapted = state.for === report ? state.report : null;
  const test = report.test;
  if (!test) return null;
  const ask = () => {
    setState({ report: null, pending: true, error: null, for: report });
    store.adaptedReport(report.positiveClass, evalSettings).then(
      (r) => setState({ report: r, pending: false, error: null, for: report }),
      (e: unknown) => setState({ report: null, pending: false, error: e instanceof Error ? e.message : String(e), for: report }),
    );
  };
  return (
    <div className="report">
      <p>
        <button type="button" onClick={ask} disabled={state.pending}>
          Adapt BatchNorm to the test images
        </button>{' '}
        <small>
          Test-time adaptation: re-estimates each BatchNorm layer’s statistics on the test images (their labels are not read) and scores them again;
          for a test split from another source. The adapted model is not the one downloaded.
        </small>
      </p>
      {state.pending && <p aria-busy="true">Adapting and scoring…</p>}
      {state.error && state.for === report && <p role="note">{state.error}</p>}
      {adapted?.test && (
        <table aria-label="Adapted BatchNorm" className="metrics">
          <caption>Test, at the same threshold (chosen on validation, unadapted), 95% intervals</caption>
          <thead>
            <tr>
              <th scope="col">figure</th>
              <th scope="col">as trained</th>
              <th scope="col">BatchNorm adapted to the test images</th>
            </tr>
          </thead>
          <tbody>
            {ROWS.map(({ name, metric }) => (
              <tr key={metric}>
                <th scope="row">{name}</th>
                <td>
                  {fmt(test.metrics[metric])}
                  {fmtInterval(test.intervals[metric])}
                </td>
                <td>
                  {fmt(adapted.test!.metrics[metric])}
                  {fmtInterval(adapted.test!.intervals[metric])}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
