/**
 * The model's answers for new images (the page's Predict): scores, and where it looked (Grad-CAM, in
 * inference mode, so an image always gets the same map). A chunk at a time, so no tensor holds them all.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/userError';
import { gradCam } from '../model/gradCam';
import { featuresAndOutputs } from '../model/features';
import { rowWidth } from '../eval/featureEnsemble';
import { judge, oodFeatureLayers } from '../eval/outOfDistribution';
import type { OodDetector } from '../core/types';
import type { Predictions, TrainerRequests } from './protocol';
import { predictWithTta } from './testTimeAugmentation';

/** Images a chunk: Grad-CAM keeps the activations and their gradients of a chunk at once. */
const CHUNK = 16;

/** With `detector`, each image is also judged like the training images or not (ood.ts). */
export async function predictImages(
  model: tf.LayersModel,
  request: TrainerRequests['predict'],
  detector: OodDetector | null = null,
): Promise<Predictions> {
  const { pixels, count, size, explain, threshold, testTimeAugmentation = 'off' } = request;
  const inputShape = model.inputs[0].shape;
  if (inputShape[1] !== size || inputShape[2] !== size) {
    throw new UserError(
      `The model takes ${String(inputShape[1])} x ${String(inputShape[2])} px images, but these were prepared at ${size} px.`,
    );
  }
  if (pixels.length !== count * size * size)
    throw new UserError(`Expected ${count} images of ${size} x ${size} px, got ${pixels.length} bytes.`);
  const units = (model.outputs[0].shape[1] as number | null) ?? 1;
  const width = units === 1 ? 1 : units;
  const scores = new Float32Array(count * width);
  const mapClasses = new Uint8Array(count);
  let maps = new Float32Array(0);
  let mapSide = 0;
  const area = size * size;
  // Either method: the layers the detector reads, pooled and concatenated as it was fitted on.
  const layers = detector ? oodFeatureLayers(detector) : [];
  const featureSize = rowWidth(layers);
  const features = new Float32Array(count * featureSize);

  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    const xs = tf.tidy(
      () =>
        tf
          .tensor4d(pixels.subarray(start * area, (start + n) * area), [n, size, size, 1], 'int32')
          .toFloat()
          .div(255) as tf.Tensor4D,
    );
    try {
      if (explain) {
        const cam = gradCam(model, xs, 'predicted', threshold === null ? {} : { threshold });
        if (maps.length === 0) {
          mapSide = cam.side;
          maps = new Float32Array(count * mapSide * mapSide);
        }
        maps.set(cam.maps, start * mapSide * mapSide);
        for (let i = 0; i < n; i++) {
          mapClasses[start + i] = cam.classes[i];
          // A one-unit sigmoid comes back as [1 - p, p]: keep P(class 1), as every other score here.
          if (width === 1) scores[start + i] = cam.scores[i * cam.numClasses + 1];
          else scores.set(cam.scores.subarray(i * width, (i + 1) * width), (start + i) * width);
        }
      }
      if (detector) {
        const both = featuresAndOutputs(model, layers, xs);
        try {
          features.set(await both.features.data(), start * featureSize);
          if (!explain) scores.set(await both.outputs.data(), start * width);
        } finally {
          tf.dispose([both.features, both.outputs]);
        }
      } else if (!explain) {
        const out = tf.tidy(() => model.predict(xs) as tf.Tensor);
        scores.set(await out.data(), start * width);
        out.dispose();
      }
      if (testTimeAugmentation !== 'off') {
        // The scores as the mean over the views; the map and OOD judgement stay the image's own.
        const averaged = predictWithTta(model, xs, testTimeAugmentation);
        try {
          scores.set(await averaged.data(), start * width);
        } finally {
          averaged.dispose();
        }
      }
      if (!explain)
        for (let i = 0; i < n; i++) mapClasses[start + i] = predictedClass(scores, start + i, width, threshold ?? 0.5);
    } finally {
      xs.dispose();
    }
    // Lets a Stop or another request in between chunks of a large folder.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { scores, mapClasses, maps, mapSide, ood: detector ? judge(detector, features) : null };
}

function predictedClass(scores: Float32Array, index: number, width: number, threshold: number): number {
  if (width === 1) return scores[index] >= threshold ? 1 : 0;
  let best = 0;
  for (let c = 1; c < width; c++) if (scores[index * width + c] > scores[index * width + best]) best = c;
  return best;
}
