/**
 * The training curve's series, kept cheap to draw however long the run: per-batch values smoothed as
 * TensorBoard smooths them, and a cap on the points drawn, older batches merged first. Pure: no DOM.
 */

/** One drawn training point: epoch axis x, the raw value and the smoothed one (means, when merged). */
export interface CurvePoint {
  x: number;
  value: number;
  smoothed: number;
  /** Batches this point stands for (1 until merged). */
  batches: number;
}

/**
 * TensorBoard's smoothing: an exponential moving average debiased for its start, so the first points
 * are not pulled towards 0. `weight` 0 = no smoothing; 0.6 is TensorBoard's default. Non-finite values
 * pass through and do not enter the average.
 */
export class EmaSmoother {
  private last = 0;
  private count = 0;

  constructor(private readonly weight: number) {
    if (!(weight >= 0 && weight < 1)) throw new RangeError(`Smoothing weight must be in [0, 1), not ${weight}`);
  }

  next(value: number): number {
    if (!Number.isFinite(value)) return value;
    this.last = this.last * this.weight + (1 - this.weight) * value;
    this.count++;
    const debias = 1 - this.weight ** this.count;
    return this.last / debias;
  }
}

export function smoothEma(values: readonly number[], weight: number): number[] {
  const smoother = new EmaSmoother(weight);
  return values.map((v) => smoother.next(v));
}

/** What the chart must do after `add`: insert the new point only, or replace every point (after a merge). */
export type SeriesChange = { kind: 'append'; point: CurvePoint } | { kind: 'reset'; points: readonly CurvePoint[] };

/**
 * At most `cap` points: once over, the older half is merged two by two (means of x, value and smoothed,
 * weighted by batches), so recent batches stay at full resolution and a merge happens once every
 * `cap / 4` or so new points, not at every point.
 */
export class DownsampledSeries {
  private points: CurvePoint[] = [];

  constructor(readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 4) throw new RangeError(`A curve needs a cap of at least 4 points, not ${cap}`);
  }

  get drawn(): readonly CurvePoint[] {
    return this.points;
  }

  /** Raw batches represented by the drawn points. */
  get batches(): number {
    return this.points.reduce((sum, p) => sum + p.batches, 0);
  }

  add(point: CurvePoint): SeriesChange {
    this.points.push(point);
    if (this.points.length <= this.cap) return { kind: 'append', point };
    const half = Math.floor(this.points.length / 2) & ~1;
    const merged: CurvePoint[] = [];
    for (let i = 0; i < half; i += 2) merged.push(mergePoints(this.points[i], this.points[i + 1]));
    this.points = [...merged, ...this.points.slice(half)];
    return { kind: 'reset', points: this.points };
  }
}

function mergePoints(a: CurvePoint, b: CurvePoint): CurvePoint {
  const batches = a.batches + b.batches;
  const mean = (u: number, v: number) => (u * a.batches + v * b.batches) / batches;
  return { x: mean(a.x, b.x), value: mean(a.value, b.value), smoothed: mean(a.smoothed, b.smoothed), batches };
}
