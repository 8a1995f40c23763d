/**
 * Runs in Chromium (bundled by webgpuKernels.spec.ts): each check computes the same thing on the cpu backend
 * and on WebGPU with our kernels registered, and returns the relative difference of every output and gradient
 * (‖webgpu − cpu‖ / ‖cpu‖, as the app's gradient trust check). Inputs are made in JavaScript, so both backends
 * see the very same numbers. Shapes are odd on purpose: batch 1, sizes that are no multiple of a workgroup.
 * The computations are webgpuKernelCases.ts', the comparison webgpuKernelCompare.ts'; here, the checks and hooks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { compareGradientsWithCpu } from '../src/backends/gradientCheck';
import { RMSPROP_UPDATE, RMSPropOptimizer } from '../src/model/rmsprop';
import { splitRows } from '../src/backends/webgpuKernels/reductions';
import {
  areWebgpuTrainingKernelsRegistered,
  registerWebgpuTrainingKernels,
} from '../src/backends/webgpuKernels/register';
import { registerWebgpuImageKernels } from '../src/backends/webgpuKernels/gatherImages';
import {
  cpuPathFloats,
  evaluationFromResidentImages,
  everyByteSet,
  GATHER_PICKS,
  unequalGathered,
  type EvaluationMatch,
} from './gpuGather';
import { compare, dispatched, ran, type Difference } from './webgpuKernelCompare';
import {
  batchNorm,
  convBiasReluGradients,
  convGradients,
  filterGradient,
  maxPoolGradients,
  reluGradient,
  rmspropSteps,
} from './webgpuKernelCases';

export const checks = {
  async maxPool(): Promise<Difference[]> {
    return [
      // Odd sizes: the last row and column are in no window.
      ...(await compare('2x2 of x [3,9,7,5]', maxPoolGradients([3, 9, 7, 5], 2, 2, 'valid', false))),
      ...(await compare('2x2 of x [1,8,10,32], tied maxima', maxPoolGradients([1, 8, 10, 32], 2, 2, 'valid', true))),
    ];
  },

  /** A pool ours does not cover (3x3, stride 1, same): tfjs' kernels, through callOriginal. */
  async maxPoolFallback(): Promise<Difference[]> {
    return compare('3x3 stride 1 same of x [2,6,5,3]', maxPoolGradients([2, 6, 5, 3], 3, 1, 'same', false));
  },

  async rmsprop(): Promise<Difference[]> {
    return compare('variables [37], [2,2,3,5], [1]', rmspropSteps([[37], [2, 2, 3, 5], [1]]));
  },

  /** Our dispatches in an RMSprop step of 4 variables (one over 65,535 workgroups of 64); a second, profiled. */
  async rmspropDispatches(): Promise<Record<string, number>> {
    await tf.setBackend('webgpu');
    const shapes = [[5], [2, 2, 3, 5], [1], [1, 257, 256, 64]];
    const variables = shapes.map((shape, i) => tf.variable(tf.ones(shape), true, `rmsprop_dispatch_${i}`));
    const optimizer = new RMSPropOptimizer(0.01, 0.9, 0.5, 1e-7);
    const grads = Object.fromEntries(variables.map((v) => [v.name, tf.onesLike(v)]));
    dispatched.length = 0;
    optimizer.applyGradients(grads);
    const counts: Record<string, number> = {};
    for (const key of dispatched) counts[key] = (counts[key] ?? 0) + 1;
    // The largest variable's last element moved as the first did (the dispatch's second dimension reached it).
    const last = await variables[3].data();
    counts.lastEqualsFirst = Number(last[last.length - 1] === last[0] && last[0] !== 1);
    // Under tf.profile (as bench:gpu profiles a step): our dispatch timed as tfjs times its own, each a kernel.
    const profile = await tf.profile(() => optimizer.applyGradients(grads));
    counts.profiled = profile.kernels.filter((k) => k.name === RMSPROP_UPDATE).length;
    counts.timedKernels = Number(profile.kernels.every((k) => Number.isFinite(Number(k.kernelTimeMs))));
    tf.dispose([...variables, ...Object.values(grads)]);
    optimizer.dispose();
    return counts;
  },

  /** The three-pass fallback (a backend without what our one dispatch needs) against the cpu backend. */
  async rmspropFallback(): Promise<Difference[]> {
    await tf.setBackend('webgpu');
    const backend = tf.backend() as unknown as { runWebGPUProgram: unknown; disposeData: unknown };
    const kernel = tf.getKernel(RMSPROP_UPDATE, 'webgpu')!;
    // Only tfjs' program runner: no compute pass or command queue of its own to record in.
    const bare = { runWebGPUProgram: backend.runWebGPUProgram, disposeData: backend.disposeData };
    for (const key of ['runWebGPUProgram', 'disposeData'] as const)
      bare[key] = (bare[key] as (...a: unknown[]) => unknown).bind(backend);
    tf.unregisterKernel(RMSPROP_UPDATE, 'webgpu');
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args) => kernel.kernelFunc({ ...args, backend: bare as unknown as tf.KernelBackend }),
    });
    try {
      return await compare('fallback, variables [37], [2,2,3,5]', rmspropSteps([[37], [2, 2, 3, 5]]));
    } finally {
      tf.unregisterKernel(RMSPROP_UPDATE, 'webgpu');
      tf.registerKernel(kernel);
    }
  },

  async batchNorm(): Promise<Difference[]> {
    return [
      ...(await compare('x [3,7,5,6]', batchNorm([3, 7, 5, 6], false))),
      ...(await compare('x [3,7,5,6] with ReLU', batchNorm([3, 7, 5, 6], true))),
      ...(await compare('x [1,13,11,32] with ReLU', batchNorm([1, 13, 11, 32], true))),
    ];
  },

  async convBiasRelu(): Promise<Difference[]> {
    return [
      ...(await compare('x [2,10,9,3], filter [2,2,3,5]', convBiasReluGradients([2, 10, 9, 3], [2, 2, 3, 5]))),
      ...(await compare('x [1,12,13,1], filter [2,2,1,32]', convBiasReluGradients([1, 12, 13, 1], [2, 2, 1, 32]))),
    ];
  },

  async reluGrad(): Promise<Difference[]> {
    return [
      ...(await compare('x [3,5,7,9]', reluGradient([3, 5, 7, 9]))),
      // More than 65,535 workgroups of 64: tfjs spreads such a dispatch over two dimensions, as every full-size pass
      // of ours does at 150 px, batch 32. Our programs index by tfjs' global index, so they follow.
      ...(await compare('x [1,257,256,64]', reluGradient([1, 257, 256, 64]))),
    ];
  },

  async conv2DBackpropFilter(): Promise<Difference[]> {
    // Cases the models do not run, covered all the same: stride 2 with padding, a 3x3 filter.
    const strided = filterGradient([2, 11, 10, 3], [3, 3, 3, 4], 2, 'same');
    return [
      // The models' first layer: 1 channel in, 32 out, 2x2 valid; batch 1 and 3, odd sizes.
      ...(await compare('x [3,33,31,1], filter [2,2,1,32]', filterGradient([3, 33, 31, 1], [2, 2, 1, 32]))),
      ...(await compare('x [1,17,19,32], filter [2,2,32,64]', filterGradient([1, 17, 19, 32], [2, 2, 32, 64]))),
      ...(await compare('x [2,9,7,3], filter [2,2,3,5]', filterGradient([2, 9, 7, 3], [2, 2, 3, 5]))),
      ...(await compare('x [2,11,10,3], filter [3,3,3,4], stride 2, same', strided)),
      ...(await compare('tf.grads of conv2d [2,13,12,4] * [2,2,4,7]', convGradients([2, 13, 12, 4], [2, 2, 4, 7]))),
    ];
  },

  /** The app's own trust check: a class-weighted training step of each model, every weight's gradient. */
  async trainingStep(): Promise<Difference[]> {
    ran.clear();
    const { largest, where } = await compareGradientsWithCpu('webgpu');
    return [{ what: `training step, largest at ${where}`, difference: largest, ran: [...ran] }];
  },

  /**
   * Batches gathered from the split packed on WebGPU (GatherPackedImages) against makeBatch on the cpu: `difference`
   * is the count of floats not exactly equal. 13 images of 9 px (an odd area, every byte value): in 4 chunks, and in 1.
   */
  async gatherPackedImages(): Promise<Difference[]> {
    registerWebgpuImageKernels();
    const set = everyByteSet();
    const expected = await cpuPathFloats(set, GATHER_PICKS, 'webgpu');
    const differences: Difference[] = [];
    for (const limitBytes of [4 * 81 + 3, undefined]) {
      ran.clear();
      const { unequal } = await unequalGathered(set, GATHER_PICKS, expected, limitBytes);
      differences.push({
        what: `${limitBytes ? 4 : 1} chunks, floats unequal (a count, not relative)`,
        difference: unequal,
        ran: [...ran],
      });
    }
    return differences;
  },

  /** A model's evaluation from the resident split against CPU batches, on WebGPU. */
  async evaluation(): Promise<EvaluationMatch> {
    registerWebgpuImageKernels();
    return evaluationFromResidentImages();
  },

  /** How the filter gradient splits the first layer of a 150 px batch of 32, and whether ours are registered. */
  async setup(): Promise<{ registered: boolean; plan: ReturnType<typeof splitRows>; adapter: string }> {
    type Gpu = { requestAdapter(): Promise<{ info?: { architecture?: string } } | null> };
    const adapter = await (navigator as unknown as { gpu: Gpu }).gpu.requestAdapter();
    const plan = splitRows(32 * 149, 2 * 2 * 1 * 32);
    return { registered: areWebgpuTrainingKernelsRegistered(), plan, adapter: adapter?.info?.architecture ?? 'none' };
  },
};

async function start(): Promise<void> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not start');
  registerWebgpuTrainingKernels();
  // Notes which of our programs run, so that a check can tell ours ran and not tfjs' kernel it stands in for.
  type Backend = { runWebGPUProgram(program: { shaderKey: string }, ...rest: unknown[]): unknown };
  const backend = tf.backend() as unknown as Backend;
  const runProgram = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, ...rest) => {
    if (program.shaderKey.startsWith('xray_')) ran.add(program.shaderKey.slice(5));
    return runProgram(program, ...rest);
  };
  // Our own pipelines (multiOutput.ts) are recorded without runWebGPUProgram: seen when a pass sets them.
  type Pass = { setPipeline(pipeline: { label?: string }): void };
  const pass = (globalThis as unknown as { GPUComputePassEncoder: { prototype: Pass } }).GPUComputePassEncoder
    .prototype;
  const setPipeline = pass.setPipeline;
  pass.setPipeline = function (this: Pass, pipeline) {
    if (pipeline.label?.startsWith('xray_')) {
      ran.add(pipeline.label.slice(5));
      dispatched.push(pipeline.label.slice(5));
    }
    setPipeline.call(this, pipeline);
  };
}

const global = window as unknown as { kernelChecks: typeof checks; kernelChecksReady: Promise<void> };
global.kernelChecks = checks;
global.kernelChecksReady = start();
