/**
 * RMSprop's update of one variable (model/rmsprop.ts, RMSPropUpdate) on WebGPU: three element-wise passes, one
 * per output (new mean square, moment and value), in place of tfjs' dozen element-wise kernels a variable.
 * A WebGPU program of tfjs writes one output, so each pass recomputes what it needs of the others; the same
 * float32 operations in the same order as tfjs' RMSPropOptimizer (not centred):
 *   ms'  = ms·decay + g²·(1 − decay)     mom' = mom·momentum + g·lr / sqrt(ms' + ε)     value' = value − mom'
 */
import { float32, runFlat, type TensorInfo, type WebgpuBackendLike } from './program';

interface Attrs {
  decay: number;
  momentum: number;
  learningRate: number;
  epsilon: number;
}

const STEPS = `
  fn meanSquare(i : i32) -> f32 {
    return ms[i] * uniforms.decay + grad[i] * grad[i] * uniforms.rest;
  }
  fn moment(i : i32) -> f32 {
    return mom[i] * uniforms.momentum + grad[i] * uniforms.lr / sqrt(meanSquare(i) + uniforms.eps);
  }`;

const OUTPUTS = {
  value: 'result[index] = value[index] - moment(index);',
  ms: 'result[index] = meanSquare(index);',
  mom: 'result[index] = moment(index);',
};

/** RMSPropUpdate: inputs value, ms, mom, grad (one shape); outputs the new value, mean square and moment. */
export function rmspropUpdate(args: {
  inputs: Record<'value' | 'ms' | 'mom' | 'grad', TensorInfo>;
  backend: unknown;
  attrs: Attrs;
}): TensorInfo[] {
  const backend = args.backend as WebgpuBackendLike;
  const { value, ms, mom, grad } = args.inputs;
  const { decay, momentum, learningRate, epsilon } = args.attrs;
  const uniforms = [float32(decay), float32(1 - decay), float32(momentum), float32(learningRate), float32(epsilon)];
  return (['value', 'ms', 'mom'] as const).map((output) => {
    const program = {
      key: `rmsprop_${output}`,
      inputs: ['value', 'ms', 'mom', 'grad'],
      outputShape: [...value.shape],
      uniforms: 'decay : f32, rest : f32, momentum : f32, lr : f32, eps : f32,',
      helpers: STEPS,
      body: OUTPUTS[output],
    };
    return runFlat(backend, program, [value, ms, mom, grad], uniforms);
  });
}
