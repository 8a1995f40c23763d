/**
 * RMSprop's update of one variable (model/rmsprop.ts, RMSPropUpdate) on WebGPU, in one dispatch: one invocation an
 * element reads value, ms, mom and grad and writes the new value, mean square and moment (multiOutput.ts), in place
 * of tfjs' dozen element-wise kernels a variable. The same float32 operations in the same order as tfjs'
 * RMSPropOptimizer (not centred):
 *   ms'  = ms·decay + g²·(1 − decay)     mom' = mom·momentum + g·lr / sqrt(ms' + ε)     value' = value − mom'
 * One dispatch a variable is as few as binding allows: a dispatch binds at most 8 storage buffers (WebGPU's default
 * maxStorageBuffersPerShaderStage, which tfjs requests), and a variable takes 7 (4 in, 3 out); tfjs keeps every
 * variable and state in buffers of their own. Where the backend lacks what our own dispatch is recorded with
 * (another tfjs version), three passes, one an output, through tfjs' program runner.
 */
import { runMultiOutput } from './multiOutput';
import { float32, runFlat, type TensorInfo, type WebgpuBackendLike } from './program';

interface Attrs {
  decay: number;
  momentum: number;
  learningRate: number;
  epsilon: number;
}

const INPUTS = ['value', 'ms', 'mom', 'grad'];
const UNIFORMS = 'decay : f32, rest : f32, momentum : f32, lr : f32, eps : f32,';

const STEPS = `
  fn meanSquare(i : i32) -> f32 {
    return ms[i] * uniforms.decay + grad[i] * grad[i] * uniforms.rest;
  }
  fn moment(i : i32, meanSquare : f32) -> f32 {
    return mom[i] * uniforms.momentum + grad[i] * uniforms.lr / sqrt(meanSquare + uniforms.eps);
  }`;

const ONE_PASS = `
      let newMeanSquare = ms[index] * uniforms.decay + grad[index] * grad[index] * uniforms.rest;
      let newMoment = mom[index] * uniforms.momentum + grad[index] * uniforms.lr / sqrt(newMeanSquare + uniforms.eps);
      valueOut[index] = value[index] - newMoment;
      msOut[index] = newMeanSquare;
      momOut[index] = newMoment;`;

/** The fallback's passes, one an output. */
const OUTPUTS = {
  value: 'result[index] = value[index] - moment(index, meanSquare(index));',
  ms: 'result[index] = meanSquare(index);',
  mom: 'result[index] = moment(index, meanSquare(index));',
};

/** RMSPropUpdate: inputs value, ms, mom, grad (one shape); outputs the new value, mean square and moment. */
export function rmspropUpdate(args: {
  inputs: Record<'value' | 'ms' | 'mom' | 'grad', TensorInfo>;
  backend: unknown;
  attrs: Attrs;
}): TensorInfo[] {
  const { value, ms, mom, grad } = args.inputs;
  const { decay, momentum, learningRate, epsilon } = args.attrs;
  const uniforms = [float32(decay), float32(1 - decay), float32(momentum), float32(learningRate), float32(epsilon)];
  const inputs = [value, ms, mom, grad];
  const outputShape = [...value.shape];
  const program = { key: 'rmsprop', inputs: INPUTS, outputs: ['valueOut', 'msOut', 'momOut'], outputShape };
  const outputs = runMultiOutput(args.backend, { ...program, uniforms: UNIFORMS, body: ONE_PASS }, inputs, uniforms);
  if (outputs) return outputs;
  return (['value', 'ms', 'mom'] as const).map((output) => {
    const pass = { key: `rmsprop_${output}`, inputs: INPUTS, outputShape, uniforms: UNIFORMS, helpers: STEPS };
    return runFlat(args.backend as WebgpuBackendLike, { ...pass, body: OUTPUTS[output] }, inputs, uniforms);
  });
}
