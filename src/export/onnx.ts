/**
 * ONNX export: a trained model, as the two files of the TensorFlow.js layers format the app writes (model.json and
 * weights.bin), rewritten as one .onnx file (opset 13) that ONNX Runtime and friends run as they are.
 *
 * Driven by model.json's layer list (a Keras-style Sequential): each layer becomes ONNX nodes, each weight an
 * initializer; anything not understood is refused rather than guessed. The graph takes what the tfjs model takes,
 * `image` float32 [batch, S, S, 1] (NHWC, grey / 255), transposes once to NCHW for Conv, BatchNormalization and
 * MaxPool, and back to NHWC before Flatten (Keras flattens channels-last), so Dense's weights keep their order.
 * Its output `probabilities` is the tfjs model's output (one sigmoid unit, or a softmax over the classes).
 * Pure bytes: no tfjs here (layering.test.ts).
 */
import type { ModelMetadata } from '../core/types';
import { UserError } from '../core/userError';
import { encodeModel, float, GraphBuilder, int, ints, string, valueInfo, type Attribute, type Shape, type Weight } from './onnxProto';

export const ONNX_INPUT = 'image';
export const ONNX_OUTPUT = 'probabilities';
export const ONNX_OPSET = 13;
/** The IR version of ONNX 1.8, the release that brought opset 13. */
export const ONNX_IR_VERSION = 7;
export const ONNX_PRODUCER = 'xray-trainer';
/** The layer classes the converter understands (Dropout is the identity at inference). */
export const ONNX_LAYERS = ['InputLayer', 'Conv2D', 'BatchNormalization', 'ReLU', 'Activation', 'MaxPooling2D', 'Flatten', 'Dense', 'Dropout'] as const;

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

/** Converts the layers-format files of a model to the bytes of an .onnx file. Throws a UserError for what it cannot convert. */
export function layersModelToOnnx(modelJson: string, weights: ArrayBuffer, metadata: ModelMetadata): Uint8Array {
  const json = parseJson(modelJson);
  const { name, layers } = sequentialLayers(json.modelTopology);
  const graph = new GraphBuilder(readWeights(json.weightsManifest, weights));
  const [height, width, channels] = inputShape(layers);
  if (height !== metadata.imageSize || width !== metadata.imageSize || channels !== metadata.channels) {
    throw new UserError(`The model takes ${height}x${width}x${channels} images but its metadata says ${metadata.imageSize} px, ${metadata.channels} channel(s).`);
  }
  graph.start(ONNX_INPUT, ONNX_OUTPUT, { kind: 'image', channels, height, width });
  for (const layer of layers) convertLayer(graph, layer);
  checkHead(graph, metadata);
  const outputDims = graph.finish(ONNX_OUTPUT);
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: ONNX_PRODUCER,
    docString: `${metadata.model} CNN trained in the browser by ${ONNX_PRODUCER}; converted from ${json.generatedBy ?? 'the TensorFlow.js layers format'}.`,
    graph: {
      name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(ONNX_INPUT, [{ dimParam: 'batch' }, { dimValue: height }, { dimValue: width }, { dimValue: channels }], `Grey images, NHWC: ${metadata.normalisation}.`)],
      output: [valueInfo(ONNX_OUTPUT, outputDims, outputDoc(metadata))],
    },
    metadataProps: metadataProps(metadata, json.generatedBy),
  });
}

/** The model's metadata.json fields as ONNX metadata_props (strings; absent where the field is null). */
export function metadataProps(metadata: ModelMetadata, convertedFrom?: string): { key: string; value: string }[] {
  const entries: [string, string | number | null][] = [
    ['model', metadata.model],
    ['class_names', JSON.stringify(metadata.classNames)],
    ['image_size', metadata.imageSize],
    ['channels', metadata.channels],
    ['normalisation', metadata.normalisation],
    ['resize', metadata.resize],
    ['input', `${ONNX_INPUT}: float32 [batch, ${metadata.imageSize}, ${metadata.imageSize}, ${metadata.channels}] (NHWC)`],
    ['output', metadata.output],
    ['positive_class', metadata.positiveClass],
    ['threshold', metadata.threshold],
    ['threshold_class', metadata.thresholdClass],
    ['threshold_rule', metadata.thresholdRule],
    ['trained_epochs', metadata.trainedEpochs],
    ['backend', metadata.backend],
    ['created_at', metadata.createdAt],
    ['producer', ONNX_PRODUCER],
    ['converted_from', convertedFrom ?? null],
  ];
  return entries.filter((entry): entry is [string, string | number] => entry[1] !== null).map(([key, value]) => ({ key, value: String(value) }));
}

function outputDoc(metadata: ModelMetadata): string {
  return metadata.output === 'sigmoid'
    ? `P(${metadata.positiveClass ?? metadata.classNames[1]}), one sigmoid unit.`
    : `Softmax over the classes ${JSON.stringify(metadata.classNames)}, in that order.`;
}

function parseJson(text: string): { modelTopology?: unknown; weightsManifest?: unknown; generatedBy?: string } {
  try {
    return JSON.parse(text) as { modelTopology?: unknown; weightsManifest?: unknown; generatedBy?: string };
  } catch (error) {
    throw new UserError(`model.json is not JSON: ${(error as Error).message}`);
  }
}

/** The layers of a Sequential topology, as tfjs writes it (`{class_name, config: {name, layers}}`, or under `model_config`). */
function sequentialLayers(topology: unknown): { name: string; layers: LayerJson[] } {
  const root = (topology as { model_config?: unknown } | undefined)?.model_config ?? topology;
  const model = root as { class_name?: string; config?: { name?: string; layers?: LayerJson[] } | LayerJson[] } | undefined;
  if (model?.class_name !== 'Sequential') {
    throw new UserError(`ONNX export converts Sequential models only; model.json holds ${model?.class_name ?? 'no model topology'}.`);
  }
  const config = model.config;
  const layers = Array.isArray(config) ? config : config?.layers;
  if (!Array.isArray(layers) || layers.length === 0) throw new UserError('model.json lists no layers.');
  return { name: (Array.isArray(config) ? undefined : config?.name) ?? 'model', layers };
}

/** [height, width, channels] of the model's input, from the first layer's batch input shape. */
function inputShape(layers: LayerJson[]): [number, number, number] {
  const config = layers[0].config ?? {};
  const shape = (config.batch_input_shape ?? config.batch_shape) as (number | null)[] | undefined;
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.slice(1).every((n) => Number.isInteger(n) && (n as number) > 0)) {
    throw new UserError(`ONNX export needs images of a fixed size, [batch, height, width, channels]; the model's input is ${JSON.stringify(shape)}.`);
  }
  if (config.dtype !== undefined && config.dtype !== 'float32') throw new UserError(`The model's input is ${String(config.dtype)}, not float32.`);
  return shape.slice(1) as [number, number, number];
}

/** weights.bin split by the manifest, every weight float32 little-endian, in manifest order. */
function readWeights(manifest: unknown, buffer: ArrayBuffer): Map<string, Weight> {
  if (!Array.isArray(manifest)) throw new UserError('model.json has no weightsManifest.');
  const specs = (manifest as { weights?: WeightSpec[] }[]).flatMap((group) => group.weights ?? []);
  const found = new Map<string, Weight>();
  const view = new DataView(buffer);
  let offset = 0;
  for (const spec of specs) {
    if (spec.dtype !== 'float32' || spec.quantization !== undefined) {
      throw new UserError(`ONNX export reads float32 weights only; ${spec.name} is ${spec.quantization ? 'quantized' : spec.dtype}.`);
    }
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + 4 * count > buffer.byteLength) throw new UserError(`weights.bin is too short for model.json's weights (it ends in ${spec.name}).`);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(offset + 4 * i, true);
    found.set(spec.name, { shape: spec.shape, values });
    offset += 4 * count;
  }
  if (offset !== buffer.byteLength) throw new UserError(`weights.bin holds ${buffer.byteLength} bytes but model.json describes ${offset}.`);
  return found;
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
};

function convertLayer(graph: GraphBuilder, layer: LayerJson): void {
  const config = layer.config ?? {};
  const name = typeof config.name === 'string' ? config.name : layer.class_name;
  const convert = Object.hasOwn(CONVERTERS, layer.class_name) ? CONVERTERS[layer.class_name as keyof typeof CONVERTERS] : undefined;
  if (!convert) throw new UserError(`ONNX export cannot convert layer ${name} (${layer.class_name}); it converts ${ONNX_LAYERS.join(', ')}.`);
  convert(graph, name, config);
}

/** Conv2D, channels-last: kernel [kh, kw, in, out] → ONNX's [out, in, kh, kw]. */
function conv2d(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const input = imageInput(graph, name, config);
  const filters = positive(config.filters, 'filters', name);
  const [kh, kw] = pair(config.kernel_size, 'kernel_size', name);
  const strides = pair(config.strides ?? 1, 'strides', name);
  const dilations = pair(config.dilation_rate ?? 1, 'dilation_rate', name);
  if ((config.groups ?? 1) !== 1) throw new UserError(`ONNX export cannot convert ${name}: grouped convolutions are not supported.`);
  const channels = input.channels;
  const kernel = graph.weight(name, 'kernel', [kh, kw, channels, filters]).values;
  const w = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < channels; i++)
        for (let o = 0; o < filters; o++) w[((o * channels + i) * kh + y) * kw + x] = kernel[((y * kw + x) * channels + i) * filters + o];
  const inputs = [graph.current, graph.initializer(`${name}/kernel`, [filters, channels, kh, kw], w)];
  if (config.use_bias !== false) inputs.push(graph.initializer(`${name}/bias`, [filters], graph.weight(name, 'bias', [filters]).values));
  const padding = paddingAttributes(config.padding, name);
  graph.add('Conv', name, inputs, [ints('kernel_shape', [kh, kw]), ints('strides', strides), ints('dilations', dilations), padding]);
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
  const axis = Array.isArray(config.axis) && config.axis.length === 1 ? (config.axis[0] as unknown) : (config.axis ?? -1);
  const channelAxis = shape.kind === 'image' ? 3 : 1;
  if (axis !== -1 && axis !== channelAxis) throw new UserError(`ONNX export cannot convert ${name}: it normalises axis ${JSON.stringify(axis)}, not the channels.`);
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

function relu(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const plain = config.max_value == null && !config.negative_slope && !config.threshold;
  if (!plain) throw new UserError(`ONNX export cannot convert ${name}: only a plain ReLU (no max_value, negative_slope or threshold).`);
  graph.add('Relu', name, [graph.current]);
}

/** A Keras activation by name, applied to the current tensor (softmax over the channels or the features). */
function activation(graph: GraphBuilder, name: string, kind: unknown): void {
  const ops: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' };
  if (kind === undefined || kind === null || kind === 'linear') return;
  const op = typeof kind === 'string' && Object.hasOwn(ops, kind) ? ops[kind] : undefined;
  if (!op) throw new UserError(`ONNX export cannot convert ${name}'s activation ${JSON.stringify(kind)}; it converts linear, ${Object.keys(ops).join(', ')}.`);
  const attributes = op === 'Softmax' ? [int('axis', graph.shape.kind === 'image' ? 1 : -1)] : [];
  graph.add(op, `${name}/${kind}`, [graph.current], attributes);
}

function maxPooling2d(graph: GraphBuilder, name: string, config: Record<string, unknown>): void {
  const input = imageInput(graph, name, config);
  const pool = pair(config.pool_size ?? 2, 'pool_size', name);
  const strides = pair(config.strides ?? pool, 'strides', name);
  graph.add('MaxPool', name, [graph.current], [ints('kernel_shape', pool), ints('strides', strides), paddingAttributes(config.padding, name)]);
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
  if (shape.kind !== 'flat') throw new UserError(`ONNX export cannot convert ${name}: a Dense layer on an image-shaped input (add Flatten first).`);
  const units = positive(config.units, 'units', name);
  const inputs = [graph.current, graph.initializer(`${name}/kernel`, [shape.features, units], graph.weight(name, 'kernel', [shape.features, units]).values)];
  if (config.use_bias !== false) inputs.push(graph.initializer(`${name}/bias`, [units], graph.weight(name, 'bias', [units]).values));
  graph.add(inputs.length === 3 ? 'Gemm' : 'MatMul', name, inputs);
  graph.shape = { kind: 'flat', features: units };
  activation(graph, name, config.activation);
}

function imageInput(graph: GraphBuilder, name: string, config: Record<string, unknown>): Extract<Shape, { kind: 'image' }> {
  if (config.data_format !== undefined && config.data_format !== 'channels_last') {
    throw new UserError(`ONNX export cannot convert ${name}: data_format ${String(config.data_format)} (only channels_last).`);
  }
  if (graph.shape.kind !== 'image') throw new UserError(`ONNX export cannot convert ${name}: it needs an image-shaped input, but comes after Flatten.`);
  return graph.shape;
}

function positive(value: unknown, what: string, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw new UserError(`ONNX export cannot convert ${name}: ${what} ${JSON.stringify(value)} is not a positive whole number.`);
  return value as number;
}

function pair(value: unknown, what: string, name: string): [number, number] {
  const both = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(both) || both.length !== 2 || !both.every((n) => Number.isInteger(n) && n > 0)) {
    throw new UserError(`ONNX export cannot convert ${name}: ${what} ${JSON.stringify(value)} is not one or two positive whole numbers.`);
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
function outputSide(side: number, kernel: number, stride: number, dilation: number, padding: unknown, name: string): number {
  const out = padding === 'same' ? Math.ceil(side / stride) : Math.floor((side - (kernel - 1) * dilation - 1) / stride) + 1;
  if (out < 1) throw new UserError(`ONNX export cannot convert ${name}: its ${side} px input is smaller than its window.`);
  return out;
}

/** The head must be what the metadata says: one sigmoid unit for two classes, or a softmax over them all. */
function checkHead(graph: GraphBuilder, metadata: ModelMetadata): void {
  const units = graph.shape.kind === 'flat' ? graph.shape.features : null;
  const expected = metadata.output === 'sigmoid' ? 1 : metadata.classNames.length;
  const op = metadata.output === 'sigmoid' ? 'Sigmoid' : 'Softmax';
  const last = graph.nodes[graph.nodes.length - 1]?.opType;
  if ((metadata.output === 'sigmoid' && metadata.classNames.length !== 2) || units !== expected || last !== op) {
    throw new UserError(
      `The model's output (${units ?? 'an image'} unit(s), ${last}) does not match its metadata (${metadata.output} over ${metadata.classNames.length} classes).`,
    );
  }
}
