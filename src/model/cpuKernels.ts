/**
 * Faster Conv2DBackpropFilter and MaxPoolGrad for tfjs' pure-JS cpu backend. The shipped kernels
 * read every element through TensorBuffer.get, Conv2DBackpropFilter in a cache-hostile order:
 * one 32-image step of this CNN took ~5 s at 32 px and minutes at 150 px, which made the CPU
 * fallback useless. These walk memory in order (NHWC) and give the same results (same sums in
 * float64, same first-maximum rule). Other layouts and dtypes still go to the shipped kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { nhwcConvInfo, type FilterGradAttrs } from './convAttrs';
import { cpuTransform } from './cpuTransform';
import { maxPoolGradAnyWindow, poolInfoOf, type MaxPoolGradAttrs } from './maxPoolGrad';

type KernelFunc = tf.KernelConfig['kernelFunc'];

interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}


/** The shipped kernels, for the cases the fast ones hand back. */
const shipped = new Map<string, KernelFunc>();

/** Swaps in the fast kernels for the cpu backend, and a fixed Transform (cpuTransform.ts); safe to call more than once. */
export function registerFastCpuKernels(): void {
  replace('Conv2DBackpropFilter', conv2dBackpropFilter as unknown as KernelFunc);
  replace('MaxPoolGrad', maxPoolGrad as unknown as KernelFunc);
  replace('Transform', cpuTransform as unknown as KernelFunc);
}

function replace(kernelName: string, kernelFunc: KernelFunc): void {
  if (shipped.has(kernelName)) return;
  const config = tf.getKernel(kernelName, 'cpu');
  if (!config) return; // No cpu backend in this bundle: nothing to speed up.
  shipped.set(kernelName, config.kernelFunc);
  tf.unregisterKernel(kernelName, 'cpu');
  tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc });
}

function callShipped(kernelName: string, args: unknown): tf.TensorInfo {
  return (shipped.get(kernelName) as KernelFunc)(args as Parameters<KernelFunc>[0]) as tf.TensorInfo;
}

function conv2dBackpropFilter(args: {
  inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
  backend: CpuBackendLike;
  attrs: FilterGradAttrs;
}): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  if (attrs.dataFormat === 'NCHW' || x.dtype !== 'float32' || dy.dtype !== 'float32') {
    return callShipped('Conv2DBackpropFilter', args);
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
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return callShipped('MaxPoolGrad', args);
  const info = poolInfoOf(input.shape, attrs);
  const xs = backend.data.get(input.dataId).values as Float32Array;
  const dys = backend.data.get(dy.dataId).values as Float32Array;
  const dx = new Float64Array(xs.length);
  maxPoolGradAnyWindow(xs, dys, dx, info);
  return backend.makeTensorInfo(input.shape, 'float32', Float32Array.from(dx));
}
