import * as tfvis from '@tensorflow/tfjs-vis';
import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  argmaxPredictions,
  binaryMetrics,
  binaryScores,
  confusionMatrix,
  defaultPositiveClass,
  multiClassMetrics,
  rocCurve,
} from '../../eval/metrics';
import { describeRule } from '../../eval/thresholdRules';
import type { ReportedThreshold } from '../../eval/report';
import { TTA_VIEW_COUNT, type EvalSettings, type TestResult, type TestTimeAugmentation } from '../../core/types';
import { confusionText } from '../common/chartText';
import { ConfusionTable, type Cell } from './ConfusionTable';
import { fmtSliderThreshold, fmtThreshold } from './formatFigures';
import { MetricsTable } from './MetricsTable';
import { MisclassifiedGallery, type ExplainImage } from './MisclassifiedGallery';
import { TestPredictions } from './TestResults';
import type { TrainingStore } from '../training/trainingStore';
import { useEvaluationReport } from './useEvaluationReport';
import { ValidationVsTest } from './ValidationVsTest';
import { PerClassMetrics } from './PerClassMetrics';
import { RocFigure } from './RocFigure';
import { AdaptedBatchNorm } from './AdaptedBatchNorm';
import { AcquisitionShifts } from './AcquisitionShifts';
import { VisFigure } from '../common/VisFigure';
import { RangeField } from '../common/FormFields';

interface Props {
  result: TestResult;
  classNames: string[];
  /** Path of each evaluated image, by index (empty when they are not known). */
  paths: string[];
  /** The evaluated split: test, or validation when there is no test split. */
  splitName: 'test' | 'validation';
  /** Asks the worker for the report (operating point, intervals, calibration) and for a cell's images. */
  store: TrainingStore;
  evalSettings: EvalSettings;
  /** Told the operating point of the reported figures (null while there is none), for the downloaded metadata. */
  onReported?: (reported: ReportedThreshold | null) => void;
  /** Opens an evaluated image in Predict with its Grad-CAM heatmap. */
  onExplain?: (image: ExplainImage) => void;
}

/**
 * What a clinician asks of a classifier: sensitivity and specificity at a decision threshold chosen on
 * validation (by the `Threshold rule`), with 95% intervals, AUC, calibration, the confusion matrix, and each
 * image's score. The slider explores other thresholds live; the page says which one the reported figures use.
 */
export function Evaluation({
  result,
  classNames,
  paths,
  splitName,
  store,
  evalSettings,
  onReported,
  onExplain,
}: Props) {
  const [positive, setPositive] = useState(() => defaultPositiveClass(classNames));
  const reportState = useEvaluationReport(store, result, positive, evalSettings);
  const report = reportState.report?.positiveClass === positive ? reportState.report : null;
  const chosen = report?.operatingPoint.threshold ?? 0.5;
  // The slider's own value once moved; a new report (new rule, class or run) brings it back to the chosen threshold.
  const [moved, setMoved] = useState<number | null>(null);
  const [movedFor, setMovedFor] = useState(report);
  if (movedFor !== report) {
    setMovedFor(report);
    setMoved(null);
  }
  const threshold = moved ?? chosen;
  useEffect(() => {
    onReported?.(
      report
        ? {
            threshold: report.operatingPoint.threshold,
            positiveClass: report.positiveClass,
            rule: describeRule(report.operatingPoint),
            testTimeAugmentation: reportState.testTimeAugmentation,
            report,
          }
        : null,
    );
    // Gone with the Results (a new run): the next download must not carry this run's threshold.
    return () => onReported?.(null);
  }, [report, onReported, reportState.testTimeAugmentation]);
  const atOperatingPoint = moved === null || moved === chosen;
  const [cell, setCell] = useState<Cell | null>(null);
  const [cellFor, setCellFor] = useState(result);
  if (cellFor !== result) {
    setCellFor(result);
    setCell(null);
  }
  const fetchImages = useCallback((indices: number[]) => store.evaluatedImages(indices), [store]);
  const binary = result.numClasses === 2;
  const scores = useMemo(() => binaryScores(result, positive), [result, positive]);
  const metrics = useMemo(
    () => binaryMetrics(scores, result.labels, positive, threshold),
    [scores, result.labels, positive, threshold],
  );
  const roc = useMemo(() => rocCurve(scores, result.labels, positive), [scores, result.labels, positive]);
  const multi = useMemo(() => (binary ? null : multiClassMetrics(result)), [binary, result]);
  // Two classes: the threshold decides. More: the most probable class (the threshold then only moves the one-vs-rest figures).
  const predicted = useMemo(() => {
    if (!binary) return argmaxPredictions(result);
    return Uint8Array.from(scores, (s) => (s >= threshold ? positive : 1 - positive));
  }, [binary, result, scores, threshold, positive]);
  const matrix = useMemo(() => confusionMatrix(predicted, result.labels, result.numClasses), [predicted, result]);
  // With test-time augmentation the page holds single-view scores only: at the reported threshold the figures are
  // the report's (the worker's, from the averaged scores); moved off it, the slider's figures are single-view.
  const ttaMetrics =
    reportState.testTimeAugmentation !== 'off' && report && atOperatingPoint
      ? (report.test ?? report.validation).metrics
      : null;

  return (
    <div className="evaluation">
      <div className="evaluation__controls">
        <label>
          Positive class
          <select value={positive} onChange={(e) => setPositive(Number(e.target.value))}>
            {classNames.map((c, i) => (
              <option key={c} value={i}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <RangeField
          label="Decision threshold"
          min={0.01}
          max={0.99}
          step={0.01}
          value={threshold}
          shown={fmtSliderThreshold(threshold)}
          onChange={setMoved}
        />
        <p
          data-testid="operating-point"
          data-threshold={chosen}
          data-rule={report?.operatingPoint.rule ?? ''}
          data-tta={report ? reportState.testTimeAugmentation : ''}
          aria-busy={reportState.pending}
        >
          {report
            ? `Reported figures: threshold ${fmtThreshold(chosen)}, ${describeRule(report.operatingPoint)}${splitName === 'test' ? ', applied to test' : ''}.${ttaSentence(reportState.testTimeAugmentation)}`
            : reportState.error
              ? `No report: ${reportState.error}`
              : 'Choosing the threshold on validation…'}{' '}
          {!atOperatingPoint && (
            <>
              The slider is at {fmtThreshold(threshold)}: the figures follow it, without intervals.{' '}
              <button type="button" onClick={() => setMoved(null)}>
                Back to the reported threshold
              </button>
            </>
          )}
        </p>
        <small>
          An image counts as {classNames[positive]} when its probability is at least the threshold. Lower it to miss
          fewer {classNames[positive]} cases (higher sensitivity) at the cost of more false alarms.
        </small>
      </div>
      <div className="evaluation__tables">
        <MetricsTable
          metrics={ttaMetrics ?? metrics}
          accuracy={ttaMetrics ? ttaMetrics.accuracy : binary ? metrics.accuracy : (multi?.accuracy ?? NaN)}
          loss={result.loss}
          count={result.labels.length}
          splitName={splitName}
          positiveName={classNames[positive]}
          shown={report ? (report.test ?? report.validation) : null}
          atOperatingPoint={atOperatingPoint}
          thresholdText={
            atOperatingPoint && report
              ? `${fmtThreshold(threshold)} (${describeRule(report.operatingPoint)})`
              : `${fmtThreshold(threshold)} (set by the slider)`
          }
        />
        <ConfusionTable matrix={matrix} classNames={classNames} selected={cell} onSelect={setCell} />
        <VisFigure
          label="Confusion matrix heatmap"
          version={matrix.map((row) => row.join(',')).join(';')}
          data={{ cells: matrix.flat().join(',') }}
          draw={(el) =>
            tfvis.render.confusionMatrix(
              el,
              { values: matrix, tickLabels: classNames },
              { shadeDiagonal: true, width: 260, height: 220, fontSize: 12 },
            )
          }
        >
          <p className="visually-hidden">
            The same counts as the Confusion matrix table. {confusionText(matrix, classNames)}
          </p>
        </VisFigure>
        <RocFigure roc={roc} metrics={metrics} positiveName={classNames[positive]} />
      </div>
      {multi && <PerClassMetrics multi={multi} classNames={classNames} count={result.labels.length} />}
      {report && <ValidationVsTest report={report} />}
      <AcquisitionShifts
        store={store}
        result={result}
        splitName={splitName}
        positiveClass={positive}
        positiveName={classNames[positive]}
        threshold={threshold}
      />
      {report?.test && <AdaptedBatchNorm store={store} report={report} evalSettings={evalSettings} />}
      <MisclassifiedGallery
        result={result}
        classNames={classNames}
        paths={paths}
        predicted={predicted}
        splitName={splitName}
        positiveClass={positive}
        cell={cell}
        onShowMisclassified={() => setCell(null)}
        fetchImages={fetchImages}
        onExplain={onExplain}
      />
      <TestPredictions
        result={result}
        splitName={splitName}
        paths={paths}
        classNames={classNames}
        predicted={predicted}
      />
    </div>
  );
}

/** What the reported figures' scores are with test-time augmentation on; empty when off. */
function ttaSentence(kind: TestTimeAugmentation): string {
  if (kind === 'off') return '';
  return ` Test-time augmentation: each image's score is the mean over ${TTA_VIEW_COUNT[kind]} views of it (small shifts and scales${kind === 'shift-scale-flip' ? ', mirrored too' : ''}); the slider, confusion matrix, per-image tables, gallery and downloads show the single view, and a downloaded model scores one view.`;
}
