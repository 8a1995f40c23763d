/** The page's words for the out-of-distribution judgement (eval/outOfDistribution.ts), shared by Predict and Results. */
import { RECIPE_ROWS } from '../../core/recipeRows';
import { IMAGE_DETAIL_LAYER, type OodJudgement } from '../../core/types';
import { countUnlike } from '../../eval/outOfDistribution';
import { unlikeReasonCounts, unlikeReasonOf, type UnlikeReason } from '../../eval/oodReasons';

/**
 * The detector that read `layers`: its name as the `Unlike-training detector` field gives it, whether the image's
 * detail was one of its members, and the model's layers among them (the detail left out).
 */
export function judgingDetector(layers: readonly string[]): { name: string; detail: boolean; modelLayers: string[] } {
  const detail = layers.includes(IMAGE_DETAIL_LAYER);
  const choice = layers.length <= 1 ? 'last' : detail ? 'detail' : 'layers';
  return {
    name: RECIPE_ROWS.ood.text[choice],
    detail,
    modelLayers: layers.filter((name) => name !== IMAGE_DETAIL_LAYER),
  };
}

/** The judgement's layer names when it records them (a stored run is outside input: strings only); else null. */
export function recordedLayers(judgement: Pick<OodJudgement, 'layers'> | null): string[] | null {
  const layers: unknown = judgement?.layers;
  return Array.isArray(layers) ? layers.filter((name): name is string => typeof name === 'string') : null;
}

/** What judged `judgement`: several layers (Lee et al.'s feature ensemble), or the last hidden layer alone. */
function featuresText(judgement: Pick<OodJudgement, 'layers'> | null): string {
  const recorded = recordedLayers(judgement);
  // Runs kept by earlier versions did not record their detector's layers in the Results' scores.
  if (judgement && !recorded)
    return "the model's features for it (which detector judged is not recorded with this run)";
  const layers = recorded ?? [];
  const { name, detail, modelLayers } = judgingDetector(layers);
  if (layers.length > 1) {
    // Layer names come from a model file or storage: shown as text, and only so many.
    const names = modelLayers.slice(0, 8).map((layer) => layer.slice(0, 40));
    const withDetail = detail ? ", and the image's fine detail at four scales" : '';
    return (
      `the model's features for it, summed over several layers (detector: ${name}: ${names.join(', ')}` +
      `${withDetail}; each map averaged over space, each layer's distance in units of its median on validation),`
    );
  }
  return `the model's features for it (detector: ${name}: the Dense layer before the output)`;
}

/** How an image is judged, and how the cut was set, for a model whose detector flags `1 - quantile` of validation. */
export function oodMethodText(judgement: Pick<OodJudgement, 'layers'> | null = null, quantile = 0.95): string {
  const percent = Math.round((1 - quantile) * 100);
  return (
    `An image is unlike the training data when ${featuresText(judgement)} are ` +
    `farther from every class of training images than those of all but ${percent}% of validation images ` +
    `(Mahalanobis distance to the nearest class, Lee et al. 2018): about ${percent}% of validation images are flagged by design. ` +
    'The model has no grounds for its prediction on such an image: check it by eye.'
  );
}

/** `K of N images are unlike the training data (S%).` for one judged set (the contract's words, whatever K is). */
export function unlikeSentence(judgement: OodJudgement): string {
  const flagged = countUnlike(judgement);
  const total = judgement.distances.length;
  const share = total > 0 ? ` (${((100 * flagged) / total).toFixed(1)}%)` : '';
  return `${flagged} of ${total} images are unlike the training data${share}.`;
}

/** Said where a model carries no detector (a model from an older version, or from another program). */
export const NO_OOD_TEXT =
  'This model carries no statistics of its training images, so whether an image is unlike them cannot be judged: ' +
  'models trained here (or downloaded from this version) carry them.';

/** What a flagged image's score owes most to, in words (eval/oodReasons.ts), e.g. for Predict's enlarged image. */
export function unlikeReasonText(reason: UnlikeReason): string {
  if (reason.kind === 'detail') {
    const times = `${reason.ratio.toPrecision(2)} times theirs`;
    return reason.ratio < 1
      ? `less fine detail than the training films (${times}): blurred, lower resolution or processed more softly`
      : `more fine detail than the training films (${times}): sharper processing, noise or grain`;
  }
  // A layer's name comes from a model file or storage: shown as text, and only so much of it.
  const layer = reason.layer.slice(0, 40);
  return reason.early
    ? `the network's early layers (${layer}: intensity and texture)`
    : `the network's later layers (${layer}: shapes and content)`;
}

/** `Unlike the training data, most of all by …` for one flagged image; null when the judgement cannot say. */
export function unlikeWhySentence(judgement: OodJudgement, index: number): string | null {
  const reason = unlikeReasonOf(judgement, index);
  if (!reason) return null;
  return `Unlike the training data, most of all by ${unlikeReasonText(reason)}: ${Math.round(100 * reason.share)}% of its score.`;
}

/** How the flagged images divide by what their scores owe most to; empty when none is flagged or none can say. */
export function unlikeReasonsSentence(judgement: OodJudgement): string {
  const counts = unlikeReasonCounts(judgement);
  const items = [
    [counts.softer, 'less fine detail than the training films (blurred, lower resolution, softer processing)'],
    [counts.sharper, 'more fine detail (sharper processing, noise, grain)'],
    [counts.earlyLayers, "the network's early layers (intensity and texture)"],
    [counts.laterLayers, 'its later layers (shapes and content)'],
  ] as const;
  const said = items.filter(([count]) => count > 0).map(([count, what]) => `${what}: ${count}`);
  return said.length > 0 ? `Flagged most of all by ${said.join('; ')}.` : '';
}
