import type { TestResult } from '../../core/types';
import { saveBlob } from '../runs/downloadModel';
import { csvCell } from '../predict/predictionRows';
import { unlikeWhySentence } from '../common/oodText';
import { FilePath } from '../common/FilePath';
import { ScrollingTable } from '../common/ScrollingTable';

const SHOWN = 200;

/** Each test image's score, in file order, so a person can check single cases (and tests can compare with the exported model). */
export function TestPredictions({
  result,
  splitName,
  paths,
  classNames,
  predicted,
}: {
  result: TestResult;
  /** The evaluated split: test, or validation when there is no test split. */
  splitName: 'test' | 'validation';
  paths: string[];
  classNames: string[];
  /** The predicted class of each image, as the page decides it (threshold for two classes). */
  predicted: Uint8Array;
}) {
  const n = result.labels.length;
  const rows = Array.from({ length: Math.min(n, SHOWN) }, (_, i) => {
    const probs =
      result.numClasses === 2
        ? [1 - result.scores[i], result.scores[i]]
        : Array.from(result.scores.subarray(i * result.numClasses, (i + 1) * result.numClasses));
    const unlike = result.ood ? result.ood.distances[i] > result.ood.threshold : null;
    const why = result.ood && unlike ? unlikeWhySentence(result.ood, i) : null;
    return {
      i,
      path: paths[i] ?? `image ${i + 1}`,
      truth: result.labels[i],
      predicted: predicted[i],
      probs,
      unlike,
      why,
    };
  });
  return (
    <>
      <details className="predictions">
        <summary>Predictions per image{n > SHOWN ? ` (first ${SHOWN} of ${n})` : ''}</summary>
        <ScrollingTable label="Test predictions">
          <thead>
            <tr>
              <th scope="col">image</th>
              <th scope="col">label</th>
              <th scope="col">predicted</th>
              {classNames.map((c) => (
                <th scope="col" key={c}>
                  P({c})
                </th>
              ))}
              {result.ood && <th scope="col">Unlike training data</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.i} data-path={r.path} className={r.truth === r.predicted ? '' : 'wrong'}>
                <td>
                  <code>
                    <FilePath path={r.path} />
                  </code>
                </td>
                <td>{classNames[r.truth]}</td>
                <td>{classNames[r.predicted]}</td>
                {r.probs.map((p, k) => (
                  <td key={k} data-score={p}>
                    {p.toFixed(4)}
                  </td>
                ))}
                {r.unlike !== null && <td title={r.why ?? undefined}>{r.unlike ? 'yes' : 'no'}</td>}
              </tr>
            ))}
          </tbody>
        </ScrollingTable>
      </details>
      <p>
        <button
          type="button"
          onClick={() =>
            saveBlob(
              new Blob([testPredictionsCsv(result, paths, classNames, predicted)], { type: 'text/csv' }),
              `${splitName}-predictions.csv`,
            )
          }
        >
          Download test predictions (CSV)
        </button>{' '}
        <small>
          Every evaluated image{splitName === 'validation' ? ' (of validation: there is no test split)' : ''}: file,
          label, a probability per class, the class at the current decision.
        </small>
      </p>
    </>
  );
}

/** Every evaluated image (not only the rows shown): path, label, a probability per class, the predicted class. */
export function testPredictionsCsv(
  result: TestResult,
  paths: string[],
  classNames: string[],
  predicted: Uint8Array,
): string {
  const header = ['file', 'label', ...classNames.map((c) => `probability_${c}`), 'predicted_class'];
  const lines = Array.from(result.labels, (label, i) => {
    const probs =
      result.numClasses === 2
        ? [1 - result.scores[i], result.scores[i]]
        : Array.from(result.scores.subarray(i * result.numClasses, (i + 1) * result.numClasses));
    return [
      paths[i] ?? `image ${i + 1}`,
      classNames[label],
      ...probs.map((p) => p.toFixed(6)),
      classNames[predicted[i]],
    ];
  });
  return [header, ...lines].map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
