/**
 * What the metrics share: argument checks, safe ratios, score layouts. No TensorFlow, no DOM.
 */
import type { TestResult } from './types';

/** The part of a `TestResult` that the metrics need. */
export type ScoredResult = Pick<TestResult, 'scores' | 'labels' | 'numClasses'>;

export function checkSameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} scores but ${b.length} labels.`);
}

export function checkClass(c: number, numClasses: number, what: string): void {
  if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
    throw new RangeError(`${what}: class ${c} is not in 0..${numClasses - 1}.`);
  }
}

/** a / b, NaN when b is 0. */
export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

/** How many values per image `result.scores` holds: 1 (binary, P(class 1)) or numClasses. */
export function scoreWidth(result: ScoredResult): number {
  const { scores, labels, numClasses } = result;
  if (!Number.isInteger(numClasses) || numClasses < 2)
    throw new RangeError(`numClasses must be a whole number >= 2 (got ${numClasses}).`);
  if (numClasses === 2 && scores.length === labels.length) return 1;
  if (scores.length === labels.length * numClasses) return numClasses;
  throw new RangeError(
    `${scores.length} scores do not fit ${labels.length} images of ${numClasses} classes ` +
      `(expected ${numClasses === 2 ? `${labels.length} or ` : ''}${labels.length * numClasses}).`,
  );
}

export function toPositives(labels: ArrayLike<number>, positiveClass: number): boolean[] {
  const out = new Array<boolean>(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === positiveClass;
  return out;
}

/** Image indices sorted by score, ascending; NaN scores make the caller return NaN / [] instead. */
export function sortedIndices(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  // A typed copy makes the comparator's reads fast for 100k+ images.
  const s = Float64Array.from(scores);
  return order.sort((a, b) => s[a] - s[b]);
}

export function hasNaN(scores: ArrayLike<number>): boolean {
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) return true;
  return false;
}
