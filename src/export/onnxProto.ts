/**
 * Writing ONNX (onnx.ts converts): the part of ONNX's protobuf schema (onnx/onnx.proto, proto2, package `onnx`)
 * that a converted model needs, as protobufjs reflection, with its encoder and decoder (onnxGraphBuilder.ts builds
 * the graph). The field numbers are the official ones (onnx.proto of ONNX 1.12), so any ONNX reader decodes the
 * bytes; the fields left out (sparse tensors, functions, training info, ...) are simply never written.
 *
 * protobufjs compiles each message's encoder and decoder with `new Function` the first time it is used, so a
 * page needs 'unsafe-eval' in its Content-Security-Policy (this app's has it, for vega).
 */
import protobuf from 'protobufjs/light';

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
