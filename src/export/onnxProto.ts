/**
 * Writing ONNX (onnx.ts converts): the part of ONNX's protobuf schema (onnx/onnx.proto, proto2, package `onnx`)
 * that a converted model needs, as protobufjs reflection, and a builder for its graph. The field numbers are the
 * official ones (onnx.proto of ONNX 1.12), so any ONNX reader decodes the bytes; the fields left out (sparse
 * tensors, functions, training info, ...) are simply never written.
 *
 * protobufjs compiles each message's encoder and decoder with `new Function` the first time it is used, so a
 * page needs 'unsafe-eval' in its Content-Security-Policy (this app's has it, for vega).
 */
import protobuf from 'protobufjs/light';
import { UserError } from '../core/userError';

/** TensorProto.DataType values used here. */
export const DATA_TYPE = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

// Plain objects as protobufjs encodes them (field names in protobufjs' camelCase).

export interface StringStringEntry {
  key: string;
  value: string;
}

export interface Attribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface Node {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: Attribute[];
}

export interface Tensor {
  dims: number[];
  dataType: number;
  name: string;
  rawData: Uint8Array;
}

/** A dimension is a number, or a name for one given at run time (the batch). */
export interface Dimension {
  dimValue?: number;
  dimParam?: string;
}

export interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: Dimension[] } } };
  docString?: string;
}

export interface Graph {
  node: Node[];
  name: string;
  initializer: Tensor[];
  docString?: string;
  input: ValueInfo[];
  output: ValueInfo[];
}

export interface Model {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  producerName: string;
  producerVersion?: string;
  docString?: string;
  graph: Graph;
  metadataProps: StringStringEntry[];
}

const optional = (type: string, id: number): protobuf.IField => ({ type, id });
/** onnx.proto is proto2: its repeated numbers are written one by one, not packed (a reader takes either). */
const NUMBERS = new Set(['float', 'int32', 'int64']);
const repeated = (type: string, id: number): protobuf.IField => ({
  type,
  id,
  rule: 'repeated',
  ...(NUMBERS.has(type) ? { options: { packed: false } } : {}),
});

/** onnx.proto's messages, trimmed to the fields written here; numbers as in onnx/onnx.proto. */
const MESSAGES: Record<string, protobuf.IType & protobuf.INamespace> = {
  AttributeProto: {
    fields: {
      name: optional('string', 1),
      refAttrName: optional('string', 21),
      docString: optional('string', 13),
      type: optional('AttributeType', 20),
      f: optional('float', 2),
      i: optional('int64', 3),
      s: optional('bytes', 4),
      t: optional('TensorProto', 5),
      g: optional('GraphProto', 6),
      floats: repeated('float', 7),
      ints: repeated('int64', 8),
      strings: repeated('bytes', 9),
      tensors: repeated('TensorProto', 10),
      graphs: repeated('GraphProto', 11),
    },
    nested: {
      AttributeType: {
        values: {
          UNDEFINED: 0,
          FLOAT: 1,
          INT: 2,
          STRING: 3,
          TENSOR: 4,
          GRAPH: 5,
          FLOATS: 6,
          INTS: 7,
          STRINGS: 8,
          TENSORS: 9,
          GRAPHS: 10,
        },
      },
    },
  },
  ValueInfoProto: {
    fields: { name: optional('string', 1), type: optional('TypeProto', 2), docString: optional('string', 3) },
  },
  NodeProto: {
    fields: {
      input: repeated('string', 1),
      output: repeated('string', 2),
      name: optional('string', 3),
      opType: optional('string', 4),
      domain: optional('string', 7),
      attribute: repeated('AttributeProto', 5),
      docString: optional('string', 6),
    },
  },
  ModelProto: {
    fields: {
      irVersion: optional('int64', 1),
      opsetImport: repeated('OperatorSetIdProto', 8),
      producerName: optional('string', 2),
      producerVersion: optional('string', 3),
      domain: optional('string', 4),
      modelVersion: optional('int64', 5),
      docString: optional('string', 6),
      graph: optional('GraphProto', 7),
      metadataProps: repeated('StringStringEntryProto', 14),
    },
  },
  StringStringEntryProto: { fields: { key: optional('string', 1), value: optional('string', 2) } },
  GraphProto: {
    fields: {
      node: repeated('NodeProto', 1),
      name: optional('string', 2),
      initializer: repeated('TensorProto', 5),
      docString: optional('string', 10),
      input: repeated('ValueInfoProto', 11),
      output: repeated('ValueInfoProto', 12),
      valueInfo: repeated('ValueInfoProto', 13),
    },
  },
  TensorProto: {
    fields: {
      dims: repeated('int64', 1),
      dataType: optional('int32', 2),
      floatData: repeated('float', 4),
      int32Data: repeated('int32', 5),
      int64Data: repeated('int64', 7),
      name: optional('string', 8),
      rawData: optional('bytes', 9),
      docString: optional('string', 12),
    },
  },
  TensorShapeProto: {
    fields: { dim: repeated('Dimension', 1) },
    nested: {
      Dimension: {
        oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
        fields: { dimValue: optional('int64', 1), dimParam: optional('string', 2), denotation: optional('string', 3) },
      },
    },
  },
  TypeProto: {
    oneofs: { value: { oneof: ['tensorType'] } },
    fields: { tensorType: optional('Tensor', 1), denotation: optional('string', 6) },
    nested: { Tensor: { fields: { elemType: optional('int32', 1), shape: optional('TensorShapeProto', 2) } } },
  },
  OperatorSetIdProto: { fields: { domain: optional('string', 1), version: optional('int64', 2) } },
};

let modelType: protobuf.Type | null = null;

/** onnx.ModelProto, built on first use. */
export function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON({ nested: { onnx: { nested: MESSAGES } } }).lookupType('onnx.ModelProto');
  return modelType;
}

/** The bytes of a .onnx file. */
export function encodeModel(model: Model): Uint8Array {
  const type = modelProto();
  const problem = type.verify(model);
  if (problem) throw new Error(`The ONNX model does not fit onnx.proto: ${problem}.`);
  const bytes = type.encode(type.fromObject(model)).finish();
  // In Node protobufjs hands back a Buffer, perhaps a slice of a shared pool: give a Uint8Array of its own.
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes);
}

/** Reads a .onnx file back into plain objects (64-bit integers as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): Model {
  const type = modelProto();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Model;
}

/** UTF-8 bytes, as STRING attributes hold them. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** float32 values as TensorProto.raw_data holds them: little-endian, whatever the machine. */
export function littleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(4 * i, value, true));
  return bytes;
}

export const ints = (name: string, values: number[]): Attribute => ({ name, type: ATTRIBUTE_TYPE.INTS, ints: values });
export const int = (name: string, value: number): Attribute => ({ name, type: ATTRIBUTE_TYPE.INT, i: value });
export const float = (name: string, value: number): Attribute => ({ name, type: ATTRIBUTE_TYPE.FLOAT, f: value });
export const string = (name: string, value: string): Attribute => ({
  name,
  type: ATTRIBUTE_TYPE.STRING,
  s: utf8(value),
});

/** A float32 tensor's name, shape and description, as graph inputs and outputs declare them. */
export function valueInfo(name: string, dim: Dimension[], docString: string): ValueInfo {
  return { name, type: { tensorType: { elemType: DATA_TYPE.FLOAT, shape: { dim } } }, docString };
}

/** A float32 weight read from weights.bin, in tfjs' layout. */
export interface Weight {
  shape: number[];
  values: Float32Array;
}

/** The tensor between layers, batch left out: an image (held NCHW inside the graph) or a vector of features. */
export type Shape =
  { kind: 'image'; channels: number; height: number; width: number } | { kind: 'flat'; features: number };

/** The ONNX graph as it grows: nodes, initializers, and the current tensor with its shape. */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  current = '';
  shape: Shape = { kind: 'flat', features: 0 };
  private readonly names = new Set<string>();

  constructor(private readonly weights: Map<string, Weight>) {}

  /** Starts from an NHWC image input, at once transposed to NCHW; `output` is kept for the graph's output. */
  start(input: string, output: string, shape: Shape): void {
    this.names.add(input);
    this.names.add(output);
    this.current = input;
    this.shape = shape;
    this.add('Transpose', 'input_to_nchw', [input], [ints('perm', [0, 3, 1, 2])]);
  }

  /** Adds a node whose output becomes the current tensor. */
  add(opType: string, name: string, input: string[], attribute: Attribute[] = []): void {
    const output = this.unique(name);
    this.nodes.push({ input, output: [output], name: output, opType, attribute });
    this.current = output;
  }

  /** A weight of a layer, by tfjs' name `layer/weight`, checked against the shape the layer's config implies. */
  weight(layer: string, weight: string, shape: number[]): Weight {
    const name = `${layer}/${weight}`;
    const found = this.weights.get(name) ?? [...this.weights].find(([key]) => key.endsWith(`/${name}`))?.[1];
    if (!found) throw new UserError(`weights.bin has no ${name}, which layer ${layer} needs.`);
    if (found.shape.join() !== shape.join())
      throw new UserError(`${name} is [${found.shape}] but layer ${layer} needs [${shape}].`);
    return found;
  }

  initializer(name: string, dims: number[], values: Float32Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims, dataType: DATA_TYPE.FLOAT, rawData: littleEndian(values) });
    return unique;
  }

  /** Ends the graph: back to NHWC if still an image, the last tensor named `output`; returns its dims. */
  finish(output: string): Dimension[] {
    const shape = this.shape;
    if (shape.kind === 'image') this.add('Transpose', 'output_to_nhwc', [this.current], [ints('perm', [0, 2, 3, 1])]);
    if (this.nodes[this.nodes.length - 1].output[0] !== this.current) this.add('Identity', 'output', [this.current]);
    this.nodes[this.nodes.length - 1].output[0] = output;
    this.current = output;
    const dims = shape.kind === 'image' ? [shape.height, shape.width, shape.channels] : [shape.features];
    return [{ dimParam: 'batch' }, ...dims.map((dimValue) => ({ dimValue }))];
  }

  private unique(name: string): string {
    let candidate = name;
    for (let n = 1; this.names.has(candidate); n++) candidate = `${name}_${n}`;
    this.names.add(candidate);
    return candidate;
  }
}
