import * as tfvis from '@tensorflow/tfjs-vis';
import { memo, useState } from 'react';
import { VisFigure } from '../common/VisFigure';
import type { SavedRun, StorageState } from '../../storage/runsDb';
import { fmt, fmtThreshold } from '../results/formatFigures';
import { runFigures } from './runFigures';
import { formatBytes } from '../../core/formatUnits';
import { ScrollingTable } from '../common/ScrollingTable';

interface Props {
  runs: SavedRun[];
  currentId: string | null;
  storage: StorageState | null;
  busy: boolean;
  onOpen: (id: string) => void;
  onRename: (id: string, name: string) => void;
  onDelete: (id: string) => void;
  onDownload: (id: string) => void;
}

const figure = (v: number | null) => (v === null ? '–' : fmt(v));
const thresholdText = (t: number | null) => (t === null ? '–' : fmtThreshold(t));

/** "test accuracy 0.9667 at threshold 0.704, AUC 1.0000": the figures its Results report. */
function evaluationText(run: SavedRun): string {
  const { accuracy, auc, threshold } = runFigures(run);
  const at = threshold === null ? '' : ` at threshold ${fmtThreshold(threshold)}`;
  // With test-time augmentation the Results average several views; the kept scores are one view.
  const views = (run.settings.testTimeAugmentation ?? 'off') === 'off' ? '' : ' (one view)';
  return `${run.evaluatedOn} accuracy ${figure(accuracy)}${at}, AUC ${figure(auc)}${views}`;
}

/**
 * 7. Runs: every run saved in this browser (training ones after each epoch, finished ones with their results,
 * loaded model files), to open, rename, delete, download, or compare side by side.
 */
export const RunsPanel = memo(function RunsPanel({
  runs,
  currentId,
  storage,
  busy,
  onOpen,
  onRename,
  onDelete,
  onDownload,
}: Props) {
  const [compared, setCompared] = useState<Set<string>>(new Set());
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const comparedRuns = runs.filter((r) => compared.has(r.id));
  const toggle = (id: string) =>
    setCompared((set) => {
      const next = new Set(set);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  return (
    <section className="panel" aria-labelledby="runs-heading">
      <h2 id="runs-heading">7. Runs</h2>
      <p>
        Each run is saved in this browser as it trains (model, optimizer state, settings, history) and with its results
        when it ends, so a reload or a crash loses no finished epoch. The images are never saved.{' '}
        {storage &&
          `Storage used by this page: ${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} offered; ${storage.persisted ? 'the browser keeps it until you delete it.' : 'the browser may clear it when the disk runs short: download models you want to keep.'}`}
      </p>
      {runs.length === 0 ? (
        <p>No saved runs yet.</p>
      ) : (
        <ul aria-label="Runs" className="runs">
          {runs.map((run) => (
            <li key={run.id} aria-current={run.id === currentId ? 'true' : undefined}>
              {renaming?.id === run.id ? (
                <form
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (renaming.name.trim()) onRename(run.id, renaming.name.trim());
                    setRenaming(null);
                  }}
                >
                  <label>
                    New name{' '}
                    <input
                      value={renaming.name}
                      onChange={(e) => setRenaming({ id: run.id, name: e.target.value })}
                      maxLength={120}
                      autoFocus
                    />
                  </label>{' '}
                  <button type="submit">Save name</button>
                </form>
              ) : (
                <strong>{run.name}</strong>
              )}{' '}
              <span className="runs__facts">
                {statusText(run)} · {new Date(run.updatedAt).toLocaleString()} · {run.datasetName} ·{' '}
                {run.settings.model}, {run.settings.imageSize} px, {run.history.epochsDone} epoch
                {run.history.epochsDone === 1 ? '' : 's'} · best validation loss {figure(run.figures.bestValLoss)} ·{' '}
                {evaluationText(run)}
              </span>
              <span className="runs__actions">
                <button
                  type="button"
                  disabled={busy || run.id === currentId}
                  onClick={() => onOpen(run.id)}
                  aria-label={`Open ${run.name}`}
                >
                  Open
                </button>
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => setRenaming({ id: run.id, name: run.name })}
                  aria-label={`Rename ${run.name}`}
                >
                  Rename
                </button>
                <button
                  type="button"
                  disabled={busy || !run.models.some((k) => k === 'model' || k === 'best')}
                  onClick={() => onDownload(run.id)}
                  aria-label={`Download ${run.name}`}
                >
                  Download
                </button>
                <button
                  type="button"
                  disabled={busy || run.id === currentId}
                  onClick={() => {
                    if (
                      window.confirm(
                        `Delete the saved run “${run.name}”? Its model and results go; this cannot be undone.`,
                      )
                    )
                      onDelete(run.id);
                  }}
                  aria-label={`Delete ${run.name}`}
                >
                  Delete
                </button>
                <label>
                  <input type="checkbox" checked={compared.has(run.id)} onChange={() => toggle(run.id)} /> Compare
                </label>
              </span>
            </li>
          ))}
        </ul>
      )}
      {comparedRuns.length > 0 && <CompareTable runs={comparedRuns} />}
      {comparedRuns.length > 0 && <CompareCurves runs={comparedRuns} />}
    </section>
  );
});

function statusText(run: SavedRun): string {
  switch (run.status) {
    case 'training':
      return 'training';
    case 'done':
      return 'finished';
    case 'stopped':
      return 'stopped';
    case 'loaded':
      return 'loaded model file';
  }
}

/** The chosen runs side by side: what differs in their settings, and how each did. */
function CompareTable({ runs }: { runs: SavedRun[] }) {
  const rows: [string, (r: SavedRun) => string][] = [
    ['Model', (r) => r.settings.model],
    ['Image size', (r) => `${r.settings.imageSize} px`],
    ['Epochs trained', (r) => String(r.history.epochsDone)],
    ['Best epoch', (r) => (r.history.bestEpoch === null ? '–' : String(r.history.bestEpoch + 1))],
    ['Batch size', (r) => String(r.settings.batchSize)],
    ['Learning rate', (r) => String(r.settings.learningRate)],
    // Runs saved before the schedule existed trained at a constant rate.
    ['Learning-rate schedule', (r) => r.settings.learningRateSchedule ?? 'constant'],
    ['Seed', (r) => String(r.settings.seed)],
    ['Class weighting', (r) => r.settings.classWeighting],
    ['Augmentation', (r) => augmentationText(r)],
    ['Best validation loss', (r) => figure(r.figures.bestValLoss)],
    ['Threshold (its rule, on validation)', (r) => thresholdText(runFigures(r).threshold)],
    ['Accuracy (evaluated split, at that threshold)', (r) => figure(runFigures(r).accuracy)],
    ['AUC (evaluated split)', (r) => figure(runFigures(r).auc)],
    ['Evaluated on', (r) => r.evaluatedOn],
    ['Dataset', (r) => r.datasetName],
  ];
  return (
    <ScrollingTable label="Compared runs">
      <caption>Compared runs: figures from different datasets or splits are not comparable</caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          {runs.map((r) => (
            <th scope="col" key={r.id}>
              {r.name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, value]) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            {runs.map((r) => (
              <td key={r.id}>{value(r)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </ScrollingTable>
  );
}

/** The compared runs' validation loss per epoch on one chart (their numbers are in each run's history). */
function CompareCurves({ runs }: { runs: SavedRun[] }) {
  const withEpochs = runs.filter((r) => r.history.epochPoints.length > 0);
  if (withEpochs.length === 0) return null;
  const version = withEpochs.map((r) => `${r.id}:${r.history.epochPoints.length}`).join('|');
  return (
    <VisFigure
      label="Compared runs: validation loss"
      className="chart"
      version={version}
      data={{ runs: withEpochs.length }}
      draw={(element) =>
        tfvis.render.linechart(
          element,
          {
            values: withEpochs.map((r) => r.history.epochPoints.map((p) => ({ x: p.epoch + 1, y: p.valLoss }))),
            series: withEpochs.map((r) => r.name),
          },
          { xLabel: 'epoch', yLabel: 'validation loss', width: 520, height: 260 },
        )
      }
    />
  );
}

function augmentationText(run: SavedRun): string {
  const a = run.settings.augmentation;
  const on = Object.entries(a).filter(([, v]) => v !== 0 && v !== false);
  return on.length === 0 ? 'none' : on.map(([k, v]) => (v === true ? k : `${k} ${String(v)}`)).join(', ');
}
