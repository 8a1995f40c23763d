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
