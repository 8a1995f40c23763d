/**
 * Training kernels for the TensorFlow.js WASM backend.
 *
 * tfjs-backend-wasm 4.22 cannot train a CNN as shipped: it has no Conv2DBackpropFilter kernel,
 * and its Conv2DBackpropInput and MaxPoolGrad kernels are scalar loops, several times slower than
 * the forward pass. This module registers, for the 'wasm' backend only, kernels built on what
 * WASM does fast (XNNPACK convolution, fully-connected and pooling; 2-D transposes) plus single
 * passes over the WASM heap where no such kernel fits. The kernels live in wasmConvForward.ts
 * (Conv2D, FusedConv2D), wasmConvGradients.ts (Conv2DBackpropFilter, missing; Conv2DBackpropInput,
 * replaced), wasmPoolKernels.ts (MaxPool, MaxPoolGrad) and wasmNormKernels.ts (FusedBatchNorm, Sum, Mean, Add, Relu, Identity and Cast); their doc comments say how
 * each works.
 *
 * Register after `@tensorflow/tfjs-backend-wasm` has been imported (it registers its kernels on
 * import and would overwrite these); before or after `tf.setBackend('wasm')` both work.
 */
import * as tf from '@tensorflow/tfjs';
import { areOverriding, overrideKernels, restoreKernels, type KernelOverride } from './kernelOverrides';
import { conv2D, fusedConv2D } from './wasmConvForward';
import { conv2DBackpropFilterNaive } from './wasmConvFilterGradNaive';
import { conv2DBackpropFilter, conv2DBackpropInput } from './wasmConvGradients';
import { BACKEND } from './wasmKernelUtil';
import { add, cast, fusedBatchNorm, identity, mean, relu, sum } from './wasmNormKernels';
import { maxPool, maxPoolGrad } from './wasmPoolKernels';

type KernelFunc = tf.KernelFunc;

const FAST_KERNELS: readonly KernelOverride[] = [
  { kernelName: tf.Conv2DBackpropFilter, kernelFunc: conv2DBackpropFilter as unknown as KernelFunc },
  { kernelName: tf.Conv2DBackpropInput, kernelFunc: conv2DBackpropInput as unknown as KernelFunc },
  // Native where loaded (native/convKernels.ts), else straight to WASM's own.
  { kernelName: tf.Conv2D, kernelFunc: conv2D as unknown as KernelFunc },
  { kernelName: tf.FusedConv2D, kernelFunc: fusedConv2D as unknown as KernelFunc },
  { kernelName: tf.MaxPool, kernelFunc: maxPool as unknown as KernelFunc },
  { kernelName: tf.MaxPoolGrad, kernelFunc: maxPoolGrad as unknown as KernelFunc },
  { kernelName: tf.FusedBatchNorm, kernelFunc: fusedBatchNorm as unknown as KernelFunc },
  { kernelName: tf.Sum, kernelFunc: sum as unknown as KernelFunc },
  { kernelName: tf.Mean, kernelFunc: mean as unknown as KernelFunc },
  { kernelName: tf.Identity, kernelFunc: identity as unknown as KernelFunc },
  { kernelName: tf.Cast, kernelFunc: cast as unknown as KernelFunc },
  // A convolution's bias and ReLU in training, native where loaded (native/biasReluKernels.ts).
  { kernelName: tf.Add, kernelFunc: add as unknown as KernelFunc },
  { kernelName: tf.Relu, kernelFunc: relu as unknown as KernelFunc },
];

const NAIVE_FILTER_GRAD: KernelOverride = {
  kernelName: tf.Conv2DBackpropFilter,
  kernelFunc: conv2DBackpropFilterNaive as unknown as KernelFunc,
};

/** Names of the kernels registerWasmTrainingKernels() installs or replaces. */
export const WASM_TRAINING_KERNEL_NAMES: readonly string[] = FAST_KERNELS.map((k) => k.kernelName);

function assertWasmLoaded(): void {
  if (tf.getKernel(tf.Conv2D, BACKEND) === undefined) {
    throw new Error(
      "Import '@tensorflow/tfjs-backend-wasm' before registering the WASM training kernels: it registers its own kernels when loaded and would replace these.",
    );
  }
}

/**
 * Makes the WASM backend able to train convolutions, fast: registers Conv2DBackpropFilter and
 * faster Conv2DBackpropInput, MaxPoolGrad, FusedBatchNorm, Sum and Mean kernels for 'wasm'. Idempotent. Call it after
 * `@tensorflow/tfjs-backend-wasm` has been imported (throws otherwise).
 */
export function registerWasmTrainingKernels(): void {
  assertWasmLoaded();
  overrideKernels(BACKEND, FAST_KERNELS);
}

/**
 * Only fills the gap, the obvious way: a direct-loop Conv2DBackpropFilter and the shipped kernels
 * for everything else (the benchmark's baseline). Replaces registerWasmTrainingKernels() if active.
 */
export function registerNaiveWasmFilterGradient(): void {
  assertWasmLoaded();
  unregisterWasmTrainingKernels();
  overrideKernels(BACKEND, [NAIVE_FILTER_GRAD]);
}

/** Puts back the kernels WASM shipped with (none for Conv2DBackpropFilter). */
export function unregisterWasmTrainingKernels(): void {
  restoreKernels(BACKEND, WASM_TRAINING_KERNEL_NAMES);
}

/** Which variant is registered now: 'fast', 'naive' (filter gradient only) or 'shipped'. */
export function wasmTrainingKernelsState(): 'fast' | 'naive' | 'shipped' {
  if (areOverriding(BACKEND, [NAIVE_FILTER_GRAD])) return 'naive';
  return areOverriding(BACKEND, FAST_KERNELS) ? 'fast' : 'shipped';
}
