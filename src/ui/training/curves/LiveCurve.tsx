import { useEffect, useId, useRef, useState } from 'react';
import { changeset } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { embedInTasks, type EmbedResult } from '../../common/charts/embedInTasks';
import type { TrainingView } from '../trainingState';
import { nameChart } from '../../common/VisFigure';
import { DownsampledSeries, EmaSmoother, type CurvePoint } from './series';

export type Metric = 'loss' | 'accuracy';

/** Points drawn for the training series at most: older batches are merged beyond this. */
export const MAX_TRAINING_POINTS = 400;
/** Heavier than TensorBoard's default 0.6: per-batch loss on small batches is noisy. */
export const SMOOTHING = 0.8;

const SERIES = {
  raw: 'training (per batch)',
  smoothed: 'training, smoothed',
  validation: 'validation (per epoch)',
  best: 'best epoch (lowest validation loss)',
} as const;
const COLOURS = {
  [SERIES.raw]: '#9ecae9',
  [SERIES.smoothed]: '#4c78a8',
  [SERIES.validation]: '#f58518',
  [SERIES.best]: '#2ca02c',
};

function specOf(metric: Metric): TopLevelSpec {
  const x = { field: 'x', type: 'quantitative', title: 'epoch' } as const;
  const y = {
    type: 'quantitative',
    title: metric,
    scale: metric === 'accuracy' ? { domain: [0, 1] } : { zero: false },
  } as const;
  const colour = (series: string) =>
    ({
      datum: series,
      type: 'nominal',
      scale: { domain: Object.keys(COLOURS), range: Object.values(COLOURS) },
      // The legend is the figure's own HTML (below): vega sizes the canvas once, before every series has data.
      legend: null,
    }) as const;
  return {
    // A fixed frame: vega lays the chart out once, when no series has data yet, so the axes get fixed room
    // rather than room measured on empty data (which cut the y title off).
    width: 360,
    height: 200,
    autosize: { type: 'none' },
    padding: { left: 56, right: 12, top: 8, bottom: 40 },
    layer: [
      {
        data: { name: 'train' },
        mark: { type: 'line', strokeWidth: 1, clip: true },
        encoding: { x, y: { ...y, field: 'value' }, color: colour(SERIES.raw) },
      },
      {
        data: { name: 'train' },
        mark: { type: 'line', strokeWidth: 2, clip: true },
        encoding: { x, y: { ...y, field: 'smoothed' }, color: colour(SERIES.smoothed) },
      },
      {
        data: { name: 'validation' },
        mark: { type: 'line', point: true, strokeWidth: 2, clip: true },
        encoding: { x, y: { ...y, field: 'y' }, color: colour(SERIES.validation) },
      },
      {
        data: { name: 'best' },
        mark: { type: 'rule', strokeDash: [4, 4], strokeWidth: 2 },
        encoding: { x, color: colour(SERIES.best) },
      },
    ],
  };
}

/** What the chart holds of the current run, so each update sends only what changed. */
class CurveState {
  readonly series = new DownsampledSeries(MAX_TRAINING_POINTS);
  readonly smoother = new EmaSmoother(SMOOTHING);
  batchesSeen = 0;
  epochsSeen = 0;
  /** The best-epoch rule's one tuple, moved from epoch to epoch (null while there is no best epoch). */
  best: { x: number } | null = null;
  constructor(readonly run: TrainingView['batchPoints']) {}
}

const sameRun = (state: CurveState, points: TrainingView['batchPoints']) =>
  state.batchesSeen <= points.length && (state.batchesSeen === 0 || state.run[0] === points[0]);

/**
 * One live training curve (loss or accuracy) drawn by vega-lite: the per-batch training value as a
 * thin line with its smoothed line over it, validation per epoch as a line with points, the best
 * epoch as a dashed rule, all on one epoch axis. The chart is embedded once; each update inserts
 * only the new points into its datasets (a full redraw only when old batches are merged), so a long
 * run costs the page's thread no more than a short one.
 */
export function LiveCurve({ view, metric, label }: { view: TrainingView; metric: Metric; label: string }) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<EmbedResult | null>(null);
  const state = useRef<CurveState | null>(null);
  const [drawn, setDrawn] = useState({ points: 0, last: null as CurvePoint | null });
  const [failure, setFailure] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const numbersId = useId();

  useEffect(() => {
    const target = element.current;
    if (!target) return;
    let live = true;
    embedInTasks(target, specOf(metric), { renderer: 'canvas', tooltip: false }).then(
      (result) => {
        if (!live) return result.finalize();
        // Named after the figure (vega calls it "Vega visualization") and described by the numbers under it.
        nameChart(target, `${label}: chart`, numbersId);
        // vega keeps the marks of removed points until over 10,000 have gone (Dataflow.cleanThreshold): the page's
        // heap grew by megabytes over a long run. Swept at a few hundred instead, a sweep costs little.
        (result.view as unknown as { cleanThreshold: number }).cleanThreshold = MAX_TRAINING_POINTS;
        chart.current = result;
        setReady(true);
      },
      (error: unknown) => live && setFailure(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      live = false;
      chart.current?.finalize();
      chart.current = null;
      state.current = null;
    };
  }, [metric, label, numbersId]);

  const { batchPoints, epochPoints, bestEpoch } = view;
  useEffect(() => {
    const result = chart.current;
    if (!ready || !result) return;
    let s = state.current;
    let replaceTrain = false;
    if (!s || !sameRun(s, batchPoints)) {
      s = new CurveState(batchPoints);
      state.current = s;
      replaceTrain = true;
    }
    const inserts: CurvePoint[] = [];
    for (const p of batchPoints.slice(s.batchesSeen)) {
      const value = p[metric];
      const change = s.series.add({ x: p.x, value, smoothed: s.smoother.next(value), batches: 1 });
      if (change.kind === 'reset') replaceTrain = true;
      else inserts.push(change.point);
    }
    s.batchesSeen = batchPoints.length;
    const viewApi = result.view;
    if (replaceTrain)
      viewApi.change(
        'train',
        changeset()
          .remove(() => true)
          .insert([...s.series.drawn]),
      );
    else if (inserts.length > 0) viewApi.change('train', changeset().insert(inserts));
    // Validation points only ever come after the last (a new run or a reset replaces them all): only they go in.
    if (replaceTrain || epochPoints.length !== s.epochsSeen) {
      const validation = epochPoints
        .slice(replaceTrain ? 0 : s.epochsSeen)
        .map((p) => ({ x: p.x, y: metric === 'loss' ? p.valLoss : p.valAccuracy }))
        .filter((p) => Number.isFinite(p.y));
      viewApi.change(
        'validation',
        replaceTrain
          ? changeset()
              .remove(() => true)
              .insert(validation)
          : changeset().insert(validation),
      );
      s.epochsSeen = epochPoints.length;
    }
    const best = epochPoints.find((p) => p.epoch === bestEpoch) ?? null;
    const bestX = best ? best.x : null;
    if (replaceTrain || bestX !== (s.best?.x ?? null)) {
      // The rule's tuple is moved, not replaced, when there was one and still is.
      if (!replaceTrain && s.best && bestX !== null) viewApi.change('best', changeset().modify(s.best, 'x', bestX));
      else {
        s.best = bestX === null ? null : { x: bestX };
        viewApi.change(
          'best',
          changeset()
            .remove(() => true)
            .insert(s.best ? [s.best] : []),
        );
      }
    }
    void viewApi.runAsync();
    setDrawn({ points: s.series.drawn.length + s.epochsSeen, last: s.series.drawn.at(-1) ?? null });
  }, [ready, batchPoints, epochPoints, bestEpoch, metric]);

  const lastEpoch = epochPoints.at(-1);
  const bestShown = epochPoints.find((p) => p.epoch === bestEpoch);
  return (
    <figure
      aria-label={label}
      className="chart"
      data-points={drawn.points}
      data-best-epoch={bestShown ? bestShown.epoch + 1 : ''}
    >
      <figcaption>{label}</figcaption>
      <div ref={element} className="chart__area" />
      <ul className="chart__legend">
        {Object.entries(COLOURS).map(([name, colour]) => (
          <li key={name}>
            <span className="chart__swatch" style={{ background: colour }} aria-hidden="true" />
            {name}
          </li>
        ))}
      </ul>
      <p className="chart__numbers" id={numbersId}>
        {failure
          ? `This chart could not be drawn: ${failure}`
          : batchPoints.length === 0
            ? 'Curves appear with the first batch.'
            : curveText(metric, drawn.last, lastEpoch, batchPoints.length)}
      </p>
    </figure>
  );
}

/** The chart's latest numbers in words, for readers who cannot see it. */
function curveText(
  metric: Metric,
  last: CurvePoint | null,
  epoch: TrainingView['epochPoints'][number] | undefined,
  batches: number,
): string {
  const parts: string[] = [];
  if (last) parts.push(`Batch ${batches}: ${metric} ${last.value.toFixed(4)} (smoothed ${last.smoothed.toFixed(4)}).`);
  if (epoch)
    parts.push(
      `Validation after epoch ${epoch.epoch + 1}: ${(metric === 'loss' ? epoch.valLoss : epoch.valAccuracy).toFixed(4)}.`,
    );
  return parts.join(' ');
}
