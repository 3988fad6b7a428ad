// Walks an ONNX graph by structure rather than by names: an index of producers, consumers and constant
// tensors, and a walker that follows a VGG-like chain from the input (Conv 3x3 -> BatchNormalization? ->
// Relu -> MaxPool?, repeated) and returns its stages in graph order plus the nodes that follow (Flatten,
// Gemm ...). Exporters name tensors as they please (torchvision's "onnx::Conv_123", the Model Zoo's
// "vgg0_conv0_weight", our "features.0.weight"); structure is what they share.
// Pure: works on a read model (read.ts); no runtime, nothing from main/.

import { OnnxError } from './errors.js';
import {
  AttributeType,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from './proto.js';
import type { OnnxModel } from './read.js';

export interface GraphIndex {
  graph: GraphProto;
  /** The node producing a tensor, if a node does (not for inputs and initializers). */
  producer(name: string): NodeProto | undefined;
  /** The nodes reading a tensor, in graph order. */
  consumers(name: string): readonly NodeProto[];
  /** A constant tensor: an initializer, a Constant node's value, or either seen through Identity nodes. */
  constant(name: string): TensorProto | undefined;
}

/** Operators that pass their first input through unchanged at inference time. */
const PASS_THROUGH = new Set(['Identity', 'Dropout']);

export function indexGraph(model: Pick<OnnxModel, 'graph' | 'initializers'>): GraphIndex {
  const graph = model.graph;
  const producers = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node ?? []) {
    for (const o of node.output ?? []) if (o) producers.set(o, node);
    for (const i of new Set(node.input ?? [])) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(node);
      else consumers.set(i, [node]);
    }
  }
  const constant = (name: string): TensorProto | undefined => {
    const seen = new Set<string>();
    for (let n = name; !seen.has(n);) {
      seen.add(n);
      const init = model.initializers.get(n);
      if (init) return init;
      const p = producers.get(n);
      if (!p) return undefined;
      if (p.opType === 'Constant') return p.attribute?.find((a) => a.name === 'value')?.t ?? undefined;
      if (p.opType !== 'Identity' || !p.input?.[0]) return undefined;
      n = p.input[0];
    }
    return undefined;
  };
  return {
    graph,
    producer: (name) => producers.get(name),
    consumers: (name) => consumers.get(name) ?? [],
    constant,
  };
}

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a && (a.type === AttributeType.INT || a.type === undefined) && a.i !== undefined ? a.i : fallback;
}

export function intsAttribute(node: NodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a?.ints && a.ints.length > 0 ? a.ints : undefined;
}

export function floatAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a?.f !== undefined ? a.f : fallback;
}

export function stringAttribute(node: NodeProto, name: string): string | undefined {
  const s = attribute(node, name)?.s;
  return s ? new TextDecoder().decode(s) : undefined;
}

/** The graph's one real input (IR < 4 also lists initializers as inputs: those are skipped). */
export function graphInput(model: Pick<OnnxModel, 'graph' | 'initializers'>): string {
  const inputs = (model.graph.input ?? []).filter((i) => i.name && !model.initializers.has(i.name));
  if (inputs.length !== 1)
    throw new OnnxError(
      'mismatch',
      `Expected a model with 1 image input, but got a model with ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}).`,
    );
  return inputs[0].name as string;
}

export function describeNode(node: NodeProto): string {
  return node.name
    ? `${node.opType} node "${node.name}"`
    : `${node.opType} node producing "${node.output?.[0]}"`;
}

/** One conv layer of a VGG-like chain, as found in the graph. */
export interface ConvStage {
  conv: NodeProto;
  /** Present when the exporter kept BatchNorm separate; null when it was folded into the conv. */
  batchNorm: NodeProto | null;
  relu: NodeProto;
  /** The max-pool that follows the ReLU (end of a block), if any. */
  pool: NodeProto | null;
  /** The ReLU's output tensor: what an attention level taps. */
  output: string;
}

export interface ConvStack {
  input: string;
  stages: ConvStage[];
  /** The tensor after the last stage (the last pool's output, or the last ReLU's). */
  end: string;
  /** The chain of single nodes after the stack, up to and including the first Gemm, MatMul or Conv. */
  tail: NodeProto[];
}

/** A walk longer than this is not VGG-like; the bound also keeps a hostile cyclic graph from looping. */
const MAX_STAGES = 64;
const MAX_TAIL = 16;

function kernelOf(index: GraphIndex, conv: NodeProto): number[] | undefined {
  const shape = intsAttribute(conv, 'kernel_shape');
  if (shape) return shape;
  const w = conv.input?.[1] ? index.constant(conv.input[1]) : undefined;
  return w?.dims && w.dims.length === 4 ? w.dims.slice(2) : undefined;
}

/**
 * Follows a VGG-like conv chain from `input`. Where a tensor feeds several nodes (an attention tap,
 * say), the walk goes on through the MaxPool if there is one, else through the one 3x3 Conv reading it.
 * Identity and Dropout nodes on the way are stepped over.
 */
export function walkConvStack(index: GraphIndex, input: string): ConvStack {
  const visited = new Set<NodeProto>();
  const visit = (node: NodeProto): NodeProto => {
    if (visited.has(node))
      throw new OnnxError('invalid', `The graph has a cycle through ${describeNode(node)}.`);
    visited.add(node);
    return node;
  };
  /** Consumers of `t` that read it as their first input, looking through pass-through nodes. */
  const readers = (t: string, depth = 0): NodeProto[] => {
    if (depth > MAX_TAIL) return [];
    return index
      .consumers(t)
      .flatMap((n) =>
        n.input?.[0] !== t
          ? []
          : PASS_THROUGH.has(n.opType ?? '') && n.output?.[0]
            ? readers(n.output[0], depth + 1)
            : [n],
      );
  };
  const only = (t: string, what: string): NodeProto => {
    const r = readers(t);
    if (r.length !== 1)
      throw new OnnxError(
        'mismatch',
        `Expected ${what} to read "${t}" alone, but found ${r.length === 0 ? 'nothing' : r.map(describeNode).join(', ')}.`,
      );
    return visit(r[0]);
  };
  const stages: ConvStage[] = [];
  let t = input;
  for (;;) {
    const convs = readers(t).filter((n) => n.opType === 'Conv' && kernelOf(index, n)?.join('x') === '3x3');
    if (convs.length === 0) break;
    if (convs.length > 1)
      throw new OnnxError(
        'mismatch',
        `Several 3x3 convolutions read "${t}": ${convs.map(describeNode).join(', ')}.`,
      );
    if (stages.length >= MAX_STAGES)
      throw new OnnxError(
        'mismatch',
        `The conv chain is longer than ${MAX_STAGES} stages: not a VGG-like network.`,
      );
    const conv = visit(convs[0]);
    let next = only(conv.output?.[0] ?? '', `a BatchNormalization or Relu after ${describeNode(conv)}`);
    let batchNorm: NodeProto | null = null;
    if (next.opType === 'BatchNormalization') {
      batchNorm = next;
      next = only(next.output?.[0] ?? '', `a Relu after ${describeNode(batchNorm)}`);
    }
    if (next.opType !== 'Relu')
      throw new OnnxError(
        'mismatch',
        `Expected a Relu after ${describeNode(conv)}, found ${describeNode(next)}.`,
      );
    const relu = next;
    const output = relu.output?.[0] ?? '';
    const pools = readers(output).filter((n) => n.opType === 'MaxPool');
    if (pools.length > 1)
      throw new OnnxError(
        'mismatch',
        `Several max-pools read "${output}": ${pools.map(describeNode).join(', ')}.`,
      );
    const pool = pools.length === 1 ? visit(pools[0]) : null;
    stages.push({ conv, batchNorm, relu, pool, output });
    t = pool ? (pool.output?.[0] ?? '') : output;
  }
  const end = t;
  const tail: NodeProto[] = [];
  while (tail.length < MAX_TAIL) {
    const r = readers(t).filter((n) => !visited.has(n));
    if (r.length !== 1) break;
    const n = visit(r[0]);
    tail.push(n);
    if (n.opType === 'Gemm' || n.opType === 'MatMul' || n.opType === 'Conv') break;
    t = n.output?.[0] ?? '';
  }
  return { input, stages, end, tail };
}
