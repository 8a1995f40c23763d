/**
 * How much fine detail an image has, at four scales: a member of the out-of-distribution detector's feature ensemble
 * (docs/out-of-distribution.md). The network decides partly by sharpness (docs/benchmarks.md: blur, a lower
 * resolution or a tighter frame make it call normal films pneumonia), and its pooled features barely move under those
 * shifts; these four numbers do. For each octave k = 0..3 of the model's input (grey / 255, before any normalisation
 * inside the model; several channels averaged first): ln(mean |Laplacian| + 1e-4), the Laplacian the 3x3 kernel
 * of core/imageDetailSpec.ts over the pixels it covers whole ('valid'), then a 2x2 average (stride 2, an odd last
 * row or column dropped) for the next octave. ONNX (export/onnxFeatures.ts), the Keras snippet and the PyTorch
 * bundle (xray_trainer/ood.py) compute the same.
 */
import * as tf from '@tensorflow/tfjs';
import { DETAIL_EPSILON, DETAIL_OCTAVES, LAPLACIAN, MIN_DETAIL_SIZE } from '../core/imageDetailSpec';

/** [n, DETAIL_OCTAVES] detail of `xs` ([n, h, w, c], the model's input); the caller disposes it. */
export function imageDetail(xs: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    if (xs.rank !== 4) throw new Error(`Image detail needs a batch of images, not a ${xs.rank}-D tensor.`);
    const [, h, w, c] = xs.shape;
    if (Math.min(h!, w!) < MIN_DETAIL_SIZE)
      throw new Error(`Image detail needs images of at least ${MIN_DETAIL_SIZE} pixels a side.`);
    let x = (c === 1 ? xs : tf.mean(xs, 3, true)) as tf.Tensor4D;
    const kernel = tf.tensor4d([...LAPLACIAN], [3, 3, 1, 1]);
    const octaves: tf.Tensor2D[] = [];
    for (let k = 0; k < DETAIL_OCTAVES; k++) {
      if (k > 0) x = tf.avgPool(x, 2, 2, 'valid');
      const edges = tf.abs(tf.conv2d(x, kernel, 1, 'valid'));
      octaves.push(tf.log(tf.add(tf.mean(edges, [1, 2]), DETAIL_EPSILON)) as tf.Tensor2D);
    }
    return tf.concat(octaves, 1);
  });
}
