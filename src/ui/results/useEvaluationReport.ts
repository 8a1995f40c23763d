import { useEffect, useState } from 'react';
import type { EvalSettings, TestResult, TestTimeAugmentation } from '../../core/types';
import type { EvaluationReport } from '../../eval/report';
import type { TrainingStore } from '../training/trainingStore';

export interface ReportState {
  /** The latest report that matches the shown result, positive class and settings; null until it arrives. */
  report: EvaluationReport | null;
  pending: boolean;
  /** Why the worker could not report (in its words); null when it could. */
  error: string | null;
  /** The test-time augmentation the report's scores were made with (it may lag the setting while one is on its way). */
  testTimeAugmentation: TestTimeAugmentation;
}

/**
 * Asks the training worker for the report of the shown result (operating point chosen on validation, intervals,
 * calibration) whenever the result, the positive class or an eval setting changes; an older answer arriving late
 * is dropped. No retraining: the worker keeps the run's scores.
 */
export function useEvaluationReport(
  store: TrainingStore,
  result: TestResult,
  positiveClass: number,
  settings: EvalSettings,
): ReportState {
  const [state, setState] = useState<ReportState>({
    report: null,
    pending: true,
    error: null,
    testTimeAugmentation: 'off',
  });
  const { thresholdRule, targetSensitivity, temperatureScaling, testTimeAugmentation } = settings;
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, pending: true }));
    store.evaluate(positiveClass, { thresholdRule, targetSensitivity, temperatureScaling, testTimeAugmentation }).then(
      (report) => {
        if (current) setState({ report, pending: false, error: null, testTimeAugmentation });
      },
      (error: unknown) => {
        if (current)
          setState({
            report: null,
            pending: false,
            error: error instanceof Error ? error.message : String(error),
            testTimeAugmentation,
          });
      },
    );
    return () => {
      current = false;
    };
  }, [store, result, positiveClass, thresholdRule, targetSensitivity, temperatureScaling, testTimeAugmentation]);
  return state;
}
