/** The page's words for the out-of-distribution judgement (eval/outOfDistribution.ts), shared by Predict and Results. */
import { RECIPE_ROWS } from '../../core/recipeRows';
import { IMAGE_DETAIL_LAYER, type OodJudgement } from '../../core/types';
import { countUnlike } from '../../eval/outOfDistribution';

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

/** What judged `judgement`: several layers (Lee et al.'s feature ensemble), or the last hidden layer alone. */
function featuresText(judgement: Pick<OodJudgement, 'layers'> | null): string {
  const layers = judgement?.layers ?? [];
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
