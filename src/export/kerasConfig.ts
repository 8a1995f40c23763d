/**
 * The JSON a Keras 2 HDF5 file carries (root attributes `model_config` and `training_config`), made from the
 * Keras-style topology and training config of a TensorFlow.js layers model.json: each layer's config as tf.keras
 * 2.12's `get_config` writes it (keys in its order, the InputLayer a Sequential saves first, the defaults tfjs
 * leaves out), and the text as Python's `json.dumps` writes it (", " and ": ", ASCII only, floats as floats).
 * Pure data: no tfjs, no HDF5.
 */
import { PER_IMAGE_STANDARDIZATION } from '../core/intensityNormalisation';

/** A number Python holds as a float: written `0.0`, `1e-07`, as `json.dumps` does. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJson = null | boolean | number | string | PyFloat | PyJson[] | { [key: string]: PyJson };

/** A layer as Keras serializes it in a Sequential's config. */
export interface KerasLayerConfig {
  class_name: string;
  config: { [key: string]: PyJson };
}

export interface KerasModelConfig {
  class_name: 'Sequential';
  config: { name: string; layers: KerasLayerConfig[] };
}

/** Python's `repr` of a float, which `json.dumps` writes: shortest round-trip digits, exponent below 1e-4 or from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = x.toExponential().split('e');
  const exponent = Number(exponentText);
  const sign = x < 0 ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exponent < -4 || exponent >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}

/** `json.dumps(value)` with Python's defaults: separators ", " and ": ", `ensure_ascii`. */
export function pyJson(value: PyJson | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  if (typeof value === 'string')
    return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${pyJson(k)}: ${pyJson(v)}`).join(', ')}}`;
}

type Config = Record<string, unknown>;

const asJson = (v: unknown): PyJson => (v === undefined ? null : (v as PyJson));
const float = (v: unknown): PyJson => (v === null || v === undefined ? null : new PyFloat(Number(v)));
const pair = (v: unknown): PyJson => (typeof v === 'number' ? [v, v] : asJson(v));

/** Keys whose values Keras keeps as Python floats, in initializer, regularizer and optimizer configs. */
const FLOAT_KEYS = new Set(['scale', 'mean', 'stddev', 'minval', 'maxval', 'l1', 'l2', 'gain']);

/** An initializer, regularizer or constraint: tfjs already writes Keras' class names and snake_case keys. */
function kerasObject(v: unknown): PyJson {
  if (v === null || v === undefined) return null;
  const { class_name, config } = v as { class_name: string; config?: Config };
  const out: { [key: string]: PyJson } = {};
  for (const [k, value] of Object.entries(config ?? {}))
    out[k] = FLOAT_KEYS.has(k) && typeof value === 'number' ? float(value) : asJson(value);
  return { class_name, config: out };
}

/** What Keras' `Layer.get_config` starts every layer's config with. */
function baseConfig(c: Config): { [key: string]: PyJson } {
  const base: { [key: string]: PyJson } = {
    name: asJson(c.name),
    trainable: asJson(c.trainable ?? true),
    dtype: asJson(c.dtype ?? 'float32'),
  };
  if (c.batch_input_shape !== undefined) base.batch_input_shape = asJson(c.batch_input_shape);
  return base;
}

function denseLikeTail(c: Config): { [key: string]: PyJson } {
  return {
    kernel_initializer: kerasObject(c.kernel_initializer),
    bias_initializer: kerasObject(c.bias_initializer),
    kernel_regularizer: kerasObject(c.kernel_regularizer),
    bias_regularizer: kerasObject(c.bias_regularizer),
    activity_regularizer: kerasObject(c.activity_regularizer),
    kernel_constraint: kerasObject(c.kernel_constraint),
    bias_constraint: kerasObject(c.bias_constraint),
  };
}

/** Each supported layer class: its Keras 2 config (after Keras' base keys), given the rank of its input. */
const LAYERS: Record<string, (c: Config, inputRank: number) => { [key: string]: PyJson }> = {
  Conv2D: (c) => ({
    filters: asJson(c.filters),
    kernel_size: pair(c.kernel_size),
    strides: pair(c.strides ?? 1),
    padding: asJson(c.padding ?? 'valid'),
    data_format: asJson(c.data_format ?? 'channels_last'),
    dilation_rate: pair(c.dilation_rate ?? 1),
    groups: 1,
    activation: asJson(c.activation ?? 'linear'),
    use_bias: asJson(c.use_bias ?? true),
    ...denseLikeTail(c),
  }),
  BatchNormalization: (c, rank) => {
    const axis = typeof c.axis === 'number' ? c.axis : -1;
    return {
      // Keras turns the axis into a list of non-negative axes when it builds the layer, before any save.
      axis: [axis < 0 ? axis + rank : axis],
      momentum: float(c.momentum ?? 0.99),
      epsilon: float(c.epsilon ?? 1e-3),
      center: asJson(c.center ?? true),
      scale: asJson(c.scale ?? true),
      beta_initializer: kerasObject(c.beta_initializer),
      gamma_initializer: kerasObject(c.gamma_initializer),
      moving_mean_initializer: kerasObject(c.moving_mean_initializer),
      moving_variance_initializer: kerasObject(c.moving_variance_initializer),
      beta_regularizer: kerasObject(c.beta_regularizer),
      gamma_regularizer: kerasObject(c.gamma_regularizer),
      beta_constraint: kerasObject(c.beta_constraint),
      gamma_constraint: kerasObject(c.gamma_constraint),
    };
  },
  ReLU: (c) => ({ max_value: float(c.max_value), negative_slope: new PyFloat(0), threshold: new PyFloat(0) }),
  MaxPooling2D: (c) => ({
    pool_size: pair(c.pool_size ?? 2),
    padding: asJson(c.padding ?? 'valid'),
    strides: pair(c.strides ?? c.pool_size ?? 2),
    data_format: asJson(c.data_format ?? 'channels_last'),
  }),
  Flatten: (c) => ({ data_format: asJson(c.data_format ?? 'channels_last') }),
  Dense: (c) => ({
    units: asJson(c.units),
    activation: asJson(c.activation ?? 'linear'),
    use_bias: asJson(c.use_bias ?? true),
    ...denseLikeTail(c),
  }),
  Dropout: (c) => ({ rate: float(c.rate), noise_shape: asJson(c.noise_shape ?? null), seed: asJson(c.seed ?? null) }),
  // The app's own layer (no config of its own): Keras builds it from the class in per_image_standardization.py
  // (kerasCustomLayers.ts), passed to load_model as a custom object.
  [PER_IMAGE_STANDARDIZATION]: () => ({}),
};

/** The layer classes this export writes (and keras_forward.py runs). */
export const SUPPORTED_LAYERS: readonly string[] = Object.keys(LAYERS);

interface TfjsTopology {
  class_name?: string;
  config?:
    { name?: string; layers?: { class_name: string; config: Config }[] } | { class_name: string; config: Config }[];
}

/**
 * tfjs' `modelTopology` (a Sequential) as Keras 2's `{class_name, config}` of that Sequential: an InputLayer
 * first (named `<first layer>_input`, as Keras names it), then each layer as Keras' get_config writes it.
 */
export function kerasModelConfig(topology: unknown): KerasModelConfig {
  const t = (topology ?? {}) as TfjsTopology & { model_config?: TfjsTopology };
  const model = t.model_config ?? t;
  if (model.class_name !== 'Sequential') {
    throw new Error(
      `Only Sequential models can be written as Keras HDF5 here (this one is ${String(model.class_name)}).`,
    );
  }
  const config = model.config;
  const tfjsLayers = Array.isArray(config) ? config : (config?.layers ?? []);
  const name = (Array.isArray(config) ? undefined : config?.name) ?? 'sequential';
  if (tfjsLayers.length === 0) throw new Error('The model has no layers.');

  const layers: KerasLayerConfig[] = [];
  let rest = tfjsLayers;
  const first = tfjsLayers[0];
  if (first.class_name === 'InputLayer') {
    layers.push({
      class_name: 'InputLayer',
      config: inputLayer(first.config.batch_input_shape, first.config.dtype, first.config.name),
    });
    rest = tfjsLayers.slice(1);
  } else {
    if (!Array.isArray(first.config.batch_input_shape))
      throw new Error(`The first layer (${String(first.config.name)}) does not say its input shape.`);
    layers.push({
      class_name: 'InputLayer',
      config: inputLayer(first.config.batch_input_shape, first.config.dtype, `${String(first.config.name)}_input`),
    });
  }
  let rank = (layers[0].config.batch_input_shape as PyJson[]).length;
  for (const layer of rest) {
    const make = LAYERS[layer.class_name];
    if (!make)
      throw new Error(
        `Layer ${String(layer.config.name)} is a ${layer.class_name}, which the Keras export does not write (it writes ${SUPPORTED_LAYERS.join(', ')}).`,
      );
    layers.push({ class_name: layer.class_name, config: { ...baseConfig(layer.config), ...make(layer.config, rank) } });
    if (layer.class_name === 'Flatten') rank = 2;
  }
  return { class_name: 'Sequential', config: { name, layers } };
}

function inputLayer(shape: unknown, dtype: unknown, name: unknown): { [key: string]: PyJson } {
  if (!Array.isArray(shape)) throw new Error('The model does not say its input shape.');
  return {
    batch_input_shape: asJson(shape),
    dtype: asJson(dtype ?? 'float32'),
    sparse: false,
    ragged: false,
    name: asJson(name),
  };
}

/** tfjs' optimizer class names and configs, as Keras 2's (legacy) optimizers serialize. */
const OPTIMIZERS: Record<string, (c: Config) => { class_name: string; config: { [key: string]: PyJson } }> = {
  RMSProp: (c) => ({
    class_name: 'RMSprop',
    // tfjs calls rho `decay`; Keras' `decay` (learning-rate decay) is left out, as Keras 3 warns on it.
    config: {
      name: 'RMSprop',
      learning_rate: float(c.learningRate),
      rho: float(c.decay ?? 0.9),
      momentum: float(c.momentum ?? 0),
      epsilon: float(c.epsilon ?? 1e-7),
      centered: asJson(c.centered ?? false),
    },
  }),
  Adam: (c) => ({
    class_name: 'Adam',
    config: {
      name: 'Adam',
      learning_rate: float(c.learningRate),
      beta_1: float(c.beta1 ?? 0.9),
      beta_2: float(c.beta2 ?? 0.999),
      epsilon: float(c.epsilon ?? 1e-7),
      amsgrad: false,
    },
  }),
  SGD: (c) => ({
    class_name: 'SGD',
    config: { name: 'SGD', learning_rate: float(c.learningRate), momentum: new PyFloat(0), nesterov: false },
  }),
};

/**
 * model.json's `trainingConfig` as Keras 2 saves `training_config` (loss, metrics, weighted_metrics, loss_weights,
 * optimizer_config), so that `load_model` compiles the model; null (load uncompiled) for an optimizer it cannot name.
 */
export function kerasTrainingConfig(trainingConfig: unknown): { [key: string]: PyJson } | null {
  if (trainingConfig === null || typeof trainingConfig !== 'object') return null;
  const tc = trainingConfig as {
    loss?: unknown;
    metrics?: unknown;
    loss_weights?: unknown;
    optimizer_config?: { class_name?: string; config?: Config };
  };
  const optimizer = tc.optimizer_config?.class_name ? OPTIMIZERS[tc.optimizer_config.class_name] : undefined;
  if (!optimizer || tc.loss === undefined) return null;
  return {
    loss: asJson(tc.loss),
    metrics: asJson(tc.metrics ?? null),
    weighted_metrics: null,
    loss_weights: asJson(tc.loss_weights ?? null),
    optimizer_config: optimizer(tc.optimizer_config?.config ?? {}),
  };
}
