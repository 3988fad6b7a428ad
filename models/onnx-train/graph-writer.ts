// A thin layer over models/onnx's GraphBuilder for generated graphs: unique tensor names from hints,
// shared constants (float scalars, int64 shape and axes lists) and typed graph inputs and outputs.
// Pure: imports the ONNX writer only; no runtime, nothing from main/.

import { attr, GraphBuilder, tensorValueInfo, type AttributeValue, type Dim } from '../onnx/builder.js';
import { META, ONNX_IR_VERSION, ONNX_OPSET, PRODUCER_NAME, specToJson } from '../onnx/metadata.js';
import { DataType, type GraphProto, type ModelProto, type ValueInfoProto } from '../onnx/proto.js';
import type { ModelSpec } from '../core/spec.js';

export { attr, type AttributeValue, type Dim };

export class GraphWriter {
  private readonly builder = new GraphBuilder();
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  /** Graph outputs still to be bound to the tensor that holds them: output name -> tensor. */
  private readonly pendingOutputs = new Map<string, string>();

  /** A tensor name not used yet: the hint itself, else the hint with a counter. */
  fresh(hint: string): string {
    let name = hint;
    for (let i = 2; this.used.has(name); i++) name = `${hint}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with one output and returns the output's name (made unique from `hint`). */
  op(
    opType: string,
    inputs: readonly string[],
    hint: string,
    attributes: Record<string, AttributeValue> = {},
  ): string {
    return this.builder.node(opType, inputs, this.fresh(hint), attributes);
  }

  /** Adds a node with several outputs, named from `hints`. */
  opMulti(
    opType: string,
    inputs: readonly string[],
    hints: readonly string[],
    attributes: Record<string, AttributeValue> = {},
  ): string[] {
    const outs = hints.map((h) => this.fresh(h));
    this.builder.node(opType, inputs, outs, attributes);
    return outs;
  }

  /** A float32 scalar constant (shared between users of the same value). */
  scalar(value: number): string {
    return this.constant(`f:${value}`, () =>
      this.builder.floats(this.fresh(`const_${value}`), [], new Float32Array([value])),
    );
  }

  /** A float32 1-D constant of `length` copies of `value` (shared between users). */
  filled(value: number, length: number): string {
    return this.constant(`v:${value}:${length}`, () =>
      this.builder.floats(
        this.fresh(`const_${value}_x${length}`),
        [length],
        new Float32Array(length).fill(value),
      ),
    );
  }

  /** A float32 constant tensor (not shared), with an optional doc string. */
  floats(hint: string, dims: readonly number[], data: Float32Array, doc?: string): string {
    return this.builder.floats(this.fresh(hint), dims, data, doc);
  }

  /** An int64 1-D constant (a shape, axes, pads), shared between users of the same values. */
  ints(values: readonly number[]): string {
    return this.constant(`i:${values.join(',')}`, () =>
      this.builder.int64s(this.fresh(`ints_${values.join('_').replace(/-/g, 'm')}`), values),
    );
  }

  /** An int64 scalar constant. */
  int(value: number): string {
    return this.constant(`i0:${value}`, () =>
      this.builder.int64s(this.fresh(`int_${String(value).replace(/-/g, 'm')}`), [value], []),
    );
  }

  /** Declares a float32 (or other `elemType`) graph input under an exact name. */
  input(name: string, dims: readonly Dim[], doc?: string, elemType: number = DataType.FLOAT): string {
    if (this.used.has(name)) throw new Error(`Graph input "${name}" is declared twice`);
    this.used.add(name);
    this.inputs.push(tensorValueInfo(name, dims, doc, elemType));
    return name;
  }

  /**
   * Makes `tensor` a graph output named `name`. When the graph is built, the node that computes the
   * tensor writes the output directly (the tensor is renamed); an input, or a tensor that is already an
   * output, goes through an Identity node instead.
   */
  output(
    name: string,
    tensor: string,
    dims: readonly Dim[],
    doc?: string,
    elemType: number = DataType.FLOAT,
  ): void {
    if (tensor !== name) {
      if (this.used.has(name)) throw new Error(`Graph output "${name}" is declared twice`);
      this.used.add(name);
      this.pendingOutputs.set(name, tensor);
    }
    this.outputs.push(tensorValueInfo(name, dims, doc, elemType));
  }

  build(name: string, doc: string): GraphProto {
    const inputNames = new Set(this.inputs.map((i) => i.name));
    const renames = new Map<string, string>();
    for (const [output, tensor] of this.pendingOutputs) {
      if (inputNames.has(tensor) || renames.has(tensor) || this.isOutput(tensor))
        this.builder.node('Identity', [tensor], output);
      else renames.set(tensor, output);
    }
    const graph = this.builder.build(name, this.inputs, this.outputs, doc);
    if (renames.size > 0)
      for (const node of graph.node ?? []) {
        node.input = node.input?.map((t) => renames.get(t) ?? t);
        node.output = node.output?.map((t) => renames.get(t) ?? t);
      }
    return graph;
  }

  private isOutput(tensor: string): boolean {
    return this.outputs.some((o) => o.name === tensor);
  }

  private constant(key: string, make: () => string): string {
    let name = this.constants.get(key);
    if (name === undefined) {
      name = make();
      this.constants.set(key, name);
    }
    return name;
  }
}

/**
 * The ModelProto of a graph attnvgg writes for its own runtime use (training step, evaluation, Grad-CAM):
 * opset 17, IR 8, attnvgg as producer, the spec and the graph's kind in metadata_props, then `extra`.
 */
export function generatedModel(
  w: GraphWriter,
  spec: ModelSpec,
  graph: { name: string; kind: string; doc: string },
  extra: readonly { key: string; value: string }[] = [],
): ModelProto {
  return {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: PRODUCER_NAME,
    producerVersion: '',
    modelVersion: 1,
    docString: graph.doc,
    graph: w.build(graph.name, graph.doc),
    metadataProps: [
      { key: META.spec, value: specToJson(spec) },
      { key: META.graph, value: graph.kind },
      ...extra,
    ],
  };
}
