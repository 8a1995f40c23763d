import type { LoadProgress, LoadStats } from '../../data/types';
import { formatDuration } from '../../core/formatUnits';

/** Below this, a rate is mostly start-up noise (worker start, first decode): no rate or time left is shown. */
const MIN_ELAPSED_MS = 750;

export interface LoadRate {
  imagesPerSecond: number;
  megabytesPerSecond: number;
  /** Seconds left at the rate so far; null before there is a rate. */
  etaSeconds: number | null;
}

/** Rate and time left of the decoding phase; null while listing or too early to say. */
export function loadRate(progress: LoadProgress): LoadRate | null {
  if (progress.phase !== 'decoding' || progress.elapsedMs < MIN_ELAPSED_MS || progress.done === 0) return null;
  const seconds = progress.elapsedMs / 1000;
  const imagesPerSecond = progress.done / seconds;
  return {
    imagesPerSecond,
    megabytesPerSecond: progress.bytesRead / 1e6 / seconds,
    etaSeconds: (progress.total - progress.done) / imagesPerSecond,
  };
}

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count with thousands separators: 17,582. */
export function formatCount(n: number): string {
  return whole.format(n);
}
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** e.g. "1.9 GB", "35 MB", "800 kB" (decimal units, as file managers show archive sizes). */
export function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${oneDecimal.format(bytes / 1e9)} GB`;
  if (bytes >= 1e6) return `${whole.format(bytes / 1e6)} MB`;
  return `${whole.format(bytes / 1e3)} kB`;
}

/** Short times with a tenth of a second ("0.6 s"), longer ones as formatDuration says them. */
function formatSeconds(seconds: number): string {
  return seconds < 10 ? `${oneDecimal.format(seconds)} s` : formatDuration(seconds);
}

/** One sentence on what a load cost, under the dataset summary. */
export function describeLoadStats(stats: LoadStats): string {
  const seconds = stats.decodeMs / 1000;
  const rate =
    seconds > 0
      ? ` (${whole.format(stats.images / seconds)} images/s${stats.sourcePixels > 0 ? `, ${whole.format(stats.sourcePixels / 1e6 / seconds)} megapixels/s` : ''})`
      : '';
  const listed =
    stats.listMs > 0
      ? `; listing ${whole.format(stats.entries)} entries took ${formatSeconds(stats.listMs / 1000)}`
      : '';
  const read = stats.bytesRead > 0 ? ` from ${formatSize(stats.bytesRead)}` : '';
  return `Read and decoded ${whole.format(stats.images)} images${read} in ${formatSeconds(seconds)}${rate}${listed}.`;
}
