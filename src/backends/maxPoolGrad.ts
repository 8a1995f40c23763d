import * as tf from '@tensorflow/tfjs';

/** MaxPoolGrad's attributes, as both backends receive them. */
export interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The pooling geometry of an NHWC input under these attributes. */
export function poolInfoOf(inputShape: readonly number[], attrs: MaxPoolGradAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    inputShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/**
 * The max-pool gradient for any window, stride and padding, NHWC, shared by the cpu and wasm kernels:
 * each output's gradient goes to the first maximum of its window in row-major order (strictly above
 * −∞; padding is never chosen), as tfjs' own kernels do; overlapping windows add up where they choose
 * the same element. `dx` is zeroed first; a Float64Array accumulates overlaps as the cpu backend does.
 */
export function maxPoolGradAnyWindow(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array | Float64Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: c,
    outHeight,
    outWidth,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  dx.fill(0);
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const r0 = oh * strideHeight - top;
      const rStart = Math.max(0, r0);
      const rEnd = Math.min(inHeight, r0 + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const c0 = ow * strideWidth - left;
        const cStart = Math.max(0, c0);
        const cEnd = Math.min(inWidth, c0 + filterWidth);
        for (let d = 0; d < c; d++, o++) {
          let best = -1;
          let max = -Infinity;
          for (let r = rStart; r < rEnd; r++) {
            for (let col = cStart, i = ((n * inHeight + r) * inWidth + cStart) * c + d; col < cEnd; col++, i += c) {
              const v = x[i];
              if (v > max) {
                max = v;
                best = i;
              }
            }
          }
          if (best >= 0) dx[best] += dy[o];
        }
      }
    }
  }
}
