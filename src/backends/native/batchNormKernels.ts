/**
 * The two BatchNormalization training kernels (model/batchNormTraining.ts says what they compute and
 * why) for the WASM backend, on our native kernels: two passes forward, two backward, each split by
 * pixels between threads. The per-channel arithmetic (c numbers) is done here in float64.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelArgs } from '../wasmKernelUtil';
import { ChannelScratch, MIN_PIXELS_A_SHARE } from './channelScratch';
import { nativeKernelsFor, type NativeKernels } from './nativeKernels';

type TensorInfo = tf.TensorInfo;

interface Attrs {
  varianceEpsilon: number;
  /** A ReLU after the layer, fused (model/batchNormTraining.ts): forward, y is max(0, y); backward, y is an input and masks dy. */
  relu?: boolean;
}

function kernelsOf(backend: BackendWasm): NativeKernels {
  const native = nativeKernelsFor(backend);
  // Registered only once the module is loaded for this backend (register.ts), so this means a bug.
  if (native === null) throw new Error('The WebAssembly BatchNormalization kernels are not loaded for this backend.');
  return native;
}

/** [pixels, channels] of a channels-last float32 tensor. */
function pixelsAndChannels(x: TensorInfo): [number, number] {
  if (x.dtype !== 'float32') throw new Error(`BatchNormalization kernels take float32, not ${x.dtype}.`);
  const c = x.shape[x.shape.length - 1];
  return [tf.util.sizeFromShape(x.shape) / c, c];
}

export function batchNormTraining(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const native = kernelsOf(backend);
  const { x, scale, offset } = args.inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
  const { varianceEpsilon, relu } = args.attrs as unknown as Attrs;
  const [npix, c] = pixelsAndChannels(x);
  const scratch = ChannelScratch.forPixels(native, backend, c, npix);
  try {
    const x0 = native.offset(x);
    // Shifted by each channel's first value (csrc/batch_norm.c, channel_sums).
    const shift = native.floatsAt(x0, c).slice();
    native.floatsAt(scratch.centre, c).set(shift);
    native.split(
      'channel_sums',
      npix,
      (start, end, share) => [
        x0 + 4 * c * start,
        end - start,
        c,
        scratch.centre,
        scratch.partial(share),
        scratch.totals(share),
      ],
      MIN_PIXELS_A_SHARE,
    );
    const sums = scratch.sumTotals();
    const mean = new Float32Array(c);
    const variance = new Float32Array(c);
    for (let k = 0; k < c; k++) {
      const meanShift = sums[k] / npix;
      mean[k] = shift[k] + meanShift;
      variance[k] = Math.max(0, sums[c + k] / npix - meanShift * meanShift);
    }
    // y = (x − mean)·γ/σ + β
    const gamma = native.read(scale);
    const beta = native.read(offset);
    const coef = new Float32Array(3 * c);
    for (let k = 0; k < c; k++) {
      coef[k] = mean[k];
      coef[c + k] = gamma[k] / Math.sqrt(variance[k] + varianceEpsilon);
      coef[2 * c + k] = beta[k];
    }
    native.floatsAt(scratch.coef, 3 * c).set(coef);
    const y = backend.makeOutput([...x.shape], 'float32');
    const y0 = native.offset(y);
    native.split(
      'channel_affine',
      npix,
      (start, end) => [x0 + 4 * c * start, y0 + 4 * c * start, end - start, c, scratch.coef, relu ? 1 : 0],
      MIN_PIXELS_A_SHARE,
    );
    return [
      y,
      backend.makeOutput([c], 'float32', undefined, mean),
      backend.makeOutput([c], 'float32', undefined, variance),
    ];
  } finally {
    scratch.dispose();
  }
}

export function batchNormTrainingGrad(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const native = kernelsOf(backend);
  const { dy, x, mean, variance, scale, y } = args.inputs as Record<
    'dy' | 'x' | 'mean' | 'variance' | 'scale',
    TensorInfo
  > & { y?: TensorInfo };
  const { varianceEpsilon } = args.attrs as unknown as Attrs;
  const [npix, c] = pixelsAndChannels(x);
  const scratch = ChannelScratch.forPixels(native, backend, c, npix);
  try {
    const m = native.read(mean);
    native.floatsAt(scratch.centre, c).set(m);
    const [dy0, x0] = [native.offset(dy), native.offset(x)];
    // The fused ReLU's output: dy counts only where it is positive (csrc/batch_norm.c); none without.
    const maskAt = (start: number) => (y === undefined ? 0 : native.offset(y) + 4 * c * start);
    native.split(
      'channel_grad_sums',
      npix,
      (start, end, share) => [
        dy0 + 4 * c * start,
        x0 + 4 * c * start,
        end - start,
        c,
        scratch.centre,
        scratch.partial(share),
        scratch.totals(share),
        maskAt(start),
      ],
      MIN_PIXELS_A_SHARE,
    );
    const s = scratch.sumTotals();
    const v = native.read(variance);
    const gamma = native.read(scale);
    // dx = dy·γ/σ + (x − mean)·(−γ/σ³·Σdy(x − mean)/N) − γ/σ·Σdy/N
    const coef = new Float32Array(4 * c);
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
    native.floatsAt(scratch.coef, 4 * c).set(coef);
    const dx = backend.makeOutput([...x.shape], 'float32');
    const dx0 = native.offset(dx);
    native.split(
      'channel_affine2',
      npix,
      (start, end) => [
        dy0 + 4 * c * start,
        x0 + 4 * c * start,
        dx0 + 4 * c * start,
        end - start,
        c,
        scratch.coef,
        maskAt(start),
      ],
      MIN_PIXELS_A_SHARE,
    );
    const dscale = backend.makeOutput([c], 'float32', undefined, dScale);
    const doffset = backend.makeOutput([c], 'float32', undefined, Float32Array.from(s.subarray(0, c)));
    return [dx, dscale, doffset];
  } finally {
    scratch.dispose();
  }
}
