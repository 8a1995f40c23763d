/**
 * Calibration: do the probabilities mean what they say? A reliability diagram (predicted probability
 * against the observed share, in equal-width bins), the expected calibration error (ECE), the Brier
 * score, and temperature scaling (one number fitted on validation that softens or sharpens every
 * probability without changing their order). Pure functions, no tfjs.
 */

export interface ReliabilityBin {
  /** The bin covers [low, high) (the last one includes 1). */
  low: number;
  high: number;
  count: number;
  /** Mean predicted probability of the images in the bin (NaN when empty). */
  confidence: number;
  /** Share of them that are positive (NaN when empty). */
  observed: number;
}

export interface Calibration {
  bins: ReliabilityBin[];
  /** Sum over bins of (count / n) * |observed - confidence|; NaN without images. */
  ece: number;
  /** Mean of (p - y)^2, y = 1 for a positive image; NaN without images. */
  brier: number;
}

export const CALIBRATION_BINS = 10;

/** Reliability bins, ECE and Brier score of the probabilities `p` of the positive class. */
export function calibration(
  p: ArrayLike<number>,
  positive: ArrayLike<number>,
  numBins = CALIBRATION_BINS,
): Calibration {
  if (p.length !== positive.length)
    throw new RangeError(`calibration: ${p.length} probabilities but ${positive.length} labels.`);
  const n = p.length;
  const count = new Array<number>(numBins).fill(0);
  const sumP = new Array<number>(numBins).fill(0);
  const sumY = new Array<number>(numBins).fill(0);
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const y = positive[i] ? 1 : 0;
    const bin = Math.min(numBins - 1, Math.max(0, Math.floor(p[i] * numBins)));
    count[bin]++;
    sumP[bin] += p[i];
    sumY[bin] += y;
    squares += (p[i] - y) ** 2;
  }
  const bins = count.map((c, b) => ({
    low: b / numBins,
    high: (b + 1) / numBins,
    count: c,
    confidence: c ? sumP[b] / c : NaN,
    observed: c ? sumY[b] / c : NaN,
  }));
  const ece = n
    ? bins.reduce((sum, b) => sum + (b.count ? (b.count / n) * Math.abs(b.observed - b.confidence) : 0), 0)
    : NaN;
  return { bins, ece, brier: n ? squares / n : NaN };
}

const CLIP = 1e-7;

/** The logits a probability table stands for: logit(p) for one score an image, log(p) for a softmax row. */
function logitsOf(scores: ArrayLike<number>, width: number): Float64Array {
  const clip = (v: number) => Math.min(1 - CLIP, Math.max(CLIP, v));
  return Float64Array.from({ length: scores.length }, (_, i) =>
    width === 1 ? Math.log(clip(scores[i]) / (1 - clip(scores[i]))) : Math.log(clip(scores[i])),
  );
}

/** Scores with temperature `t` applied: sigmoid(logit / t) for one score an image, softmax(log p / t) for rows of `width`. */
export function applyTemperature(scores: ArrayLike<number>, width: number, t: number): Float32Array {
  const z = logitsOf(scores, width);
  const out = new Float32Array(scores.length);
  if (width === 1) {
    for (let i = 0; i < z.length; i++) out[i] = 1 / (1 + Math.exp(-z[i] / t));
    return out;
  }
  for (let row = 0; row < z.length; row += width) {
    let max = -Infinity;
    for (let c = 0; c < width; c++) max = Math.max(max, z[row + c] / t);
    let sum = 0;
    for (let c = 0; c < width; c++) sum += Math.exp(z[row + c] / t - max);
    for (let c = 0; c < width; c++) out[row + c] = Math.exp(z[row + c] / t - max) / sum;
  }
  return out;
}

/** Mean cross-entropy of the labels under temperature `t`. */
export function temperatureLoss(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  width: number,
  t: number,
): number {
  const p = applyTemperature(scores, width, t);
  let loss = 0;
  for (let i = 0; i < labels.length; i++) {
    const q = width === 1 ? (labels[i] === 1 ? p[i] : 1 - p[i]) : p[i * width + labels[i]];
    loss -= Math.log(Math.max(CLIP, q));
  }
  return loss / labels.length;
}

/**
 * The temperature (0.05..20) that minimises the cross-entropy of `labels` (golden-section search on
 * log t; the loss is smooth and, in practice, has one minimum there). 1 without images.
 */
export function fitTemperature(scores: ArrayLike<number>, labels: ArrayLike<number>, width: number): number {
  if (labels.length === 0) return 1;
  const f = (logT: number) => temperatureLoss(scores, labels, width, Math.exp(logT));
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(0.05);
  let b = Math.log(20);
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let k = 0; k < 60; k++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}
