/**
 * The two BatchNormalization training kernels (model/batchNormTraining.ts says what they compute and
 * why) for the WASM backend, on our native kernels: two passes forward, two backward. The per-channel
 * arithmetic (c numbers) is done here in float64.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelArgs } from '../wasmKernelUtil';
import { nativeKernelsFor, type NativeKernels } from './nativeKernels';

type TensorInfo = tf.TensorInfo;

/** Fewer pixels than this a thread are not worth waking a helper for (~10 µs). */
const MIN_PIXELS_A_SHARE = 4096;

interface Attrs {
  varianceEpsilon: number;
}

function kernelsOf(backend: BackendWasm): NativeKernels {
  const native = nativeKernelsFor(backend);
  // Registered only once the module is loaded for this backend (wasm.ts), so this means a bug.
  if (native === null) throw new Error('The WebAssembly BatchNormalization kernels are not loaded for this backend.');
  return native;
}

/** [pixels, channels] of a channels-last float32 tensor. */
function pixelsAndChannels(x: TensorInfo): [number, number] {
  if (x.dtype !== 'float32') throw new Error(`BatchNormalization kernels take float32, not ${x.dtype}.`);
  const c = x.shape[x.shape.length - 1];
  return [tf.util.sizeFromShape(x.shape) / c, c];
}

/** Scratch for the kernels: 2c float64 totals (first: malloc aligns to 8) and 3c float32. */
function scratchFor(backend: BackendWasm, c: number): TensorInfo {
  return backend.makeOutput([7 * c], 'float32');
}

export function batchNormTraining(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const native = kernelsOf(backend);
  const { x, scale, offset } = args.inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
  const { varianceEpsilon } = args.attrs as unknown as Attrs;
  const [npix, c] = pixelsAndChannels(x);
  const y = backend.makeOutput([...x.shape], 'float32');
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const scratch = scratchFor(backend, c);
  try {
    const at = native.offset(scratch);
    native.kernels.channel_moments(native.offset(x), npix, c, at + 16 * c, at, native.offset(mean), native.offset(variance));
    const m = native.read(mean);
    const v = native.read(variance);
    const gamma = native.read(scale);
    const beta = native.read(offset);
    // y = (x − mean)·γ/σ + β
    const coef = new Float64Array(3 * c);
    for (let k = 0; k < c; k++) {
      coef[k] = m[k];
      coef[c + k] = gamma[k] / Math.sqrt(v[k] + varianceEpsilon);
      coef[2 * c + k] = beta[k];
    }
    native.write(scratch, coef);
    const [x0, y0] = [native.offset(x), native.offset(y)];
    native.split('channel_affine', npix, (start, end) => [x0 + 4 * c * start, y0 + 4 * c * start, end - start, c, at], MIN_PIXELS_A_SHARE);
    return [y, mean, variance];
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

export function batchNormTrainingGrad(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const native = kernelsOf(backend);
  const { dy, x, mean, variance, scale } = args.inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'scale', TensorInfo>;
  const { varianceEpsilon } = args.attrs as unknown as Attrs;
  const [npix, c] = pixelsAndChannels(x);
  const dx = backend.makeOutput([...x.shape], 'float32');
  const sums = backend.makeOutput([2 * c], 'float32');
  const scratch = scratchFor(backend, c);
  try {
    const at = native.offset(scratch);
    native.kernels.channel_grad_sums(native.offset(dy), native.offset(x), npix, c, native.offset(mean), at + 16 * c, at, native.offset(sums));
    const s = native.read(sums);
    const m = native.read(mean);
    const v = native.read(variance);
    const gamma = native.read(scale);
    // dx = dy·γ/σ + (x − mean)·(−γ/σ³·Σdy(x − mean)/N) − γ/σ·Σdy/N
    const coef = new Float64Array(4 * c);
    const dScale = new Float32Array(c);
    for (let k = 0; k < c; k++) {
      const inverseSd = 1 / Math.sqrt(v[k] + varianceEpsilon);
      const factor = gamma[k] * inverseSd;
      coef[k] = m[k];
      coef[c + k] = factor;
      coef[2 * c + k] = (-factor * inverseSd * inverseSd * s[c + k]) / npix;
      coef[3 * c + k] = (-factor * s[k]) / npix;
      dScale[k] = s[c + k] * inverseSd;
    }
    native.write(scratch, coef);
    const [dy0, x0, dx0] = [native.offset(dy), native.offset(x), native.offset(dx)];
    native.split('channel_affine2', npix, (start, end) => [dy0 + 4 * c * start, x0 + 4 * c * start, dx0 + 4 * c * start, end - start, c, at], MIN_PIXELS_A_SHARE);
    const dscale = backend.makeOutput([c], 'float32', undefined, dScale);
    const doffset = backend.makeOutput([c], 'float32', undefined, s.subarray(0, c));
    return [dx, dscale, doffset];
  } finally {
    backend.disposeData(scratch.dataId);
    backend.disposeData(sums.dataId);
  }
}
