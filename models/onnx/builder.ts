// A small helper for writing ONNX graphs by hand: nodes with typed attributes, float32 and int64
// initializers, typed graph inputs and outputs. Under models/onnx-train's GraphWriter (which writes the
// training step and the exported graphs) and in tests that build fixtures in other structures.
// Pure: no runtime, nothing from main/.

import { OnnxError } from './errors.js';
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.js';
import { floatTensor, int64Tensor } from './tensor.js';

/** An attribute value without its name; build one with the helpers in `attr`. */
export type AttributeValue = Omit<AttributeProto, 'name'>;

export const attr = {
  int: (i: number): AttributeValue => ({ type: AttributeType.INT, i }),
  ints: (ints: readonly number[]): AttributeValue => ({ type: AttributeType.INTS, ints: [...ints] }),
  float: (f: number): AttributeValue => ({ type: AttributeType.FLOAT, f }),
  string: (s: string): AttributeValue => ({ type: AttributeType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (t: TensorProto): AttributeValue => ({ type: AttributeType.TENSOR, t }),
};

/** A dimension: a fixed size, or a name for a size chosen at run time (for example 'batch'). */
export type Dim = number | string;

export function tensorValueInfo(
  name: string,
  dims: readonly Dim[],
  docString?: string,
  elemType: number = DataType.FLOAT,
): ValueInfoProto {
  const info: ValueInfoProto = {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
  if (docString) info.docString = docString;
  return info;
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();

  /** Adds a float32 initializer and returns its name. */
  floats(name: string, dims: readonly number[], data: Float32Array, docString?: string): string {
    this.claim(name);
    this.initializers.push(floatTensor(name, dims, data, docString));
    return name;
  }

  /** Adds an int64 initializer (a shape or axes list) and returns its name. */
  int64s(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    this.claim(name);
    this.initializers.push(int64Tensor(name, dims, values));
    return name;
  }

  /**
   * Adds a node. `outputs` names its output tensors (one string for a single output); the node itself
   * is named after its first output. Returns the first output's name.
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: string | readonly string[],
    attributes: Record<string, AttributeValue> = {},
    docString?: string,
  ): string {
    const outs = typeof outputs === 'string' ? [outputs] : [...outputs];
    for (const o of outs) this.claim(o);
    const node: NodeProto = {
      name: `${opType}:${outs[0]}`,
      opType,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attributes).map(([name, value]) => ({ name, ...value })),
    };
    if (docString) node.docString = docString;
    this.nodes.push(node);
    return outs[0];
  }

  build(
    name: string,
    inputs: ValueInfoProto[],
    outputs: ValueInfoProto[],
    docString?: string,
    valueInfo: ValueInfoProto[] = [],
  ): GraphProto {
    const graph: GraphProto = {
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: inputs,
      output: outputs,
      valueInfo,
    };
    if (docString) graph.docString = docString;
    return graph;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new OnnxError('invalid', `Two tensors in the graph are named "${name}".`);
    this.names.add(name);
  }
}
