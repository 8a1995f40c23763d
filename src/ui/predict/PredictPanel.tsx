import { useMemo, useState } from 'react';
import { entriesFromDrop } from '../../data/looseFiles';
import { fmtThreshold } from '../results/formatFigures';
import { HeatmapImage } from './HeatmapImage';
import { UnlikeSentence } from '../common/OodSummary';
import { FilePath } from '../common/FilePath';
import {
  ALL_ROWS,
  predictionRows,
  visibleRows,
  type PredictionRow,
  type RowFilter,
  type SortKey,
} from './predictionRows';
import { PredictionsControls } from './PredictionsControls';
import { PAGE, usePredict, type PredictInputs } from './usePredict';
import { ScrollingTable } from '../common/ScrollingTable';

interface Props extends PredictInputs {
  disabled: boolean;
}

/**
 * 6. Predict: new images (files, a folder, a zip) through the model in the page, each with its class
 * probabilities, the class at the page's decision threshold, and a Grad-CAM heatmap of where it looked.
 */
export function PredictPanel({ disabled, ...inputs }: Props) {
  const { model, decision, onProblem } = inputs;
  const { progress, result, selected, setSelected, shown, setShown, predict } = usePredict(inputs);
  const [filter, setFilter] = useState<RowFilter>(ALL_ROWS);
  const [sort, setSort] = useState<SortKey>({ by: 'class', classIndex: decision.positiveClass });
  const [opacity, setOpacity] = useState(0.5);
  const [showHeat, setShowHeat] = useState(true);
  const [over, setOver] = useState(false);

  const classNames = model?.classNames ?? [];
  const rows = useMemo(
    () => (result ? predictionRows(result.images.names, result.predictions, classNames.length, decision) : []),
    [result, classNames.length, decision],
  );
  const judged = rows.some((r) => r.unlike !== null);
  // A model without the statistics judges nothing: a filter on the judgement then shows every row.
  const shownFilter = judged || filter.only === 'all' || filter.only === 'class' ? filter : ALL_ROWS;
  const visible = useMemo(() => visibleRows(rows, shownFilter, sort), [rows, shownFilter, sort]);

  const area = result ? result.images.size * result.images.size : 0;
  const mapArea = result ? result.predictions.mapSide ** 2 : 0;
  const mapOf = (index: number) =>
    result && mapArea > 0 ? result.predictions.maps.subarray(index * mapArea, (index + 1) * mapArea) : null;
  const pixelsOf = (index: number) => result!.images.pixels.subarray(index * area, (index + 1) * area);
  const heatClass = (index: number) => classNames[result?.predictions.mapClasses[index] ?? 0] ?? '';
  /** A row's image with its heatmap, at `display` px. */
  const heatmapOf = (row: PredictionRow, display: number) => (
    <HeatmapImage
      pixels={pixelsOf(row.index)}
      size={result!.images.size}
      map={mapOf(row.index)}
      side={result!.predictions.mapSide}
      opacity={opacity}
      show={showHeat}
      name={row.name}
      className={heatClass(row.index)}
      display={display}
    />
  );
  const selectedRow = selected === null ? null : (rows.find((r) => r.index === selected) ?? null);

  return (
    <section
      className={`panel${over ? ' dropzone--over' : ''}`}
      aria-labelledby="predict-heading"
      onDragOver={(e) => {
        if (!model || disabled || progress) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        setOver(false);
        if (!model || disabled || progress) return;
        e.preventDefault();
        // Read synchronously: the drop's items are gone once this handler returns.
        void entriesFromDrop(e.dataTransfer.items).then(
          (entries) => predict(entries),
          (error: unknown) =>
            onProblem(`The dropped files could not be read: ${error instanceof Error ? error.message : String(error)}`),
        );
      }}
    >
      <h2 id="predict-heading">6. Predict</h2>
      {!model ? (
        <p>Train a model, open a saved run or load a model file to use it on new images.</p>
      ) : (
        <p>
          Drop images, a folder or a zip here, or choose them below. New images go through the model in this tab (
          {model.imageSize} × {model.imageSize} px, grey, as in training). Each gets its class probabilities, the class
          at the decision threshold (
          {classNames.length === 2
            ? `${classNames[decision.positiveClass]} when its probability is at least ${fmtThreshold(decision.threshold)}`
            : 'the most probable class'}
          ) and a Grad-CAM heatmap: where in the image the model found the evidence for the class it predicts. A heatmap
          shows what the model used, not what is medically there.
        </p>
      )}
      <div className="predict__inputs">
        <label>
          Images to predict{' '}
          <input
            type="file"
            multiple
            accept="image/*,.zip,application/zip"
            disabled={disabled || !model || progress !== null}
            onChange={(e) => {
              void predict(Array.from(e.target.files ?? []));
              e.target.value = '';
            }}
          />
        </label>{' '}
        <label>
          Folder to predict{' '}
          <input
            type="file"
            // @ts-expect-error: webkitdirectory is not in React's input attributes, and every current browser supports it.
            webkitdirectory=""
            disabled={disabled || !model || progress !== null}
            onChange={(e) => {
              void predict(Array.from(e.target.files ?? []));
              e.target.value = '';
            }}
          />
        </label>
      </div>
      {progress && (
        <p role="status">
          {progress.what}: {progress.done} of {progress.total}
          <progress max={progress.total || 1} value={progress.done} />
        </p>
      )}
      {result && rows.length > 0 && (
        <>
          <PredictionsControls
            classNames={classNames}
            visible={visible}
            decision={decision}
            judged={judged}
            filter={shownFilter}
            onFilter={setFilter}
            showHeat={showHeat}
            onShowHeat={setShowHeat}
            opacity={opacity}
            onOpacity={setOpacity}
          />
          {result.images.skipped.length > 0 && (
            <details>
              <summary>
                {result.images.skipped.length} file{result.images.skipped.length === 1 ? '' : 's'} skipped
              </summary>
              <ul>
                {result.images.skipped.slice(0, 100).map((s) => (
                  <li key={s.name}>
                    {s.name}: {s.reason}
                  </li>
                ))}
              </ul>
            </details>
          )}
          {selectedRow && (
            <figure className="predict__detail" aria-label="Selected prediction">
              {heatmapOf(selectedRow, 320)}
              <figcaption>
                <FilePath path={selectedRow.name} />: predicted <strong>{classNames[selectedRow.predicted]}</strong> (
                {classNames.map((c, i) => `${c} ${selectedRow.probabilities[i].toFixed(3)}`).join(', ')}); heat shows
                the evidence for {heatClass(selectedRow.index)}.{' '}
                {selectedRow.unlikeWhy && (
                  <>
                    <strong data-testid="unlike-why">{selectedRow.unlikeWhy}</strong>{' '}
                  </>
                )}
                <button type="button" onClick={() => setSelected(null)}>
                  Close
                </button>
              </figcaption>
            </figure>
          )}
          <UnlikeSentence judgement={result.predictions.ood} />
          <ScrollingTable label="Predictions">
            <caption>
              {visible.length} of {rows.length} images; click a row's image to enlarge it
            </caption>
            <thead>
              <tr>
                <th scope="col">
                  <button type="button" onClick={() => setSort({ by: 'name' })} aria-pressed={sort.by === 'name'}>
                    File
                  </button>
                </th>
                <th scope="col">Image</th>
                <th scope="col">Predicted class</th>
                {classNames.map((c, i) => (
                  <th scope="col" key={c}>
                    <button
                      type="button"
                      onClick={() => setSort({ by: 'class', classIndex: i })}
                      aria-pressed={sort.by === 'class' && sort.classIndex === i}
                    >
                      {c}
                    </button>
                  </th>
                ))}
                {result.predictions.ood && <th scope="col">Unlike training data</th>}
              </tr>
            </thead>
            <tbody>
              {visible.slice(0, shown).map((row) => (
                <tr key={row.index}>
                  <td>
                    <FilePath path={row.name} />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="predict__thumb"
                      onClick={() => setSelected(row.index)}
                      aria-label={`Enlarge ${row.name}`}
                    >
                      {heatmapOf(row, 64)}
                    </button>
                  </td>
                  <td>{classNames[row.predicted]}</td>
                  {row.probabilities.map((p, i) => (
                    <td key={classNames[i]}>{p.toFixed(4)}</td>
                  ))}
                  {row.unlike !== null && (
                    <td title={row.unlikeWhy ?? undefined}>{row.unlike ? <strong>yes</strong> : 'no'}</td>
                  )}
                </tr>
              ))}
            </tbody>
          </ScrollingTable>
          {visible.length > shown && (
            <button type="button" onClick={() => setShown((n) => n + PAGE)}>
              Show {Math.min(PAGE, visible.length - shown)} more
            </button>
          )}
        </>
      )}
    </section>
  );
}
