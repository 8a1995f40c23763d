/**
 * tfjs-layers' Conv2D, except that a convolution without bias or activation runs as the plain `conv2d` op, and one
 * with a bias and ReLU as one fused kernel in training too, where the backend has it (convBiasRelu.ts says why).
 *
 * Why: tfjs-layers calls `tf.fused.conv2d` with activation `linear`, and tfjs-core fuses a linear convolution even
 * while recording gradients. Its fused gradient is a `customGrad` that computes the input's gradient whatever is
 * asked, so the first layer of the BatchNorm model (bias-free, linear, on the images) computed a gradient with
 * respect to the images that nothing uses (a Conv2DBackpropInput as large as a batch of images, every step).
 * The plain op's gradient is computed only where the tape needs it. Same arithmetic, same weights, same config:
 * it registers under Keras' class name, so saved models and downloads are unchanged, and a model loaded from a
 * file trains the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { convBiasRelu, hasConvBiasRelu } from './convBiasRelu';

type Conv2DArgs = Parameters<typeof tf.layers.conv2d>[0];
type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/** tfjs' own Conv2D class (not exported by name from tfjs-layers' public API). */
const TfjsConv2D = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as new (
  args: Conv2DArgs,
) => tf.layers.Layer;

interface Conv2DFields {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string };
  strides: [number, number];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: [number, number];
}

const isOnes = (pair: [number, number]) => pair[0] === 1 && pair[1] === 1;

/** A stride-1 unpadded channels-last convolution with a bias and ReLU, on a backend with the fused kernel (convBiasRelu.ts). */
function isFusableBiasRelu(layer: Conv2DFields, inputs: tf.Tensor | tf.Tensor[]): boolean {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  return (
    layer.bias !== null &&
    layer.activation.getClassName() === 'relu' &&
    layer.dataFormat === 'channelsLast' &&
    layer.padding === 'valid' &&
    isOnes(layer.strides) &&
    isOnes(layer.dilationRate) &&
    x.rank === 4 &&
    x.dtype === 'float32' &&
    hasConvBiasRelu()
  );
}

export class PlainGradientConv2D extends TfjsConv2D {
  /** Keras' name: the same config in and out, and this class is what tfjs builds for every `Conv2D` it loads. */
  static className = 'Conv2D';

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const layer = this as unknown as Conv2DFields;
    const plain =
      layer.bias === null &&
      layer.activation.getClassName() === 'linear' &&
      layer.dataFormat === 'channelsLast' &&
      layer.padding !== 'causal';
    if (!plain) {
      if (isFusableBiasRelu(layer, inputs)) {
        return tf.tidy(() =>
          convBiasRelu(
            (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D,
            layer.kernel.read() as tf.Tensor4D,
            layer.bias!.read() as tf.Tensor1D,
          ),
        );
      }
      return (TfjsConv2D.prototype as unknown as { call: LayerCall }).call.call(this, inputs, kwargs);
    }
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.conv2d(
        x as tf.Tensor4D,
        layer.kernel.read() as tf.Tensor4D,
        layer.strides,
        layer.padding as 'valid' | 'same',
        'NHWC',
        layer.dilationRate,
      );
    });
  }
}

// fromConfig is inherited from tfjs' Layer (static members are); its type above does not say so.
tf.serialization.registerClass(
  PlainGradientConv2D as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>,
);

/** A Conv2D layer as `tf.layers.conv2d` makes it, with the plain gradient above. */
export function conv2d(args: Conv2DArgs): tf.layers.Layer {
  return new PlainGradientConv2D(args);
}
