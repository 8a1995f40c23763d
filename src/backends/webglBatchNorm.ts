/**
 * The two BatchNormalization training kernels (model/batchNormTraining.ts says what they compute and why) for
 * the WebGL backend. Without them tfjs-layers normalises with tf.moments and differentiates op by op: its Sum and
 * Mean kernels over [n, h, w, c] sum each channel in one fragment (transposing first), and some twenty element-wise
 * passes follow. Here each direction is one split reduction per channel (webglReduce.ts) and one element-wise pass:
 *   forward   Σ(x − s) and Σ(x − s)² per channel (s: the channel's first value, against cancellation), then
 *             mean and variance ([c] each), then y = (x − mean)·γ/σ + β, max(0, y) with a fused ReLU;
 *   backward  Σg and Σg·(x − mean) per channel (g: dy, masked where the fused ReLU's output is 0), then
 *             dx = γ/σ·(g − Σg/N − (x − mean)·Σg(x − mean)/(N·σ²)), dγ = Σg(x − mean)/σ, dβ = Σg.
 */
import type * as tf from '@tensorflow/tfjs';
import type { GPGPUProgram, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { ChannelSumsProgram, foldRows, glslFloat, nhwcFloat, type WebglKernelArgs } from './webglReduce';

type TensorInfo = tf.TensorInfo;
type Shape4 = [number, number, number, number];

interface Attrs {
  varianceEpsilon: number;
  /** A ReLU after the layer, fused: forward, y is max(0, y); backward, y (its output) is an input and masks dy. */
  relu?: boolean;
}

/** dy, masked by the fused ReLU's output where there is one (an input named y). */
const maskedDy = (relu: boolean, at: string) => (relu ? `(getY(${at}) > 0.0 ? getDy(${at}) : 0.0)` : `getDy(${at})`);

/** A per-channel [c] result computed from the totals [1, 2c] (S1, S2) and the inputs named. */
class ChannelProgram implements GPGPUProgram {
  readonly outputShape: number[];
  readonly userCode: string;

  constructor(
    readonly variableNames: string[],
    c: number,
    value: string,
  ) {
    this.outputShape = [c];
    this.userCode = `
      void main() {
        int ch = getOutputCoords();
        float s1 = getTotals(0, ch);
        float s2 = getTotals(0, ch + ${c});
        setOutput(${value});
      }
    `;
  }
}

/** An element-wise pass over an NHWC tensor, `value` from the inputs at `b, r, col, ch` and per-channel numbers. */
class ElementwiseProgram implements GPGPUProgram {
  readonly userCode: string;

  constructor(
    readonly variableNames: string[],
    readonly outputShape: number[],
    setup: string,
    value: string,
  ) {
    this.userCode = `
      void main() {
        ivec4 coords = getOutputCoords();
        int b = coords.x;
        int r = coords.y;
        int col = coords.z;
        int ch = coords.w;
        ${setup}
        setOutput(${value});
      }
    `;
  }
}

function shapeOf(x: TensorInfo | undefined): Shape4 {
  const shape = nhwcFloat(x);
  if (shape === null) throw new Error('The WebGL BatchNormalization kernels take a float32 [n, h, w, c] tensor.');
  return shape;
}

/** Per-channel sums [1, 2c] of a split reduction; disposes its partials. */
function channelTotals(backend: MathBackendWebGL, program: ChannelSumsProgram, inputs: TensorInfo[]): TensorInfo {
  return foldRows(backend, backend.runWebGLProgram(program, inputs, 'float32'));
}

/** BatchNormTraining: inputs x, scale, offset; attributes varianceEpsilon, relu. Outputs y, mean, variance. */
export function webglBatchNormTraining(args: WebglKernelArgs): TensorInfo[] {
  const backend = args.backend as MathBackendWebGL;
  const { x, scale, offset } = args.inputs as Record<'x' | 'scale' | 'offset', TensorInfo>;
  const { varianceEpsilon, relu } = args.attrs as unknown as Attrs;
  const shape = shapeOf(x);
  const [n, h, w, c] = shape;
  const pixels = glslFloat(n * h * w);
  const at = 'b, r, col, ch';
  const sums = new ChannelSumsProgram(['x'], shape, 'float shift = getX(0, 0, 0, ch);', `getX(${at}) - shift`, 'a');
  const totals = channelTotals(backend, sums, [x]);
  try {
    // S1, S2: sums of d = x − shift; mean = shift + S1/N, variance = S2/N − (S1/N)² (population, as tf.moments).
    const mean = backend.runWebGLProgram(
      new ChannelProgram(['totals', 'x'], c, `getX(0, 0, 0, ch) + s1 / ${pixels}`),
      [totals, x],
      'float32',
    );
    const variance = backend.runWebGLProgram(
      new ChannelProgram(['totals'], c, `max(0.0, s2 / ${pixels} - (s1 / ${pixels}) * (s1 / ${pixels}))`),
      [totals],
      'float32',
    );
    const normalise = new ElementwiseProgram(
      ['x', 'mean', 'variance', 'scale', 'offset'],
      [...shape],
      `float k = getScale(ch) * inversesqrt(getVariance(ch) + ${glslFloat(varianceEpsilon)});`,
      relu
        ? `max(0.0, (getX(${at}) - getMean(ch)) * k + getOffset(ch))`
        : `(getX(${at}) - getMean(ch)) * k + getOffset(ch)`,
    );
    const y = backend.runWebGLProgram(normalise, [x, mean, variance, scale, offset], 'float32');
    return [y, mean, variance];
  } finally {
    backend.disposeIntermediateTensorInfo(totals);
  }
}

/**
 * BatchNormTrainingGrad: inputs dy, x, mean, variance, scale, and with a fused ReLU y (its output); attributes
 * varianceEpsilon, relu. Outputs dx, dscale, doffset.
 */
export function webglBatchNormTrainingGrad(args: WebglKernelArgs): TensorInfo[] {
  const backend = args.backend as MathBackendWebGL;
  const { dy, x, mean, variance, scale, y } = args.inputs as Record<
    'dy' | 'x' | 'mean' | 'variance' | 'scale',
    TensorInfo
  > & { y?: TensorInfo };
  const { varianceEpsilon } = args.attrs as unknown as Attrs;
  const shape = shapeOf(x);
  const [n, h, w, c] = shape;
  const pixels = glslFloat(n * h * w);
  const relu = y !== undefined;
  const at = 'b, r, col, ch';
  const masked = relu ? [y] : [];
  const names = relu ? ['y'] : [];
  const sums = new ChannelSumsProgram(
    ['dy', 'x', 'mean', ...names],
    shape,
    'float centre = getMean(ch);',
    maskedDy(relu, at),
    `getX(${at}) - centre`,
  );
  const totals = channelTotals(backend, sums, [dy, x, mean, ...masked]);
  try {
    const epsilon = glslFloat(varianceEpsilon);
    const gradient = new ElementwiseProgram(
      ['dy', 'x', 'mean', 'variance', 'scale', 'totals', ...names],
      [...shape],
      `float inverseSd = inversesqrt(getVariance(ch) + ${epsilon});
        float s1 = getTotals(0, ch);
        float s2 = getTotals(0, ch + ${c});`,
      `getScale(ch) * inverseSd * (${maskedDy(relu, at)} - s1 / ${pixels}
        - (getX(${at}) - getMean(ch)) * s2 * inverseSd * inverseSd / ${pixels})`,
    );
    const dx = backend.runWebGLProgram(gradient, [dy, x, mean, variance, scale, totals, ...masked], 'float32');
    const dscale = backend.runWebGLProgram(
      new ChannelProgram(['totals', 'variance'], c, `s2 * inversesqrt(getVariance(ch) + ${epsilon})`),
      [totals, variance],
      'float32',
    );
    const doffset = backend.runWebGLProgram(new ChannelProgram(['totals'], c, 's1'), [totals], 'float32');
    return [dx, dscale, doffset];
  } finally {
    backend.disposeIntermediateTensorInfo(totals);
  }
}
