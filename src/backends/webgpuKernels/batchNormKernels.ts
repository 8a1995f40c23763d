/**
 * The two BatchNormalization kernels of model/batchNormTraining.ts on WebGPU, so that a `batchnorm` layer in
 * training runs as five passes forward and five backward instead of tfjs-layers' chain of some twenty ops (moments,
 * batchNorm, and each of their gradients), whose Sum and Mean reduce a channel in one workgroup.
 *   forward   Σ(x − x₀) and Σ(x − x₀)² a channel, shifted by the channel's first value x₀ as the WebAssembly
 *             kernel does (reductions.ts: two passes); mean and population variance from those; then
 *             y = (x − mean)·γ/σ + β (σ = sqrt(variance + ε)), and max(0, y) with the fused ReLU.
 *   backward  Σg and Σg·(x − mean) (g = dy, or dy where y > 0 with the ReLU; two passes); dγ = Σg·(x − mean)/σ,
 *             dβ = Σg; dx = γ/σ·(g − Σg/N − (x − mean)·Σg·(x − mean)/(N·σ²)).
 * Channels last, float32; batchNormLayer.ts only calls them so.
 */
import { float32, runFlat, type TensorInfo, type WebgpuBackendLike } from './program';
import { channelSums } from './reductions';

interface Attrs {
  varianceEpsilon: number;
  relu?: boolean;
}

interface Args<I> {
  inputs: I;
  backend: unknown;
  attrs: Attrs;
}

const channelsOf = (x: TensorInfo) => x.shape[x.shape.length - 1];
const pixelsOf = (x: TensorInfo) => x.shape.reduce((a, b) => a * b, 1) / channelsOf(x);
/** An input and the name the shader reads it by. */
type Named = [string, TensorInfo];

/**
 * A per-channel result [c] from `sums` [terms, c] and other inputs; `expression` may use uniforms.count (the
 * pixels a channel) and uniforms.eps.
 */
function perChannel(
  backend: WebgpuBackendLike,
  key: string,
  inputs: Named[],
  expression: string,
  x: TensorInfo,
  eps: number,
): TensorInfo {
  const program = {
    key,
    inputs: inputs.map(([name]) => name),
    outputShape: [channelsOf(x)],
    uniforms: 'count : f32, eps : f32,',
    body: `result[index] = ${expression};`,
  };
  return runFlat(
    backend,
    program,
    inputs.map(([, t]) => t),
    [float32(pixelsOf(x)), float32(eps)],
  );
}

/** BatchNormTraining: inputs x, scale, offset; outputs y, mean, variance. */
export function batchNormTraining(args: Args<{ x: TensorInfo; scale: TensorInfo; offset: TensorInfo }>): TensorInfo[] {
  const backend = args.backend as WebgpuBackendLike;
  const { x, scale, offset } = args.inputs;
  const { varianceEpsilon, relu = false } = args.attrs;
  const stats = { key: 'batchNormStats', inputs: ['x'], prelude: 'let d = x[e] - x[ch];', terms: ['d', 'd * d'] };
  const sums = channelSums(backend, stats, [x]);
  // sums[0][ch] = Σ(x − x₀), sums[1][ch] = Σ(x − x₀)², x₀ = x[ch] (the first pixel's value).
  const meanExpression = 'x[index] + sums[index] / uniforms.count';
  const mean = perChannel(
    backend,
    'batchNormMean',
    [
      ['sums', sums],
      ['x', x],
    ],
    meanExpression,
    x,
    varianceEpsilon,
  );
  const variance = perChannel(
    backend,
    'batchNormVariance',
    [['sums', sums]],
    // Σ(x − x₀)²/N − (Σ(x − x₀)/N)²: the population variance, as tf.moments.
    'max(0.0, sums[uniforms.sumsShape[1] + index] / uniforms.count' +
      ' - (sums[index] / uniforms.count) * (sums[index] / uniforms.count))',
    x,
    varianceEpsilon,
  );
  backend.disposeData(sums.dataId);
  const normalise = {
    key: `batchNormApply_${relu}`,
    inputs: ['x', 'mean', 'variance', 'scale', 'offset'],
    outputShape: [...x.shape],
    uniforms: 'eps : f32,',
    body: `
      let ch = index % uniforms.meanShape;
      let value = (x[index] - mean[ch]) * (scale[ch] / sqrt(variance[ch] + uniforms.eps)) + offset[ch];
      result[index] = ${relu ? 'max(value, 0.0)' : 'value'};`,
  };
  const y = runFlat(backend, normalise, [x, mean, variance, scale, offset], [float32(varianceEpsilon)]);
  return [y, mean, variance];
}

/** BatchNormTrainingGrad: inputs dy, x, mean, variance, scale (and y with the ReLU); outputs dx, dscale, doffset. */
export function batchNormTrainingGrad(
  args: Args<Record<'dy' | 'x' | 'mean' | 'variance' | 'scale', TensorInfo> & { y?: TensorInfo }>,
): TensorInfo[] {
  const backend = args.backend as WebgpuBackendLike;
  const { dy, x, mean, variance, scale, y } = args.inputs;
  const { varianceEpsilon } = args.attrs;
  const pixels = pixelsOf(x);
  const masked = y !== undefined;
  const g = masked ? 'select(0.0, dy[e], y[e] > 0.0)' : 'dy[e]';
  const mask: Named[] = masked ? [['y', y]] : [];
  const sumInputs: Named[] = [['dy', dy], ['x', x], ['mean', mean], ...mask];
  const terms = {
    key: `batchNormGradSums_${masked}`,
    inputs: sumInputs.map(([name]) => name),
    prelude: `let g = ${g};`,
    terms: ['g', 'g * (x[e] - mean[ch])'],
  };
  const sums = channelSums(
    backend,
    terms,
    sumInputs.map(([, t]) => t),
  );
  // sums[0][ch] = Σg, sums[1][ch] = Σg·(x − mean).
  const dscaleExpression = 'sums[uniforms.sumsShape[1] + index] / sqrt(variance[index] + uniforms.eps)';
  const dscaleInputs: Named[] = [
    ['sums', sums],
    ['variance', variance],
  ];
  const dscale = perChannel(backend, 'batchNormDScale', dscaleInputs, dscaleExpression, x, varianceEpsilon);
  const doffset = perChannel(backend, 'batchNormDOffset', [['sums', sums]], 'sums[index]', x, varianceEpsilon);
  const dxInputs: Named[] = [
    ['dy', dy],
    ['x', x],
    ['mean', mean],
    ['variance', variance],
    ['scale', scale],
    ['sums', sums],
    ...mask,
  ];
  const dxProgram = {
    key: `batchNormGradApply_${masked}`,
    inputs: dxInputs.map(([name]) => name),
    outputShape: [...x.shape],
    uniforms: 'eps : f32, count : f32,',
    body: `
      let e = index;
      let ch = index % uniforms.meanShape;
      let inverseSd = 1.0 / sqrt(variance[ch] + uniforms.eps);
      let factor = scale[ch] * inverseSd;
      let g = ${g};
      let sumG = sums[ch];
      let sumGCentred = sums[uniforms.sumsShape[1] + ch];
      let centredTerm = (x[e] - mean[ch]) * sumGCentred * inverseSd * inverseSd / uniforms.count;
      result[index] = factor * (g - sumG / uniforms.count - centredTerm);`,
  };
  const dx = runFlat(
    backend,
    dxProgram,
    dxInputs.map(([, t]) => t),
    [float32(varianceEpsilon), float32(pixels)],
  );
  backend.disposeData(sums.dataId);
  return [dx, dscale, doffset];
}
