/**
 * Which evaluated images the model got wrong, worst first, for the `Misclassified images` gallery.
 *
 * "Worst" = the lowest probability given to the image's true class (ties: file order). The page
 * decides the predicted class live (a decision threshold and a positive class for two classes, the
 * most probable class for more), but the worker holds the pixels. So the worker sends the pixels of
 * `misclassifiedCandidates` only: for two classes the `cap` lowest-scored images of class 1 and the
 * `cap` highest-scored of class 0. Whatever the threshold and positive class, the wrong images of a
 * class are those scored below (class 1) or above (class 0) some cut, so the `cap` worst wrong ones
 * are always among these. For more classes the argmax decides and the candidates are the wrong ones.
 */
import type { ScoredResult } from './metrics';

/** At most this many images in the gallery. */
export const GALLERY_CAP = 48;

export interface Misclassified {
  /** Index of the image in the evaluated split. */
  index: number;
  truth: number;
  predicted: number;
  /**
   * Two classes: the probability of the positive class, the score the decision threshold is compared
   * with (as in the predictions table). More classes: the probability of the predicted class.
   */
  score: number;
}

/** The probability of each class for image i (binary results hold P(class 1) only). */
function probability(result: ScoredResult, i: number, c: number): number {
  if (result.numClasses === 2 && result.scores.length === result.labels.length) {
    const s = result.scores[i];
    return c === 1 ? s : 1 - s;
  }
  return result.scores[i * result.numClasses + c];
}

/** P(true class), NaN counted as the worst possible. */
function truthKey(result: ScoredResult, i: number): number {
  const p = probability(result, i, result.labels[i]);
  return Number.isNaN(p) ? -Infinity : p;
}

/** Indices sorted by P(true class) ascending, then by index. */
function worstFirst(result: ScoredResult, indices: number[]): number[] {
  const key = new Map(indices.map((i) => [i, truthKey(result, i)]));
  return indices.sort((a, b) => (key.get(a) as number) - (key.get(b) as number) || a - b);
}

/** The images whose pixels the page needs to draw the gallery at any threshold, in ascending index order. */
export function misclassifiedCandidates(result: ScoredResult, cap = GALLERY_CAP): Uint32Array {
  const n = result.labels.length;
  const all = Array.from({ length: n }, (_, i) => i);
  let picked: number[];
  if (result.numClasses === 2) {
    picked = [0, 1].flatMap((c) =>
      worstFirst(
        result,
        all.filter((i) => result.labels[i] === c),
      ).slice(0, cap),
    );
  } else {
    const wrong = all.filter((i) => argMax(result, i) !== result.labels[i]);
    picked = worstFirst(result, wrong).slice(0, cap);
  }
  return Uint32Array.from(picked.sort((a, b) => a - b));
}

/**
 * The misclassified images under the page's decision (`predicted`, one class an image), worst
 * first, at most `cap`, only among `available` (the candidates whose pixels arrived).
 * `positiveClass` (two classes only) picks the probability given as `score`.
 */
export function misclassifiedAt(
  result: ScoredResult,
  predicted: ArrayLike<number>,
  available: ArrayLike<number>,
  cap = GALLERY_CAP,
  positiveClass = 1,
): Misclassified[] {
  const binary = result.numClasses === 2;
  const wrong = Array.from(available).filter((i) => predicted[i] !== result.labels[i]);
  return worstFirst(result, wrong)
    .slice(0, cap)
    .map((index) => ({
      index,
      truth: result.labels[index],
      predicted: predicted[index],
      score: probability(result, index, binary ? positiveClass : predicted[index]),
    }));
}

function argMax(result: ScoredResult, i: number): number {
  let best = 0;
  for (let c = 1; c < result.numClasses; c++) if (probability(result, i, c) > probability(result, i, best)) best = c;
  return best;
}

/**
 * The images of one confusion-matrix cell (true class `truth`, predicted `predictedAs`, under the page's
 * decision), least confident in their true class first, at most `cap`; `total` counts the whole cell.
 * Their pixels may lie outside the candidates: the page asks the worker for them (`evaluatedImages`).
 */
export function cellImages(
  result: ScoredResult,
  predicted: ArrayLike<number>,
  truth: number,
  predictedAs: number,
  cap = GALLERY_CAP,
  positiveClass = 1,
): { images: Misclassified[]; total: number } {
  const binary = result.numClasses === 2;
  const inCell: number[] = [];
  for (let i = 0; i < result.labels.length; i++)
    if (result.labels[i] === truth && predicted[i] === predictedAs) inCell.push(i);
  const images = worstFirst(result, inCell)
    .slice(0, cap)
    .map((index) => ({
      index,
      truth,
      predicted: predictedAs,
      score: probability(result, index, binary ? positiveClass : predictedAs),
    }));
  return { images, total: inCell.length };
}
