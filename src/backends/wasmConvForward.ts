/**
 * The convolutions' forward kernels of the WASM backend (see wasmKernels.ts): our native SIMD kernel
 * (native/convKernels.ts) for stride-1 unpadded convolutions, bias and linear or ReLU fused, where it is loaded;
 * else WASM's own (XNNPACK).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callOriginal } from './kernelOverrides';
import { nativeConvForward, type ConvGeometry } from './native/convKernels';
import { BACKEND, type KernelArgs } from './wasmKernelUtil';

type TensorInfo = tf.TensorInfo;

/** Conv2D: our native kernel for stride-1 unpadded convolutions where it is loaded; else WASM's own. */
export function conv2D(args: KernelArgs): TensorInfo {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const y = nativeConvForward(args.backend as BackendWasm, x, filter, args.attrs as unknown as ConvGeometry);
  return y ?? callOriginal(BACKEND, tf.Conv2D, args);
}

/** FusedConv2D (bias, linear or ReLU): likewise. */
export function fusedConv2D(args: KernelArgs): TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
    'x' | 'filter' | 'bias' | 'preluActivationWeights',
    TensorInfo | undefined
  >;
  const attrs = args.attrs as unknown as ConvGeometry & { activation?: string };
  const y = preluActivationWeights
    ? null
    : nativeConvForward(
        args.backend as BackendWasm,
        x!,
        filter!,
        attrs,
        bias ?? undefined,
        attrs.activation ?? 'linear',
      );
  return y ?? callOriginal(BACKEND, tf.FusedConv2D, args);
}
