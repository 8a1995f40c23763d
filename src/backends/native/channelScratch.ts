/**
 * Scratch in tfjs' heap for the native kernels that sum per channel with pixels split between threads
 * (csrc/batch_norm.c: channel_sums, channel_grad_sums; csrc/bias_relu.c: relu_grad_sums): each chunk sums into its own totals.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeKernels } from './nativeKernels';

type TensorInfo = tf.TensorInfo;

/** Fewer pixels than this a thread are not worth waking a helper for (~10 µs). */
export const MIN_PIXELS_A_SHARE = 4096;

/**
 * Scratch in the heap for one kernel call, as byte offsets: per share its float64 totals (2c, first:
 * malloc aligns to 8) and float32 partial sums (2c); then the per-channel centre (c) and coefficients (4c).
 */
export class ChannelScratch {
  readonly info: TensorInfo;
  private readonly at: number;

  constructor(
    private readonly native: NativeKernels,
    private readonly backend: BackendWasm,
    private readonly c: number,
    readonly shares: number,
  ) {
    this.info = backend.makeOutput([shares * 6 * c + 5 * c], 'float32');
    this.at = native.offset(this.info);
  }

  totals(share: number): number {
    return this.at + 16 * this.c * share;
  }

  partial(share: number): number {
    return this.at + 16 * this.c * this.shares + 8 * this.c * share;
  }

  get centre(): number {
    return this.at + 24 * this.c * this.shares;
  }

  get coef(): number {
    return this.centre + 4 * this.c;
  }

  /** The shares' totals added up: [first sums (c), second sums (c)]. */
  sumTotals(): Float64Array {
    const sum = new Float64Array(2 * this.c);
    for (let share = 0; share < this.shares; share++) {
      const totals = this.native.doublesAt(this.totals(share), 2 * this.c);
      for (let k = 0; k < 2 * this.c; k++) sum[k] += totals[k];
    }
    return sum;
  }

  /** Scratch for a kernel call over `npix` pixels of `c` channels, one share a chunk as `split` cuts them. */
  static forPixels(native: NativeKernels, backend: BackendWasm, c: number, npix: number): ChannelScratch {
    return new ChannelScratch(native, backend, c, native.sharesFor(npix, MIN_PIXELS_A_SHARE));
  }

  dispose(): void {
    this.backend.disposeData(this.info.dataId);
  }
}
