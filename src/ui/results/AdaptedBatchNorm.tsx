import type { EvalSettings } from '../../core/types';
import type { EvaluationReport } from '../../eval/report';
import { Cell, REPORT_ROWS } from './ValidationVsTest';
import type { TrainingStore } from '../training/trainingStore';
import { useAnswerFor } from '../common/useAnswerFor';
import { ScrollingTable } from '../common/ScrollingTable';

// Precision aside: the adaptation moves the operating point, and these four say how.
const ROWS = REPORT_ROWS.filter((r) => r.metric !== 'precision');

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
  // A new report (rule, class, run) makes the adapted one stale: asked again on request.
  const state = useAnswerFor<EvaluationReport, EvaluationReport>(report);
  const adapted = state.answer;
  const test = report.test;
  if (!test) return null;
  const ask = () => state.ask(() => store.adaptedReport(report.positiveClass, evalSettings));
  return (
    <div className="report">
      <p>
        <button type="button" onClick={ask} disabled={state.pending}>
          Adapt BatchNorm to the test images
        </button>{' '}
        <small>
          Test-time adaptation: re-estimates each BatchNorm layer’s statistics on the test images (their labels are not
          read) and scores them again; for a test split from another source. The statistics also follow the test images’
          mix of classes, so where it differs from training’s the adaptation can do harm (measured on a held-out series:
          specificity fell). The adapted model is not the one downloaded.
        </small>
      </p>
      {state.pending && <p aria-busy="true">Adapting and scoring…</p>}
      {state.error && state.current && <p role="note">{state.error}</p>}
      {adapted?.test && (
        <ScrollingTable label="Adapted BatchNorm" className="metrics">
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
                <Cell value={test.metrics[metric]} interval={test.intervals[metric]} />
                <Cell value={adapted.test!.metrics[metric]} interval={adapted.test!.intervals[metric]} />
              </tr>
            ))}
          </tbody>
        </ScrollingTable>
      )}
    </div>
  );
}
