/**
 * ONNX export: a trained model, as the two files of the TensorFlow.js layers format the app writes (model.json and
 * weights.bin), rewritten as one .onnx file (opset 13) that ONNX Runtime and friends run as they are.
 *
 * Driven by model.json's layer list (a Keras-style Sequential): each layer becomes ONNX nodes, each weight an
 * initializer (onnxLayers.ts); anything not understood is refused rather than guessed. The graph takes what the
 * tfjs model takes, `image` float32 [batch, S, S, 1] (NHWC, grey / 255), transposes once to NCHW for Conv,
 * BatchNormalization and MaxPool, and back to NHWC before Flatten (Keras flattens channels-last), so Dense's
 * weights keep their order.
 * Its output `probabilities` is the tfjs model's output (one sigmoid unit, or a softmax over the classes).
 * Pure bytes: no tfjs here (layering.test.ts).
 */
import type { ModelMetadata } from '../core/types';
import { UserError } from '../core/userError';
import { ENSEMBLE_AVERAGE_LAYER_NAME } from '../core/ensemble';
import { convertLayer, ONNX_LAYERS, type LayerJson } from './onnxLayers';
import { encodeModel } from './onnxProto';
import { GraphBuilder, valueInfo, type Weight } from './onnxGraphBuilder';
import { FeatureOutput } from './onnxFeatures';

export const ONNX_INPUT = 'image';
export const ONNX_OUTPUT = 'probabilities';
/**
 * The second output, present when the metadata carries out-of-distribution statistics: the features they judge
 * (onnxFeatures.ts): the penultimate layer's output, or the feature ensemble's layers pooled and concatenated.
 */
export const ONNX_FEATURES = 'features';
export const ONNX_OPSET = 13;
/** The IR version of ONNX 1.8, the release that brought opset 13. */
export const ONNX_IR_VERSION = 7;
export const ONNX_PRODUCER = 'xray-trainer';
export { ONNX_LAYERS };

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
    throw new UserError(
      `The model takes ${height}x${width}x${channels} images but its metadata says ${metadata.imageSize} px, ${metadata.channels} channel(s).`,
    );
  }
  graph.start(ONNX_INPUT, [ONNX_OUTPUT, ONNX_FEATURES], { kind: 'image', channels, height, width });
  // With out-of-distribution statistics, the features they judge are a second output, so a runtime can judge.
  const features = new FeatureOutput(metadata.outOfDistribution);
  features.afterStart(graph);
  for (const layer of layers) {
    convertLayer(graph, layer);
    features.afterLayer(graph, layer.config?.name);
  }
  checkHead(graph, metadata);
  // finish may rename the last tensor to the output; a feature layer read there is then read by that name.
  const last = graph.current;
  const outputDims = graph.finish(ONNX_OUTPUT);
  const renamed = graph.nodes.some((node) => node.output.includes(last)) ? null : last;
  const outputs = [valueInfo(ONNX_OUTPUT, outputDims, outputDoc(metadata))];
  const featuresOutput = features.addOutput(graph, ONNX_FEATURES, { from: renamed, to: ONNX_OUTPUT });
  if (featuresOutput) outputs.push(featuresOutput);
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: ONNX_PRODUCER,
    docString: `${metadata.model} CNN trained in the browser by ${ONNX_PRODUCER}; converted from ${json.generatedBy ?? 'the TensorFlow.js layers format'}.`,
    graph: {
      name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [
        valueInfo(
          ONNX_INPUT,
          [{ dimParam: 'batch' }, { dimValue: height }, { dimValue: width }, { dimValue: channels }],
          `Grey images, NHWC: ${metadata.normalisation}.`,
        ),
      ],
      output: outputs,
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
    [
      'input',
      `${ONNX_INPUT}: float32 [batch, ${metadata.imageSize}, ${metadata.imageSize}, ${metadata.channels}] (NHWC)`,
    ],
    ['output', metadata.output],
    ['positive_class', metadata.positiveClass],
    ['threshold', metadata.threshold],
    ['threshold_class', metadata.thresholdClass],
    ['threshold_rule', metadata.thresholdRule],
    ['trained_epochs', metadata.trainedEpochs],
    ['backend', metadata.backend],
    ['created_at', metadata.createdAt],
    // metadata.json's outOfDistribution as JSON (docs/out-of-distribution.md says how to use it).
    ['out_of_distribution', metadata.outOfDistribution ? JSON.stringify(metadata.outOfDistribution) : null],
    // A snapshot ensemble saved as one model ({"kind":"snapshot","members":K}); its output is the members' mean.
    ['ensemble', metadata.ensemble ? JSON.stringify(metadata.ensemble) : null],
    // How its training films were decoded (core/inputDecoding.ts); absent for a model trained before it was recorded.
    ['input_decoding', metadata.inputDecoding ?? null],
    ['producer', ONNX_PRODUCER],
    ['converted_from', convertedFrom ?? null],
  ];
  return entries
    .filter((entry): entry is [string, string | number] => entry[1] !== null)
    .map(([key, value]) => ({ key, value: String(value) }));
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
  const model = root as
    { class_name?: string; config?: { name?: string; layers?: LayerJson[] } | LayerJson[] } | undefined;
  if (model?.class_name !== 'Sequential') {
    throw new UserError(
      `ONNX export converts Sequential models only; model.json holds ${model?.class_name ?? 'no model topology'}.`,
    );
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
  if (
    !Array.isArray(shape) ||
    shape.length !== 4 ||
    !shape.slice(1).every((n) => Number.isInteger(n) && (n as number) > 0)
  ) {
    throw new UserError(
      `ONNX export needs images of a fixed size, [batch, height, width, channels]; the model's input is ${JSON.stringify(shape)}.`,
    );
  }
  if (config.dtype !== undefined && config.dtype !== 'float32')
    throw new UserError(`The model's input is ${String(config.dtype)}, not float32.`);
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
      throw new UserError(
        `ONNX export reads float32 weights only; ${spec.name} is ${spec.quantization ? 'quantized' : spec.dtype}.`,
      );
    }
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + 4 * count > buffer.byteLength)
      throw new UserError(`weights.bin is too short for model.json's weights (it ends in ${spec.name}).`);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = view.getFloat32(offset + 4 * i, true);
    found.set(spec.name, { shape: spec.shape, values });
    offset += 4 * count;
  }
  if (offset !== buffer.byteLength)
    throw new UserError(`weights.bin holds ${buffer.byteLength} bytes but model.json describes ${offset}.`);
  return found;
}

/** The head must be what the metadata says: one sigmoid unit for two classes, or a softmax over them all. */
function checkHead(graph: GraphBuilder, metadata: ModelMetadata): void {
  const units = graph.shape.kind === 'flat' ? graph.shape.features : null;
  const expected = metadata.output === 'sigmoid' ? 1 : metadata.classNames.length;
  const op = metadata.output === 'sigmoid' ? 'Sigmoid' : 'Softmax';
  // A snapshot ensemble's sigmoids are averaged by its last layer (a MatMul): the head is the node before it.
  const averaged = graph.nodes.at(-1)?.name === ENSEMBLE_AVERAGE_LAYER_NAME;
  const last = graph.nodes[graph.nodes.length - (averaged ? 2 : 1)]?.opType;
  if ((metadata.output === 'sigmoid' && metadata.classNames.length !== 2) || units !== expected || last !== op) {
    throw new UserError(
      `The model's output (${units ?? 'an image'} unit(s), ${last}) does not match its metadata (${metadata.output} over ${metadata.classNames.length} classes).`,
    );
  }
}
