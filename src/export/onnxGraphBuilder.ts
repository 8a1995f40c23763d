/**
 * The graph of a converted model as onnx.ts and onnxLayers.ts grow it: nodes, named attributes, float32
 * initializers in raw little-endian bytes, and tfjs' weights looked up and checked by shape. onnxProto.ts encodes it.
 */
import { UserError } from '../core/userError';
import {
  ATTRIBUTE_TYPE,
  DATA_TYPE,
  type Attribute,
  type Dimension,
  type Node,
  type Tensor,
  type ValueInfo,
} from './onnxProto';

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

  /**
   * Starts from an NHWC image input, at once transposed to NCHW; `outputs` (the graph's outputs) are kept for the
   * end, so that no layer's tensor takes their names.
   */
  start(input: string, outputs: string[], shape: Shape): void {
    this.names.add(input);
    for (const output of outputs) this.names.add(output);
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

  /** Adds a node whose output is `output` exactly: one of the names `start` kept for the graph's outputs. */
  addGraphOutput(opType: string, output: string, input: string[], attribute: Attribute[] = []): void {
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
