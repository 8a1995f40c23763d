/**
 * Why an image was judged unlike the training data: which member of the feature ensemble (featureEnsemble.ts) its
 * score owes most to, and, when that is the image's detail, whether the image has less or more fine detail than the
 * training films. Each member's distance is in units of its own median on validation, so the largest part is the
 * member on which the image is most unusual. Pure arithmetic; the words are ui/common/oodText.ts'.
 */
import { IMAGE_DETAIL_LAYER, type OodJudgement } from '../core/types';

/** The member an image's score owes most to. */
export type UnlikeReason =
  /** The image's fine detail; `ratio` is its detail over the nearest training class's (below 1: softer). */
  | { kind: 'detail'; ratio: number; share: number }
  /** A layer of the network; `early` when it is in the first half of the model's layers the detector reads. */
  | { kind: 'layer'; layer: string; early: boolean; share: number };

/** True when the judgement carries well-formed parts for its `n` images (a stored run is outside input). */
function hasParts(judgement: OodJudgement): judgement is OodJudgement & { parts: Float32Array; layers: string[] } {
  const n = judgement.distances.length;
  const layers = judgement.layers;
  return (
    Array.isArray(layers) &&
    layers.length > 1 &&
    layers.every((name) => typeof name === 'string') &&
    judgement.parts instanceof Float32Array &&
    judgement.parts.length === n * layers.length
  );
}

/**
 * The member image `index`'s score owes most to, and its share of the score; null when the judgement cannot say
 * (one layer only, a judgement kept before parts were, or malformed).
 */
export function unlikeReasonOf(judgement: OodJudgement, index: number): UnlikeReason | null {
  if (!hasParts(judgement) || index < 0 || index >= judgement.distances.length) return null;
  const { layers, parts } = judgement;
  const row = parts.subarray(index * layers.length, (index + 1) * layers.length);
  let best = 0;
  let total = 0;
  for (let l = 0; l < row.length; l++) {
    total += row[l];
    if (row[l] > row[best]) best = l;
  }
  if (!(total > 0) || !Number.isFinite(total)) return null;
  const share = row[best] / total;
  if (layers[best] === IMAGE_DETAIL_LAYER) {
    const ratio = judgement.detailRatio?.length === judgement.distances.length ? judgement.detailRatio[index] : NaN;
    return Number.isFinite(ratio) && ratio > 0 ? { kind: 'detail', ratio, share } : null;
  }
  const modelLayers = layers.filter((name) => name !== IMAGE_DETAIL_LAYER);
  const position = modelLayers.indexOf(layers[best]);
  return { kind: 'layer', layer: layers[best], early: position < Math.floor(modelLayers.length / 2), share };
}

/** How the flagged images of a judgement divide by the member their scores owe most to. */
export interface UnlikeReasonCounts {
  /** Flagged with less fine detail than the training films. */
  softer: number;
  /** Flagged with more fine detail than the training films. */
  sharper: number;
  /** Flagged mostly by the first half of the network's layers the detector reads. */
  earlyLayers: number;
  /** Flagged mostly by the rest. */
  laterLayers: number;
  /** Flagged, but the judgement cannot say why. */
  unknown: number;
}

export function unlikeReasonCounts(judgement: OodJudgement): UnlikeReasonCounts {
  const counts: UnlikeReasonCounts = { softer: 0, sharper: 0, earlyLayers: 0, laterLayers: 0, unknown: 0 };
  judgement.distances.forEach((distance, index) => {
    if (!(distance > judgement.threshold)) return;
    const reason = unlikeReasonOf(judgement, index);
    if (!reason) counts.unknown++;
    else if (reason.kind === 'detail') counts[reason.ratio < 1 ? 'softer' : 'sharper']++;
    else counts[reason.early ? 'earlyLayers' : 'laterLayers']++;
  });
  return counts;
}
