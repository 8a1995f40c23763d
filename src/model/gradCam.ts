/**
 * Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
 * Localization", 2017): where in an image a trained CNN found the evidence for a class.
 *
 * A is the output of the last convolution block's activation (the tutorial CNN: the last Conv2D with
 * its ReLU; the batchnorm CNN: the last ReLU layer, i.e. just before the last max-pool). y^c is the
 * class's score before the output nonlinearity: the logit z for class 1 and -z for class 0 under a
 * one-unit sigmoid, the pre-softmax logit of class c under a softmax. Each channel k of A gets the
 * weight alpha_k = mean over (i, j) of dy^c / dA_k(i, j); the map is ReLU(sum_k alpha_k A_k), divided
 * by its maximum (all zeros when that is 0), one map per image.
 *
 * Computed in inference mode (Dropout off, BatchNormalization with its moving statistics), so an image
 * always gets the same map whatever else is in the batch. Works on any chain of layers of the shape
 * [convolution blocks (4-D outputs)] → [flatten or global pooling, dense layers] → one output layer
 * (Dense with sigmoid (1 unit) or softmax, or such a Dense/any layer followed by an Activation layer
 * with sigmoid/softmax); the layers are found by structure, not by name, except an ensemble's last averaging layer
 * (ensemble.ts), whose map is that of the members' mean P(class 1).
 *
 * Pure tfjs (no DOM). Painting a map (upsampling, colours) is ui/predict/heatmap.ts: plain arithmetic the page uses too.
 */
import * as tf from '@tensorflow/tfjs';
import { ENSEMBLE_AVERAGE_LAYER } from './cnn';

export interface GradCamResult {
  /** N maps of side x side, row-major, image after image; each scaled to 0..1 (divided by its max; all zeros when the max is 0). */
  maps: Float32Array;
  /** Side of a map: the side of A, the last convolution block's activation (e.g. 16 at 150 px, 4 at 48 px, 3 at 40 px). */
  side: number;
  /** N x numClasses probabilities, as the model outputs them in inference mode (a one-unit sigmoid becomes [1 - p, p]). */
  scores: Float32Array;
  numClasses: number;
  /** The class each map explains, per image. */
  classes: Int32Array;
  /** Name of the layer whose output is A (e.g. `conv2d_4`, `re_lu_4`). */
  layer: string;
}

export interface GradCamOptions {
  /**
   * For `classIndex: 'predicted'` on a one-unit sigmoid model: class 1 when P(class 1) >= threshold
   * (0.5 unless the app chose another decision threshold). Ignored for softmax models (argmax).
   */
  threshold?: number;
}

/** Which class to explain: one for every image, the model's own decision per image, or one per image. */
export type GradCamClass = number | 'predicted' | ArrayLike<number>;

type Layer = tf.layers.Layer;

/** Layers between A and the flatten that Grad-CAM looks through: pooling (and dropout, a no-op at inference). */
const SKIPPED_BEFORE_HEAD = /Pooling|Dropout/;
/** What counts as a convolution layer. */
const CONVOLUTION = /^(Conv2D|SeparableConv2D|DepthwiseConv2D|Conv2DTranspose)$/;

interface Plan {
  /** Input → A. */
  body: Layer[];
  /** A → the output layer's input (or, for a trailing Activation layer, its input: the logits). */
  head: Layer[];
  /** The output Dense, whose kernel and bias are applied here without its nonlinearity; null when a trailing Activation layer is dropped instead. */
  output: Layer | null;
  /**
   * An ensemble saved as one model (ensemble.ts): the fixed layer after the output layer that averages its members'
   * P(class 1); then the map explains that mean (its gradient), not a logit. Null for any other model.
   */
  average: Layer | null;
  activation: 'sigmoid' | 'softmax';
  numClasses: number;
  layer: string;
}

function outputRank(layer: Layer): number {
  const shape = layer.outputShape;
  if (shape.length > 0 && Array.isArray(shape[0]))
    throw new Error(`Grad-CAM needs single-output layers; "${layer.name}" has several outputs.`);
  return shape.length;
}

/** Splits `model` into the layers up to A, the rest of the head and its output layer; throws, saying why, when it cannot. */
function planOf(model: tf.LayersModel): Plan {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(
      `Grad-CAM needs a model with one input and one output (this one has ${model.inputs.length} and ${model.outputs.length}).`,
    );
  }
  let layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  // A chain: each layer takes exactly the previous layer's output (a Sequential always does).
  layers.forEach((layer, i) => {
    const node = layer.inboundNodes[0];
    const inbound = node?.inboundLayers ?? [];
    const chained =
      i === 0
        ? inbound.every((l) => l.getClassName() === 'InputLayer')
        : inbound.length === 1 && inbound[0] === layers[i - 1];
    if (layer.inboundNodes.length !== 1 || !chained) {
      throw new Error(
        `Grad-CAM needs a plain chain of layers (a Sequential model); layer "${layer.name}" does not just follow the one before it.`,
      );
    }
  });
  const firstFlat = layers.findIndex((l) => outputRank(l) !== 4);
  let a = (firstFlat === -1 ? layers.length : firstFlat) - 1;
  while (a >= 0 && SKIPPED_BEFORE_HEAD.test(layers[a].getClassName())) a--;
  if (a < 0 || !layers.slice(0, a + 1).some((l) => CONVOLUTION.test(l.getClassName()))) {
    throw new Error(
      'Grad-CAM needs a convolutional network: this model has no convolution layer (Conv2D) with 4-D outputs before its classifier head.',
    );
  }
  if (firstFlat === -1) {
    throw new Error(
      'Grad-CAM needs a classifier head (flatten or global pooling, then dense layers) after the convolutions; this model ends on a 4-D output.',
    );
  }

  const average = layers[layers.length - 1].name === ENSEMBLE_AVERAGE_LAYER ? layers[layers.length - 1] : null;
  if (average) layers = layers.slice(0, -1);
  const last = layers[layers.length - 1];
  const config = last.getConfig();
  const activation = String(config.activation ?? '');
  if (activation !== 'sigmoid' && activation !== 'softmax') {
    throw new Error(
      `Grad-CAM needs a sigmoid or softmax output; the last layer "${last.name}" has activation "${activation || 'none'}".`,
    );
  }
  let output: Layer | null;
  let head: Layer[];
  if (last.getClassName() === 'Activation') {
    output = null;
    head = layers.slice(a + 1, layers.length - 1);
  } else if (last.getClassName() === 'Dense') {
    output = last;
    head = layers.slice(a + 1, layers.length - 1);
  } else {
    throw new Error(
      `Grad-CAM needs the model to end in a Dense or Activation layer; it ends in "${last.name}" (${last.getClassName()}).`,
    );
  }
  const units = average ? 1 : Number((model.outputs[0].shape as (number | null)[]).at(-1));
  if (activation === 'sigmoid' && units !== 1) {
    throw new Error(
      `Grad-CAM reads a sigmoid output as one unit, P(class 1); "${last.name}" has ${units} (multi-label outputs are not supported).`,
    );
  }
  return {
    body: layers.slice(0, a + 1),
    head,
    output,
    average,
    activation,
    numClasses: activation === 'sigmoid' ? 2 : units,
    layer: layers[a].name,
  };
}

function applyAll(layers: Layer[], x: tf.Tensor): tf.Tensor {
  return layers.reduce((t, layer) => layer.apply(t, { training: false }) as tf.Tensor, x);
}

/** The output layer's scores before its nonlinearity: [N, 1] (the logit z) for a sigmoid, [N, K] for a softmax. */
function logitsOf(plan: Plan, a: tf.Tensor): tf.Tensor2D {
  const x = applyAll(plan.head, a);
  if (plan.output === null) return x as tf.Tensor2D;
  if (x.rank !== 2)
    throw new Error(`Grad-CAM needs a 2-D input to the output layer "${plan.output.name}" (got rank ${x.rank}).`);
  const [kernel, bias] = plan.output.getWeights();
  const z = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  return (bias === undefined ? z : tf.add(z, bias)) as tf.Tensor2D;
}

/** What the map explains: the logits, or for an ensemble the mean of its members' P(class 1) ([N, 1]). */
function explainedOf(plan: Plan, a: tf.Tensor): tf.Tensor2D {
  const logits = logitsOf(plan, a);
  return plan.average ? tf.matMul(tf.sigmoid(logits), plan.average.getWeights()[0] as tf.Tensor2D) : logits;
}

/** The class to explain for each image; `threshold` is used only for a one-unit sigmoid output (`binary`). */
function classesOf(
  classIndex: GradCamClass,
  probabilities: Float32Array,
  n: number,
  numClasses: number,
  binary: boolean,
  threshold: number,
): Int32Array {
  const classes = new Int32Array(n);
  if (classIndex === 'predicted') {
    for (let i = 0; i < n; i++) {
      if (binary) {
        classes[i] = probabilities[i * 2 + 1] >= threshold ? 1 : 0;
      } else {
        let best = 0;
        for (let c = 1; c < numClasses; c++)
          if (probabilities[i * numClasses + c] > probabilities[i * numClasses + best]) best = c;
        classes[i] = best;
      }
    }
    return classes;
  }
  const given = typeof classIndex === 'number' ? null : classIndex;
  if (given !== null && given.length !== n)
    throw new Error(`Grad-CAM got ${given.length} class indices for ${n} images.`);
  for (let i = 0; i < n; i++) {
    const c = given === null ? (classIndex as number) : given[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new Error(`Grad-CAM class index must be a whole number from 0 to ${numClasses - 1} (got ${c}).`);
    }
    classes[i] = c;
  }
  return classes;
}

/**
 * Grad-CAM maps of `images` ([N, size, size, channels], as the model takes them) for `classIndex`:
 * one class for all, `'predicted'` (argmax; P(class 1) >= `threshold` for a sigmoid model), or one
 * class per image. Synchronous (reads the results with dataSync; in the worker that blocks only the
 * worker). Frees every tensor it makes; the caller keeps `images`.
 */
export function gradCam(
  model: tf.LayersModel,
  images: tf.Tensor4D,
  classIndex: GradCamClass,
  options: GradCamOptions = {},
): GradCamResult {
  const plan = planOf(model);
  const expected = model.inputs[0].shape;
  if (images.rank !== 4 || images.shape.slice(1).some((d, i) => expected[i + 1] !== null && expected[i + 1] !== d)) {
    throw new Error(
      `Grad-CAM images must be [N, ${expected.slice(1).join(', ')}] like the model's input (got [${images.shape.join(', ')}]).`,
    );
  }
  const n = images.shape[0];
  const { numClasses } = plan;
  return tf.tidy(() => {
    const a = applyAll(plan.body, images) as tf.Tensor4D;
    const [, h, w] = a.shape;
    if (h !== w) throw new Error(`Grad-CAM expects square activations (got ${h}x${w} from "${plan.layer}").`);
    const explained = explainedOf(plan, a);
    const positive = plan.average ? explained : tf.sigmoid(explained);
    const probabilities =
      plan.activation === 'sigmoid' ? tf.concat([tf.sub(1, positive), positive], 1) : tf.softmax(explained);
    const scores = new Float32Array(probabilities.dataSync());
    const classes = classesOf(
      classIndex,
      scores,
      n,
      numClasses,
      plan.activation === 'sigmoid',
      options.threshold ?? 0.5,
    );
    // y = sum over images of y^{c_n}: images do not interact at inference, so dy/dA holds each image's own dy^c/dA.
    const select =
      plan.activation === 'sigmoid'
        ? tf.tensor2d(
            Float32Array.from(classes, (c) => (c === 1 ? 1 : -1)),
            [n, 1],
          )
        : tf.cast(tf.oneHot(tf.tensor1d(classes, 'int32'), numClasses), 'float32');
    const gradient = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(explainedOf(plan, x), select)) as tf.Scalar)(a);
    const alpha = tf.mean(gradient, [1, 2], true); // [N, 1, 1, K]
    const cam = tf.relu(tf.sum(tf.mul(alpha, a), 3)); // [N, h, w]
    const maps = tf.divNoNan(cam, tf.max(cam, [1, 2], true));
    return { maps: new Float32Array(maps.dataSync()), side: h, scores, numClasses, classes, layer: plan.layer };
  });
}
