import * as tfvis from '@tensorflow/tfjs-vis';
import { useMemo, useState } from 'react';
import {
  argmaxPredictions,
  binaryMetrics,
  binaryScores,
  confusionMatrix,
  defaultPositiveClass,
  multiClassMetrics,
  rocCurve,
} from '../eval/metrics';
import type { TestResult } from '../core/types';
import { MisclassifiedGallery } from './MisclassifiedGallery';
import { TestPredictions } from './TestResults';
import { VisFigure } from './VisFigure';

interface Props {
  result: TestResult;
  classNames: string[];
  /** Path of each evaluated image (empty when they are not known, e.g. a held-out part of train). */
  paths: string[];
  splitName: string;
}

const fmt = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));

/**
 * What a clinician asks of a classifier: sensitivity and specificity at a chosen decision threshold,
 * AUC, the confusion matrix, and each image's score. Everything follows the threshold slider live.
 */
export function Evaluation({ result, classNames, paths, splitName }: Props) {
  const [positive, setPositive] = useState(() => defaultPositiveClass(classNames));
  const [threshold, setThreshold] = useState(0.5);
  const binary = result.numClasses === 2;
  const scores = useMemo(() => binaryScores(result, positive), [result, positive]);
  const metrics = useMemo(() => binaryMetrics(scores, result.labels, positive, threshold), [scores, result.labels, positive, threshold]);
  const roc = useMemo(() => rocCurve(scores, result.labels, positive), [scores, result.labels, positive]);
  const multi = useMemo(() => (binary ? null : multiClassMetrics(result)), [binary, result]);
  // Two classes: the threshold decides. More: the most probable class (the threshold then only moves the one-vs-rest figures).
  const predicted = useMemo(() => {
    if (!binary) return argmaxPredictions(result);
    return Uint8Array.from(scores, (s) => (s >= threshold ? positive : 1 - positive));
  }, [binary, result, scores, threshold, positive]);
  const matrix = useMemo(() => confusionMatrix(predicted, result.labels, result.numClasses), [predicted, result]);

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
        <label>
          Decision threshold: <output>{threshold.toFixed(2)}</output>
          <input
            type="range"
            aria-label="Decision threshold"
            min={0.01}
            max={0.99}
            step={0.01}
            value={threshold}
            onChange={(e) => setThreshold(Number(e.target.value))}
          />
        </label>
        <small>
          An image counts as {classNames[positive]} when its probability is at least the threshold. Lower it to miss fewer{' '}
          {classNames[positive]} cases (higher sensitivity) at the cost of more false alarms.
        </small>
      </div>
      <div className="evaluation__tables">
        <table aria-label="Test metrics" className="metrics">
          <caption>
            On the {splitName} split ({result.labels.length} images), positive class {classNames[positive]}
          </caption>
          <tbody>
            <Row name="Accuracy" value={binary ? metrics.accuracy : (multi?.accuracy ?? NaN)} />
            <Row name="AUC" value={metrics.auc} />
            <Row name="Sensitivity" value={metrics.sensitivity} />
            <Row name="Specificity" value={metrics.specificity} />
            <Row name="Precision" value={metrics.precision} />
            <Row name="F1" value={metrics.f1} />
            <Row name="Loss" value={result.loss} />
          </tbody>
        </table>
        <table aria-label="Confusion matrix" className="confusion">
          <caption>Confusion matrix (rows: true class, columns: predicted)</caption>
          <thead>
            <tr>
              <th scope="col">true \ predicted</th>
              {classNames.map((c) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {matrix.map((row, i) => (
              <tr key={classNames[i]}>
                <th scope="row">{classNames[i]}</th>
                {row.map((n, j) => (
                  <td key={j} className={i === j ? 'confusion__hit' : n > 0 ? 'confusion__miss' : ''}>
                    {n}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        <VisFigure
          label="Confusion matrix heatmap"
          version={matrix.map((row) => row.join(',')).join(';')}
          data={{ cells: matrix.flat().join(',') }}
          draw={(el) =>
            tfvis.render.confusionMatrix(el, { values: matrix, tickLabels: classNames }, { shadeDiagonal: true, width: 260, height: 220, fontSize: 12 })
          }
        />
        <VisFigure
          label="ROC curve"
          version={roc}
          data={{ auc: metrics.auc }}
          draw={(el) =>
            tfvis.render.scatterplot(
              el,
              {
                values: [roc.map((p) => ({ x: p.fpr, y: p.tpr })), [{ x: 1 - metrics.specificity, y: metrics.sensitivity }]],
                series: ['ROC', 'at this threshold'],
              },
              { width: 300, height: 260, xLabel: '1 − specificity', yLabel: 'sensitivity', xAxisDomain: [0, 1], yAxisDomain: [0, 1], seriesColors: ['#4c78a8', '#e45756'], fontSize: 11 },
            )
          }
        >
          <p className="chart__note">AUC {fmt(metrics.auc)}</p>
        </VisFigure>
      </div>
      {multi && (
        <table aria-label="Per-class metrics">
          <caption>Per class (most probable class predicted)</caption>
          <thead>
            <tr>
              <th scope="col">class</th>
              <th scope="col">precision</th>
              <th scope="col">recall</th>
              <th scope="col">F1</th>
              <th scope="col">images</th>
            </tr>
          </thead>
          <tbody>
            {multi.perClass.map((c, i) => (
              <tr key={classNames[i]}>
                <th scope="row">{classNames[i]}</th>
                <td>{fmt(c.precision)}</td>
                <td>{fmt(c.recall)}</td>
                <td>{fmt(c.f1)}</td>
                <td>{c.support}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">macro average</th>
              <td>{fmt(multi.macro.precision)}</td>
              <td>{fmt(multi.macro.recall)}</td>
              <td>{fmt(multi.macro.f1)}</td>
              <td>{result.labels.length}</td>
            </tr>
          </tbody>
        </table>
      )}
      <MisclassifiedGallery result={result} classNames={classNames} paths={paths} predicted={predicted} splitName={splitName} positiveClass={positive} />
      <TestPredictions result={result} paths={paths} classNames={classNames} predicted={predicted} />
    </div>
  );
}

function Row({ name, value }: { name: string; value: number }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>{fmt(value)}</td>
    </tr>
  );
}
