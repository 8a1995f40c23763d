/**
 * Starts our native kernels on a started WASM backend: loads the module into its heap and registers
 * the BatchNormalization training kernels, ReluGrad, RMSPropUpdate and ConvBiasRelu (the native max-pool and
 * filter gradients are taken up by MaxPoolGrad and Conv2DBackpropFilter themselves: wasmPoolKernels.ts,
 * wasmConvGradients.ts). Where the module cannot load, the kernels stay unregistered and
 * BatchNormalization trains as tfjs-layers ships it.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../../model/batchNormTraining';
import { RELU_GRAD, registerReluGradient } from '../../model/reluGradient';
import { RMSPROP_UPDATE } from '../../model/rmsprop';
import { CONV_BIAS_RELU, RELU_GRAD_BIAS } from '../../model/convBiasRelu';
import { reluGradBias } from './biasReluKernels';
import { convBiasReluKernel } from './convKernels';
import { BACKEND } from '../wasmKernelUtil';
import { batchNormTraining, batchNormTrainingGrad } from './batchNormKernels';
import { reluGrad, rmspropUpdate } from './elementwiseKernels';
import { loadNativeKernels, unloadNativeKernels, type NativeBytes, type NativeThreading } from './nativeKernels';

const KERNELS: readonly tf.KernelConfig[] = [
  { kernelName: BATCH_NORM_TRAINING, backendName: BACKEND, kernelFunc: batchNormTraining as unknown as tf.KernelFunc },
  {
    kernelName: BATCH_NORM_TRAINING_GRAD,
    backendName: BACKEND,
    kernelFunc: batchNormTrainingGrad as unknown as tf.KernelFunc,
  },
  { kernelName: RELU_GRAD, backendName: BACKEND, kernelFunc: reluGrad as unknown as tf.KernelFunc },
  { kernelName: RMSPROP_UPDATE, backendName: BACKEND, kernelFunc: rmspropUpdate as unknown as tf.KernelFunc },
  { kernelName: CONV_BIAS_RELU, backendName: BACKEND, kernelFunc: convBiasReluKernel as unknown as tf.KernelFunc },
  { kernelName: RELU_GRAD_BIAS, backendName: BACKEND, kernelFunc: reluGradBias as unknown as tf.KernelFunc },
];

/** Null when the native kernels run on `backend`, else why not. */
export async function startNativeKernels(
  backend: BackendWasm,
  bytesOf: NativeBytes,
  threading?: NativeThreading,
): Promise<string | null> {
  const problem = await loadNativeKernels(backend, bytesOf, threading);
  if (problem !== null) {
    stopNativeKernels();
    return problem;
  }
  for (const kernel of KERNELS) if (tf.getKernel(kernel.kernelName, BACKEND) === undefined) tf.registerKernel(kernel);
  registerReluGradient(); // uses ReluGrad where the backend in use has it
  return null;
}

/** Back to tfjs' own ways (benchmarks compare; a failed load). */
export function stopNativeKernels(): void {
  unloadNativeKernels();
  for (const kernel of KERNELS)
    if (tf.getKernel(kernel.kernelName, BACKEND) !== undefined) tf.unregisterKernel(kernel.kernelName, BACKEND);
}

/** The module's bytes from files next to this one (Node: tests and benchmarks). */
export function nativeBytesFromDisk(readFile: (path: URL) => Promise<Uint8Array>): NativeBytes {
  // A plain name, not a template literal: Vite would read `./${build}` as every file of this folder and ship them all.
  return (build) => readFile(new URL(build, import.meta.url));
}
