/**
 * Faster Conv2DBackpropFilter and MaxPoolGrad for tfjs' pure-JS cpu backend. The shipped kernels
 * read every element through TensorBuffer.get, Conv2DBackpropFilter in a cache-hostile order:
 * one 32-image step of this CNN took ~5 s at 32 px and minutes at 150 px, which made the CPU
 * fallback useless. These walk memory in order (NHWC) and give the same results (same sums in
 * float64, same first-maximum rule). Other layouts and dtypes still go to the shipped kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { nhwcConvInfo, type FilterGradAttrs } from './convAttrs';
import { cpuTransform, type CpuBackendLike } from './cpuTransform';
import { callOriginal, overrideKernels, restoreKernels, type KernelFunc, type KernelOverride } from './kernelOverrides';
import { maxPoolGradAnyWindow, poolInfoOf, type MaxPoolGradAttrs } from './maxPoolGrad';

const BACKEND = 'cpu';

const FAST_CPU_KERNELS: readonly KernelOverride[] = [
  { kernelName: tf.Conv2DBackpropFilter, kernelFunc: conv2dBackpropFilter as unknown as KernelFunc },
  { kernelName: tf.MaxPoolGrad, kernelFunc: maxPoolGrad as unknown as KernelFunc },
  { kernelName: tf.Transform, kernelFunc: cpuTransform as unknown as KernelFunc },
];

/**
 * Swaps in the fast kernels for the cpu backend, and a fixed Transform (cpuTransform.ts); safe to
 * call more than once. The app calls it through TrainingBackends (trainingBackends.ts) only.
 */
export function registerFastCpuKernels(): void {
  // No cpu backend in this bundle: nothing to speed up.
  overrideKernels(BACKEND, FAST_CPU_KERNELS, { ifMissing: 'skip' });
}

/** Puts the cpu backend's shipped kernels back: for tests that compare with them. */
export function unregisterFastCpuKernels(): void {
  restoreKernels(
    BACKEND,
    FAST_CPU_KERNELS.map((k) => k.kernelName),
  );
}

function conv2dBackpropFilter(args: {
  inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
  backend: CpuBackendLike;
  attrs: FilterGradAttrs;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
    return callOriginal(BACKEND, tf.Conv2DBackpropFilter, args);
  }
  const info = nhwcConvInfo(x.shape, attrs.filterShape, attrs);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xs = backend.data.get(x.dataId).values as Float32Array;
  const dys = backend.data.get(dy.dataId).values as Float32Array;

  // dW[fr][fc][ci][co] = Σ over images and output positions of x(input pixel) · dy(output pixel).
  const sums = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      for (let fr = 0; fr < filterHeight; fr++) {
        const xr = yr * strideHeight + fr - top;
        if (xr < 0 || xr >= inHeight) continue;
        for (let yc = 0; yc < outWidth; yc++) {
          const dyOffset = ((b * outHeight + yr) * outWidth + yc) * outChannels;
          for (let fc = 0; fc < filterWidth; fc++) {
            const xc = yc * strideWidth + fc - left;
            if (xc < 0 || xc >= inWidth) continue;
            const xOffset = ((b * inHeight + xr) * inWidth + xc) * inChannels;
            const wOffset = (fr * filterWidth + fc) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xv = xs[xOffset + ci];
              if (xv === 0) continue;
              const row = wOffset + ci * outChannels;
              for (let co = 0; co < outChannels; co++) sums[row + co] += xv * dys[dyOffset + co];
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo(info.filterShape, 'float32', Float32Array.from(sums));
}

/** dx gets each output's gradient at the first maximum of its window (row-major), as tfjs picks it. */
function maxPoolGrad(args: {
  inputs: { dy: tf.TensorInfo; input: tf.TensorInfo; output: tf.TensorInfo };
  backend: CpuBackendLike;
  attrs: MaxPoolGradAttrs;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return callOriginal(BACKEND, tf.MaxPoolGrad, args);
  const info = poolInfoOf(input.shape, attrs);
  const xs = backend.data.get(input.dataId).values as Float32Array;
  const dys = backend.data.get(dy.dataId).values as Float32Array;
  const dx = new Float64Array(xs.length);
  maxPoolGradAnyWindow(xs, dys, dx, info);
  return backend.makeTensorInfo(input.shape, 'float32', Float32Array.from(dx));
}
