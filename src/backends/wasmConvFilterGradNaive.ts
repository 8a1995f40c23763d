/**
 * A naive Conv2DBackpropFilter for the WASM backend: the baseline of bench:wasm and a reference in tests
 * (wasmKernels.ts registers it on request), never what training runs.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nhwcConvInfo, type FilterGradAttrs } from './convAttrs';
import { f32, type KernelArgs } from './wasmKernelUtil';

/**
 * The filter gradient as a direct loop over the WASM heap (the CPU backend's algorithm). Slow, but
 * the obvious way to fill the gap; kept as the baseline of the benchmark and a reference in tests.
 */
export function conv2DBackpropFilterNaive(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs as unknown as FilterGradAttrs;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  if (attrs.dataFormat === 'NCHW') throw new Error('The naive WASM filter gradient supports NHWC only.');
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } =
    info;
  const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  const out = backend.makeOutput(attrs.filterShape, 'float32');
  const xs = f32(backend, x);
  const dys = f32(backend, dy);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const k = (kh * filterWidth + kw) * inChannels;
      for (let n = 0; n < batchSize; n++) {
        for (let oh = 0; oh < outHeight; oh++) {
          const ih = oh * info.strideHeight + kh - info.padInfo.top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let ow = 0; ow < outWidth; ow++) {
            const iw = ow * info.strideWidth + kw - info.padInfo.left;
            if (iw < 0 || iw >= inWidth) continue;
            const xo = ((n * inHeight + ih) * inWidth + iw) * inChannels;
            const dyo = ((n * outHeight + oh) * outWidth + ow) * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = xs[xo + ci];
              const ko = (k + ci) * outChannels;
              for (let co = 0; co < outChannels; co++) acc[ko + co] += xv * dys[dyo + co];
            }
          }
        }
      }
    }
  }
  f32(backend, out).set(acc);
  return out;
}
