/**
 * ONNX export, layer by layer (see onnx.ts): each layer of model.json's list becomes ONNX nodes on the graph being
 * built and its weights initializers (Conv2D's kernel in ONNX's order), on the NCHW image until Flatten turns it
 * back to NHWC. A layer or setting the converter does not understand is refused with a UserError, never guessed.
 */
import { UserError } from '../core/userError';
import type { Attribute } from './onnxProto';
import { float, int, ints, string, type GraphBuilder, type Shape } from './onnxGraphBuilder';

/** The layer classes the converter understands (Dropout is the identity at inference). */
export const ONNX_LAYERS = [
  'InputLayer',
  'Conv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'MaxPooling2D',
  'Flatten',
  'Dense',
  'Dropout',
  'PerImageStandardization',
] as const;

export interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

type Converter = (graph: GraphBuilder, name: string, config: Record<string, unknown>) => void;

const CONVERTERS: Record<(typeof ONNX_LAYERS)[number], Converter> = {
  InputLayer: () => {},
  Dropout: () => {},
  Conv2D: conv2d,
  BatchNormalization: batchNormalization,
  ReLU: relu,
  Activation: (graph, name, config) => activation(graph, name, config.activation),
  MaxPooling2D: maxPooling2d,
  Flatten: flatten,
  Dense: dense,
  PerImageStandardization: perImageStandardization,
};

export function convertLayer(graph: GraphBuilder, layer: LayerJson): void {
  const config = layer.config ?? {};
  const name = typeof config.name === 'string' ? config.name : layer.class_name;
  const convert = Object.hasOwn(CONVERTERS, layer.class_name)
    ? CONVERTERS[layer.class_name as keyof typeof CONVERTERS]
    : undefined;
  if (!convert)
    throw new UserError(
      `ONNX export cannot convert layer ${name} (${layer.class_name}); it converts ${ONNX_LAYERS.join(', ')}.`,
    );
  convert(graph, name, config);
}

/** Conv2D, channels-last: kernel [kh, kw, in, out] → ONNX's [out, in, kh, kw]. */
function conv2d(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const input = imageInput(graph, name, config);
  const filters = positive(config.filters, 'filters', name);
  const [kh, kw] = pair(config.kernel_size, 'kernel_size', name);
  const strides = pair(config.strides ?? 1, 'strides', name);
  const dilations = pair(config.dilation_rate ?? 1, 'dilation_rate', name);
  if ((config.groups ?? 1) !== 1)
    throw new UserError(`ONNX export cannot convert ${name}: grouped convolutions are not supported.`);
  const channels = input.channels;
  const kernel = graph.weight(name, 'kernel', [kh, kw, channels, filters]).values;
  const w = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < channels; i++)
        for (let o = 0; o < filters; o++)
          w[((o * channels + i) * kh + y) * kw + x] = kernel[((y * kw + x) * channels + i) * filters + o];
  const inputs = [graph.current, graph.initializer(`${name}/kernel`, [filters, channels, kh, kw], w)];
  if (config.use_bias !== false)
    inputs.push(graph.initializer(`${name}/bias`, [filters], graph.weight(name, 'bias', [filters]).values));
  const padding = paddingAttributes(config.padding, name);
  graph.add('Conv', name, inputs, [
    ints('kernel_shape', [kh, kw]),
    ints('strides', strides),
    ints('dilations', dilations),
    padding,
  ]);
  graph.shape = {
    kind: 'image',
    channels: filters,
    height: outputSide(input.height, kh, strides[0], dilations[0], config.padding, name),
    width: outputSide(input.width, kw, strides[1], dilations[1], config.padding, name),
  };
  activation(graph, name, config.activation);
}

/** BatchNormalization at inference: (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta, on the channel axis. */
function batchNormalization(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const shape = graph.shape;
  const axis =
    Array.isArray(config.axis) && config.axis.length === 1 ? (config.axis[0] as unknown) : (config.axis ?? -1);
  const channelAxis = shape.kind === 'image' ? 3 : 1;
  if (axis !== -1 && axis !== channelAxis)
    throw new UserError(
      `ONNX export cannot convert ${name}: it normalises axis ${JSON.stringify(axis)}, not the channels.`,
    );
  const n = shape.kind === 'image' ? shape.channels : shape.features;
  const scale = config.scale === false ? new Float32Array(n).fill(1) : graph.weight(name, 'gamma', [n]).values;
  const bias = config.center === false ? new Float32Array(n) : graph.weight(name, 'beta', [n]).values;
  const inputs = [
    graph.current,
    graph.initializer(`${name}/gamma`, [n], scale),
    graph.initializer(`${name}/beta`, [n], bias),
    graph.initializer(`${name}/moving_mean`, [n], graph.weight(name, 'moving_mean', [n]).values),
    graph.initializer(`${name}/moving_variance`, [n], graph.weight(name, 'moving_variance', [n]).values),
  ];
  graph.add('BatchNormalization', name, inputs, [float('epsilon', (config.epsilon as number | undefined) ?? 1e-3)]);
}

/**
 * The app's intensity normalisation layer (model/intensityNormalisation.ts): each image minus its mean over all its
 * values, divided by sqrt(max(variance, 1 / N)), N = height x width x channels (tf.image.per_image_standardization).
 */
function perImageStandardization(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const input = imageInput(graph, name, config);
  const over = [ints('axes', [1, 2, 3]), int('keepdims', 1)];
  const image = graph.current;
  graph.add('ReduceMean', `${name}/mean`, [image], over);
  graph.add('Sub', `${name}/centred`, [image, graph.current]);
  const centred = graph.current;
  graph.add('Mul', `${name}/squared`, [centred, centred]);
  graph.add('ReduceMean', `${name}/variance`, [graph.current], over);
  const floor = graph.initializer(
    `${name}/min_variance`,
    [],
    new Float32Array([1 / (input.height * input.width * input.channels)]),
  );
  graph.add('Max', `${name}/floored`, [graph.current, floor]);
  graph.add('Sqrt', `${name}/std`, [graph.current]);
  graph.add('Div', name, [centred, graph.current]);
}

function relu(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const plain = config.max_value == null && !config.negative_slope && !config.threshold;
  if (!plain)
    throw new UserError(
      `ONNX export cannot convert ${name}: only a plain ReLU (no max_value, negative_slope or threshold).`,
    );
  graph.add('Relu', name, [graph.current]);
}

/** A Keras activation by name, applied to the current tensor (softmax over the channels or the features). */
function activation(graph: GraphBuilder, name: string, kind: unknown): void {
  const ops: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' };
  if (kind === undefined || kind === null || kind === 'linear') return;
  const op = typeof kind === 'string' && Object.hasOwn(ops, kind) ? ops[kind] : undefined;
  if (!op)
    throw new UserError(
      `ONNX export cannot convert ${name}'s activation ${JSON.stringify(kind)}; it converts linear, ${Object.keys(ops).join(', ')}.`,
    );
  const attributes = op === 'Softmax' ? [int('axis', graph.shape.kind === 'image' ? 1 : -1)] : [];
  graph.add(op, `${name}/${kind}`, [graph.current], attributes);
}

function maxPooling2d(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const input = imageInput(graph, name, config);
  const pool = pair(config.pool_size ?? 2, 'pool_size', name);
  const strides = pair(config.strides ?? pool, 'strides', name);
  graph.add(
    'MaxPool',
    name,
    [graph.current],
    [ints('kernel_shape', pool), ints('strides', strides), paddingAttributes(config.padding, name)],
  );
  graph.shape = {
    kind: 'image',
    channels: input.channels,
    height: outputSide(input.height, pool[0], strides[0], 1, config.padding, name),
    width: outputSide(input.width, pool[1], strides[1], 1, config.padding, name),
  };
}

/** Keras flattens channels-last (h, w, c): back to NHWC first, so the next Dense's rows line up. */
function flatten(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const shape = graph.shape;
  if (shape.kind === 'flat') return;
  imageInput(graph, name, config);
  graph.add('Transpose', `${name}/to_nhwc`, [graph.current], [ints('perm', [0, 2, 3, 1])]);
  graph.add('Flatten', name, [graph.current], [int('axis', 1)]);
  graph.shape = { kind: 'flat', features: shape.height * shape.width * shape.channels };
}

/** Dense: x · kernel [in, units] + bias, as Gemm (MatMul without a bias). */
function dense(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const shape = graph.shape;
  if (shape.kind !== 'flat')
    throw new UserError(
      `ONNX export cannot convert ${name}: a Dense layer on an image-shaped input (add Flatten first).`,
    );
  const units = positive(config.units, 'units', name);
  const inputs = [
    graph.current,
    graph.initializer(
      `${name}/kernel`,
      [shape.features, units],
      graph.weight(name, 'kernel', [shape.features, units]).values,
    ),
  ];
  if (config.use_bias !== false)
    inputs.push(graph.initializer(`${name}/bias`, [units], graph.weight(name, 'bias', [units]).values));
  graph.add(inputs.length === 3 ? 'Gemm' : 'MatMul', name, inputs);
  graph.shape = { kind: 'flat', features: units };
  activation(graph, name, config.activation);
}

function imageInput(
  graph: GraphBuilder,
  name: string,
  config: Record<string, unknown>,
): Extract<Shape, { kind: 'image' }> {
  if (config.data_format !== undefined && config.data_format !== 'channels_last') {
    throw new UserError(
      `ONNX export cannot convert ${name}: data_format ${String(config.data_format)} (only channels_last).`,
    );
  }
  if (graph.shape.kind !== 'image')
    throw new UserError(`ONNX export cannot convert ${name}: it needs an image-shaped input, but comes after Flatten.`);
  return graph.shape;
}

function positive(value: unknown, what: string, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new UserError(
      `ONNX export cannot convert ${name}: ${what} ${JSON.stringify(value)} is not a positive whole number.`,
    );
  return value as number;
}

function pair(value: unknown, what: string, name: string): [number, number] {
  const both = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(both) || both.length !== 2 || !both.every((n) => Number.isInteger(n) && n > 0)) {
    throw new UserError(
      `ONNX export cannot convert ${name}: ${what} ${JSON.stringify(value)} is not one or two positive whole numbers.`,
    );
  }
  return both as [number, number];
}

/** Keras 'valid' is no padding; 'same' pads the extra pixel at the end, which is ONNX's SAME_UPPER. */
function paddingAttributes(padding: unknown, name: string): Attribute {
  if (padding === undefined || padding === 'valid') return ints('pads', [0, 0, 0, 0]);
  if (padding === 'same') return string('auto_pad', 'SAME_UPPER');
  throw new UserError(`ONNX export cannot convert ${name}: padding ${JSON.stringify(padding)} (only valid and same).`);
}

/** Output side of a convolution or pooling; 'valid' floors as Keras does. */
function outputSide(
  side: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: unknown,
  name: string,
): number {
  const out =
    padding === 'same' ? Math.ceil(side / stride) : Math.floor((side - (kernel - 1) * dilation - 1) / stride) + 1;
  if (out < 1)
    throw new UserError(`ONNX export cannot convert ${name}: its ${side} px input is smaller than its window.`);
  return out;
}
