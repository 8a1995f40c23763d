/** The attributes tfjs passes to the convolution gradient kernels, and their geometry, shared by our cpu and wasm kernels. */
import * as tf from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];
export type ConvPad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: ConvPad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Conv2DBackpropFilter's attributes. */
export interface FilterGradAttrs extends ConvGradAttrs {
  filterShape: Shape4;
}

/** Conv2DBackpropInput's attributes. */
export interface InputGradAttrs extends ConvGradAttrs {
  inputShape: Shape4;
}

/** Output size, padding and strides of an NHWC convolution (dilation 1), as tfjs computes them. */
export function nhwcConvInfo(
  inputShape: number[],
  filterShape: Shape4,
  attrs: ConvGradAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape as Shape4,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}
