/**
 * The `Transform` kernel (tf.image.transform) for tfjs' cpu backend. The one shipped with
 * tfjs-backend-cpu 4.22 returns after the first image of the batch: every other image comes back
 * filled with `fillValue`. This is the same computation (TensorFlow's image_ops.h, as the shipped
 * kernel, the webgl shader and the wasm kernel do it) for every image. Registered by
 * registerFastCpuKernels (cpuKernels.ts).
 */
import * as tf from '@tensorflow/tfjs';

/** What our cpu kernels use of tfjs' cpu backend. */
export interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

interface TransformAttrs {
  interpolation: 'nearest' | 'bilinear';
  fillMode: 'constant' | 'reflect' | 'wrap' | 'nearest';
  fillValue: number;
  outputShape?: [number, number] | null;
}

export function cpuTransform(args: {
  inputs: { image: tf.TensorInfo; transforms: tf.TensorInfo };
  backend: CpuBackendLike;
  attrs: TransformAttrs;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { image, transforms } = inputs;
  const { interpolation, fillMode, fillValue, outputShape } = attrs;
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw new Error(`Error in Transform: Expect 'nearest' or 'bilinear', but got ${String(interpolation)}`);
  }
  const [batch, height, width, channels] = image.shape;
  const [outHeight, outWidth] = outputShape ?? [height, width];
  const outShape = [batch, outHeight, outWidth, channels];
  const values = backend.data.get(image.dataId).values as tf.TypedArray;
  const matrices = backend.data.get(transforms.dataId).values as tf.TypedArray;
  const out = tf.util.getTypedArrayFromDType(image.dtype as 'float32', batch * outHeight * outWidth * channels);
  out.fill(fillValue);
  const shared = transforms.shape[0] === 1;

  const read = (b: number, y: number, x: number, c: number): number =>
    y >= 0 && y < height && x >= 0 && x < width ? values[((b * height + y) * width + x) * channels + c] : fillValue;

  for (let b = 0; b < batch; b++) {
    const t = shared ? matrices : matrices.subarray(b * 8, b * 8 + 8);
    for (let outY = 0; outY < outHeight; outY++) {
      for (let outX = 0; outX < outWidth; outX++) {
        const projection = t[6] * outX + t[7] * outY + 1;
        // Infinite coordinates are outside the image: the fill value stays.
        if (projection === 0) continue;
        const x = mapCoord((t[0] * outX + t[1] * outY + t[2]) / projection, width, fillMode);
        const y = mapCoord((t[3] * outX + t[4] * outY + t[5]) / projection, height, fillMode);
        const base = ((b * outHeight + outY) * outWidth + outX) * channels;
        for (let c = 0; c < channels; c++) {
          if (interpolation === 'nearest') {
            out[base + c] = read(b, Math.round(y), Math.round(x), c);
            continue;
          }
          const y0 = Math.floor(y);
          const x0 = Math.floor(x);
          const top = (x0 + 1 - x) * read(b, y0, x0, c) + (x - x0) * read(b, y0, x0 + 1, c);
          const bottom = (x0 + 1 - x) * read(b, y0 + 1, x0, c) + (x - x0) * read(b, y0 + 1, x0 + 1, c);
          out[base + c] = (y0 + 1 - y) * top + (y - y0) * bottom;
        }
      }
    }
  }
  return backend.makeTensorInfo(outShape, image.dtype, out);
}

const clamp = (value: number, length: number) => Math.min(Math.max(value, 0), length - 1);

/** Where a coordinate outside the image reads from, for each fill mode (as tfjs and TensorFlow do it). */
function mapCoord(coord: number, length: number, mode: TransformAttrs['fillMode']): number {
  switch (mode) {
    case 'nearest':
      return clamp(coord, length);
    case 'reflect': {
      // [abcd] -> [dcba|abcd|dcba]
      let c = coord;
      if (length <= 1) return 0;
      const period = 2 * length;
      if (c < 0) {
        if (c < period) c = period * Math.trunc(-c / period) + c;
        c = c < -length ? c + period : -c - 1;
      } else if (c > length - 1) {
        c -= period * Math.trunc(c / period);
        if (c >= length) c = period - c - 1;
      }
      return clamp(c, length);
    }
    case 'wrap': {
      // [abcd] -> [abcd|abcd|abcd]
      let c = coord;
      if (length <= 1) return 0;
      if (c < 0) c += length * (Math.trunc(-c / (length - 1)) + 1);
      else if (c > length - 1) c -= length * Math.trunc(c / (length - 1));
      return clamp(c, length);
    }
    default:
      return coord;
  }
}
