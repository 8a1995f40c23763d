/** How the Results write numbers: 4 decimals for a figure, 3 for an interval's ends, `n/a` when undefined. */
import type { Interval } from '../../eval/bootstrap';

export const fmt = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(4));

/** " (0.885–0.936)", or "" without an interval (the figure stays the first number in its cell). */
export function fmtInterval(interval: Interval | null | undefined): string {
  if (!interval || interval.some(Number.isNaN)) return '';
  return ` (${interval[0].toFixed(3)}–${interval[1].toFixed(3)})`;
}

/** A threshold with enough digits to tell a chosen one apart: 0.5, 0.371, 0.0042. */
export const fmtThreshold = (t: number) => String(Number(t.toPrecision(3)));

/**
 * The threshold beside its slider: a slider step (0.01) with two decimals (`0.90`), a chosen threshold between steps
 * as the reported sentence gives it (`0.925`, not `0.92`).
 */
export const fmtSliderThreshold = (t: number) =>
  Math.abs(t * 100 - Math.round(t * 100)) < 1e-6 ? t.toFixed(2) : fmtThreshold(t);
