import { useMemo } from 'react';
import type { ShiftCheckScores } from '../../core/acquisitionShifts';
import type { TestResult } from '../../core/types';
import { shiftRows } from '../../eval/shiftMetrics';
import { percent, shiftSummary } from './shiftText';
import { fmt, fmtThreshold } from './formatFigures';
import type { TrainingStore } from '../training/trainingStore';
import { useAnswerFor } from '../common/useAnswerFor';
import { ScrollingTable } from '../common/ScrollingTable';

interface Props {
  store: TrainingStore;
  /** The run's evaluation: a new one makes the check stale. */
  result: TestResult;
  /** The split the Results show: test, or validation where there is none. */
  splitName: string;
  positiveClass: number;
  positiveName: string;
  /** The Results' current decision threshold (the rule's, or the slider's). */
  threshold: number;
}

/**
 * A stress test on request: a fixed sample of the evaluated split scored again under simple acquisition changes
 * (blur, lower resolution, tighter framing, contrast, gamma, noise, inversion), at the Results' threshold, with the
 * share the unlike-training detector flags. What a film from another scanner or site can look like.
 */
export function AcquisitionShifts({ store, result, splitName, positiveClass, positiveName, threshold }: Props) {
  // A new run (or evaluation) makes the check stale: asked again on request.
  const state = useAnswerFor<TestResult, ShiftCheckScores>(result);
  const check = state.answer;
  const rows = useMemo(
    () => (check ? shiftRows(check, positiveClass, threshold) : null),
    [check, positiveClass, threshold],
  );
  const ask = () => state.ask(() => store.shiftCheck());
  const binary = result.numClasses === 2;
  return (
    <div className="report">
      <p>
        <button type="button" onClick={ask} disabled={state.pending && state.current}>
          Check acquisition shifts
        </button>{' '}
        <small>
          Scores a fixed sample (at most 200 images) of the {splitName} split again: blurred, at lower resolution,
          framed tighter, with contrast halved, brighter, darker, noisy and inverted. A stress test of this model on its
          own split, not a measurement at another hospital.
        </small>
      </p>
      {state.pending && state.current && <p aria-busy="true">Scoring the shifted images…</p>}
      {state.error && state.current && <p role="alert">{state.error}</p>}
      {check && rows && (
        <>
          <ScrollingTable label="Under acquisition shifts" className="metrics">
            <caption>
              {check.labels.length} of the {check.splitCount} {check.split} images,{' '}
              {binary
                ? `${positiveName} at a score of at least ${fmtThreshold(threshold)} (the Results' threshold)`
                : 'the most probable class'}
            </caption>
            <thead>
              <tr>
                <th scope="col">Shift</th>
                <th scope="col">Accuracy</th>
                <th scope="col">Sensitivity</th>
                <th scope="col">Specificity</th>
                <th scope="col">AUC</th>
                <th scope="col">Unlike training data</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.shift}>
                  <th scope="row">{row.shift}</th>
                  <td>{fmt(row.accuracy)}</td>
                  <td>{fmt(row.sensitivity)}</td>
                  <td>{fmt(row.specificity)}</td>
                  <td>{fmt(row.auc)}</td>
                  <td>{percent(row.unlikeShare)}</td>
                </tr>
              ))}
            </tbody>
          </ScrollingTable>
          <p data-testid="shift-summary">{shiftSummary(rows)}</p>
        </>
      )}
    </div>
  );
}
