/**
 * A trained model as a Keras HDF5 file (`model.h5`), written from the two files of the TensorFlow.js layers
 * format (model/layersFormat.ts) in the layout of Keras 2's own `save_model_to_hdf5` (keras/saving/legacy/hdf5_format.py,
 * tf.keras 2.12), which `tf.keras.models.load_model` of Keras 2 and Keras 3's legacy-H5 loader read:
 *
 *   /  attrs keras_version, backend ('tensorflow'), model_config, training_config (JSON), xray_trainer_metadata
 *   /model_weights  attrs layer_names (every layer, model order), backend, keras_version
 *   /model_weights/<layer>  attr weight_names (e.g. `conv2d_1/kernel:0`; empty for layers without weights)
 *   /model_weights/<layer>/<layer>/kernel:0 …  float32 datasets (Keras' layouts: conv [kh,kw,in,out], dense [in,out])
 *   /model_weights/top_level_model_weights  attr weight_names (empty)
 *
 * Strings as h5py 3 (tf.keras 2.5 and later) stores what Keras hands it: `bytes` and lists of `bytes` (the name
 * lists) as variable-length ASCII, `str` (root keras_version, backend) as variable-length UTF-8, which h5wasm marks
 * space-padded where h5py marks it null-terminated (the only difference; h5py 2 wrote the name lists as
 * fixed-length `S<n>` arrays, which Keras reads the same). No optimizer state (`optimizer_weights`): Keras then
 * starts a fresh RMSprop. Pure bytes: no tfjs; h5wasm (HDF5 compiled to WebAssembly, its wasm embedded in its
 * ES module) is loaded on first use.
 */
import type { ModelMetadata } from '../core/types';
import { kerasModelConfig, kerasTrainingConfig, pyJson, type KerasLayerConfig, type PyJson } from './kerasConfig';

/** The tf.keras whose HDF5 layout and layer configs this writes (Keras only tells Keras 1 files apart). */
export const KERAS_VERSION = '2.12.0';

/** Keras' limit on one attribute's bytes; longer name lists are split into `layer_names0`, `layer_names1`, … */
const HDF5_OBJECT_HEADER_LIMIT = 64512;

/** The root attribute that carries the app's metadata.json (ignored by Keras). */
export const METADATA_ATTRIBUTE = 'xray_trainer_metadata';

/** One weight as Keras names and stores it. */
export interface KerasWeight {
  /** e.g. `conv2d_1/kernel:0`: the dataset path inside its layer's group, and its entry in `weight_names`. */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Everything the file holds, before it is written (exported for tests). */
export interface KerasH5Contents {
  modelConfig: string;
  trainingConfig: string | null;
  metadata: string;
  /** Every layer but the InputLayer, in model order, with its weights in Keras' order. */
  layers: { name: string; className: string; weights: KerasWeight[] }[];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: unknown;
}

/** The model.json + weights.bin of `exportLayersModel` as a Keras HDF5 file's bytes. */
export async function layersModelToKerasH5(
  modelJson: string,
  weights: ArrayBuffer,
  metadata: ModelMetadata,
): Promise<Uint8Array> {
  return writeKerasH5(kerasH5Contents(modelJson, weights, metadata));
}

/** The weights each layer class holds, in the order Keras saves them (trainable first, then the running statistics). */
function weightOrder(layer: KerasLayerConfig): string[] {
  const c = layer.config;
  switch (layer.class_name) {
    case 'Conv2D':
    case 'Dense':
      return c.use_bias === false ? ['kernel'] : ['kernel', 'bias'];
    case 'BatchNormalization':
      return [
        ...(c.scale === false ? [] : ['gamma']),
        ...(c.center === false ? [] : ['beta']),
        'moving_mean',
        'moving_variance',
      ];
    default:
      return [];
  }
}

/** Reads model.json and the weights, and lays them out as Keras would save them. */
export function kerasH5Contents(modelJson: string, weights: ArrayBuffer, metadata: ModelMetadata): KerasH5Contents {
  const json = JSON.parse(modelJson) as {
    modelTopology?: unknown;
    weightsManifest?: { weights?: WeightSpec[] }[];
    trainingConfig?: unknown;
  };
  const modelConfig = kerasModelConfig(json.modelTopology);
  const byName = weightsByName(json.weightsManifest ?? [], weights);
  const layers = modelConfig.config.layers.slice(1).map((layer) => {
    const name = String(layer.config.name);
    if (!/^[\x21-\x7e]+$/.test(name) || name.includes('/'))
      throw new Error(`Layer name "${name}" cannot be written as a Keras HDF5 group name.`);
    const layerWeights = weightOrder(layer).map((w) => {
      const found = byName.get(`${name}/${w}`);
      if (!found) throw new Error(`Weight ${name}/${w} is missing from model.json's weights manifest.`);
      byName.delete(`${name}/${w}`);
      return { name: `${name}/${w}:0`, ...found };
    });
    return { name, className: layer.class_name, weights: layerWeights };
  });
  if (byName.size > 0)
    throw new Error(`The weights manifest holds weights no layer takes: ${[...byName.keys()].join(', ')}.`);
  const trainingConfig = kerasTrainingConfig(json.trainingConfig);
  return {
    modelConfig: pyJson(modelConfig as unknown as PyJson),
    trainingConfig: trainingConfig === null ? null : pyJson(trainingConfig),
    metadata: pyJson(metadata as unknown as PyJson),
    layers,
  };
}

/** The weights in manifest order, cut out of the one buffer the manifest's files make together. */
function weightsByName(
  manifest: { weights?: WeightSpec[] }[],
  buffer: ArrayBuffer,
): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const spec of manifest.flatMap((group) => group.weights ?? [])) {
    if ((spec.dtype ?? 'float32') !== 'float32' || spec.quantization)
      throw new Error(`Weight ${spec.name} is not plain float32; the Keras export takes float32 weights only.`);
    const count = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + count * 4 > buffer.byteLength)
      throw new Error(`The weights file is shorter than model.json's manifest says (at ${spec.name}).`);
    out.set(spec.name, { shape: spec.shape, values: new Float32Array(buffer.slice(offset, offset + count * 4)) });
    offset += count * 4;
  }
  if (offset !== buffer.byteLength)
    throw new Error(`The weights file holds ${buffer.byteLength} bytes; model.json's manifest accounts for ${offset}.`);
  return out;
}

type H5Module = typeof import('h5wasm');
type H5Group = InstanceType<H5Module['Group']>;

let fileCounter = 0;

/** Writes the contents with h5wasm into its in-memory file system, and hands back the file's bytes. */
export async function writeKerasH5(contents: KerasH5Contents): Promise<Uint8Array> {
  const h5 = await import('h5wasm');
  const module = await h5.ready;
  const path = `/keras-export-${++fileCounter}.h5`;
  // Superblock 0 and the oldest object formats, as h5py writes by default (h5wasm's default starts at 1.8's).
  const file = new h5.File(path, 'w', { libver: ['earliest', 'v108'] });
  let open = true;
  try {
    // saving_utils.model_metadata: str values (h5py: variable-length UTF-8), dicts as json.dumps(...).encode (ASCII).
    file.create_attribute('keras_version', KERAS_VERSION, null, 'S');
    file.create_attribute('backend', 'tensorflow', null, 'S');
    file.create_attribute('model_config', contents.modelConfig, null, 'A');
    if (contents.trainingConfig !== null) file.create_attribute('training_config', contents.trainingConfig, null, 'A');
    file.create_attribute(METADATA_ATTRIBUTE, contents.metadata, null, 'A');

    // save_weights_to_hdf5_group
    const weightsGroup = file.create_group('model_weights');
    saveNames(
      weightsGroup,
      'layer_names',
      contents.layers.map((l) => l.name),
    );
    weightsGroup.create_attribute('backend', 'tensorflow', null, 'A');
    weightsGroup.create_attribute('keras_version', KERAS_VERSION, null, 'A');
    for (const layer of [...contents.layers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const group = weightsGroup.create_group(layer.name);
      saveNames(
        group,
        'weight_names',
        layer.weights.map((w) => w.name),
      );
      for (const weight of layer.weights) {
        // h5py makes the intermediate group `<layer>/` of `<layer>/kernel:0` itself; h5wasm must be told.
        const [groupName, datasetName] = weight.name.split('/');
        const parent = group.keys().includes(groupName)
          ? (group.get(groupName) as H5Group)
          : group.create_group(groupName);
        parent.create_dataset({ name: datasetName, data: weight.values, shape: weight.shape, dtype: '<f' });
        // h5wasm reports a failed create on the console only.
        if (!parent.keys().includes(datasetName))
          throw new Error(`Could not write the dataset ${layer.name}/${weight.name}.`);
      }
    }
    saveNames(weightsGroup.create_group('top_level_model_weights'), 'weight_names', []);
    file.close();
    open = false;
    return module.FS.readFile(path);
  } finally {
    if (open) file.close();
    module.FS.unlink(path);
  }
}

/**
 * save_attributes_to_hdf5_group: `group.attrs[name] = [b'conv2d_1', …]`, which h5py 3 stores as an array of
 * variable-length ASCII strings; split into numbered attributes where numpy's `S<longest>` array of them would
 * pass the object header limit; an empty list is numpy's empty float64 array.
 */
function saveNames(group: H5Group, name: string, names: string[]): void {
  if (names.length === 0) {
    group.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  const width = Math.max(...names.map((n) => new TextEncoder().encode(n).length));
  if (width > HDF5_OBJECT_HEADER_LIMIT)
    throw new Error(`A name in ${name} is longer than HDF5 can store in an attribute.`);
  let chunks = 1;
  while (Math.ceil(names.length / chunks) * width > HDF5_OBJECT_HEADER_LIMIT) chunks++;
  if (chunks === 1) {
    group.create_attribute(name, names, [names.length], 'A');
    return;
  }
  // numpy.array_split: the first (length % chunks) parts are one longer.
  let start = 0;
  for (let i = 0; i < chunks; i++) {
    const size = Math.floor(names.length / chunks) + (i < names.length % chunks ? 1 : 0);
    const part = names.slice(start, start + size);
    group.create_attribute(`${name}${i}`, part, [part.length], 'A');
    start += size;
  }
}
