// Writes attention-VGG16_bn (docs/architecture.md) as an ONNX inference graph straight from the model spec and
// weights in PyTorch layout: no TensorFlow.js, no Python. BatchNorm is folded into the convolutions.
// Also writes the backbone alone, or its blocks 1..4 (the fast transfer path of issue 6 caches their
// outputs).
// Pure: imports models/core and the ONNX schema code only; nothing from main/, no runtime.

import {
  BN_EPSILON,
  attentionMapSizes,
  channels,
  convLayers,
  parameterLayout,
  validateSpec,
  type ModelSpec,
} from '../core/spec.js';
import { checkWeights, sizeOf, type NamedArray, type Weights } from '../core/weights.js';
import { foldBatchNorm } from './batchnorm.js';
import { attr, GraphBuilder, tensorValueInfo, type Dim } from './builder.js';
import { describeError, OnnxError } from './errors.js';
import {
  ATTENTION_OUTPUTS,
  BACKBONE_LOCALS,
  BACKBONE_POOL5,
  BATCH_DIM,
  FORMAT_VERSION,
  INPUT_NAME,
  META,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  OUTPUT_LOGITS,
  OUTPUT_PROBABILITIES,
  PRODUCER_NAME,
  inputLayoutText,
  specToJson,
  type GraphKind,
} from './metadata.js';
import { encodeModel, type GraphProto, type ModelProto, type ValueInfoProto } from './proto.js';

const MODEL_DOC =
  'Attention-augmented VGG16_bn ("Learn To Pay Attention", Jetley et al., ICLR 2018) written by attnvgg. ' +
  'Input: normalised RGB images, NCHW. Outputs: class logits and probabilities, and the attention maps ' +
  'a1..a3 at 1/4, 1/8 and 1/16 of the input size (each map sums to 1 with softmax attention, ' +
  'or lies in (0, 1) with sigmoid attention).';

function tensor(weights: Weights, name: string): NamedArray {
  const a = weights.get(name);
  if (!a) throw new OnnxError('invalid', `The weights have no tensor named ${name}.`);
  return a;
}

function checkInputs(spec: ModelSpec, weights: Weights): void {
  try {
    validateSpec(spec);
    checkWeights(spec, weights);
  } catch (e) {
    throw new OnnxError('invalid', `Cannot export: ${describeError(e)}`, { cause: e });
  }
}

/** The backbone sub-graph needs only the tensors of conv blocks 1..lastBlock; others are ignored. */
function checkBackboneInputs(spec: ModelSpec, weights: Weights, lastBlock: number): void {
  try {
    validateSpec(spec);
  } catch (e) {
    throw new OnnxError('invalid', `Cannot export: ${describeError(e)}`, { cause: e });
  }
  const problems = parameterLayout(spec)
    .filter((p) => p.block > 0 && p.block <= lastBlock)
    .flatMap((p) => {
      const a = weights.get(p.name);
      if (!a) return [`missing ${p.name}`];
      if (a.shape.join('x') !== p.shape.join('x') || a.data.length !== sizeOf(p.shape))
        return [`${p.name}: expected shape [${p.shape}], found [${a.shape}]`];
      return [];
    });
  if (problems.length > 0)
    throw new OnnxError(
      'invalid',
      `Cannot export the backbone: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? '; ...' : ''}`,
    );
}

interface BackboneTensors {
  locals: [string, string, string];
  pool5: string;
}

/** The 2x2 max-pool of stride 2 after conv block `block`. */
function addMaxPool(b: GraphBuilder, x: string, block: number): string {
  return b.node('MaxPool', [x], `maxpool${block}`, {
    kernel_shape: attr.ints([2, 2]),
    strides: attr.ints([2, 2]),
  });
}

/**
 * Conv 1 up to the last conv of block `lastBlock` with BatchNorm folded and ReLU, and the max-pools between
 * blocks (not the one after block `lastBlock`). Returns the attention inputs met (conv 7, 10, 13 after
 * ReLU) and the last ReLU's output.
 */
function addConvBlocks(
  b: GraphBuilder,
  spec: ModelSpec,
  weights: Weights,
  lastBlock: number,
): { locals: string[]; last: string } {
  const locals: string[] = [];
  let h = INPUT_NAME;
  for (const c of convLayers(spec).filter((layer) => layer.block <= lastBlock)) {
    const conv = `features.${c.featuresIndex}`;
    const bn = `features.${c.featuresIndex + 1}`;
    const folded = foldBatchNorm(tensor(weights, `${conv}.weight`), tensor(weights, `${conv}.bias`).data, {
      scale: tensor(weights, `${bn}.weight`).data,
      shift: tensor(weights, `${bn}.bias`).data,
      mean: tensor(weights, `${bn}.running_mean`).data,
      variance: tensor(weights, `${bn}.running_var`).data,
      epsilon: BN_EPSILON,
    });
    const doc = `conv ${c.index} (block ${c.block}) with BatchNorm ${bn} folded in`;
    const w = b.floats(`${conv}.weight`, folded.weight.shape, folded.weight.data, doc);
    const bias = b.floats(`${conv}.bias`, [c.outChannels], folded.bias, doc);
    const y = b.node(
      'Conv',
      [h, w, bias],
      `conv${c.index}`,
      { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([1, 1]) },
      doc,
    );
    const tap = [7, 10, 13].indexOf(c.index);
    h = b.node('Relu', [y], tap >= 0 ? BACKBONE_LOCALS[tap] : `relu${c.index}`);
    if (tap >= 0) locals.push(h);
    if (c.poolAfter && c.block < lastBlock) h = addMaxPool(b, h, c.block);
  }
  return { locals, last: h };
}

/** Conv 1..13 with BatchNorm folded, ReLU and the five max-pools; pool5 flattened in (C, H, W) order. */
function addBackbone(b: GraphBuilder, spec: ModelSpec, weights: Weights): BackboneTensors {
  const { locals, last } = addConvBlocks(b, spec, weights, 5);
  const pool5 = b.node(
    'Flatten',
    [addMaxPool(b, last, 5)],
    BACKBONE_POOL5,
    { axis: attr.int(1) },
    "pool5 flattened in PyTorch's (C, H, W) order",
  );
  return { locals: locals as [string, string, string], pool5 };
}

/** Tensors every attention level reads, created once. */
interface LevelContext {
  g: string;
  /** g as [N, C, 1, 1] (pc) or [N, 1, C] (dp), made on first use. */
  gShaped: string | null;
  flatShape: string;
  flatLocalShape: string;
}

/** One attention level k (0-based): its scores, map output and attended vector g_a. */
function addAttentionLevel(
  b: GraphBuilder,
  spec: ModelSpec,
  weights: Weights,
  ctx: LevelContext,
  local: string,
  k: number,
): { attended: string; map: ValueInfoProto } {
  const level = k + 1;
  const side = attentionMapSizes(spec)[k];
  let l = local;
  if (k === 0 && weights.has('project.weight'))
    l = b.node(
      'Conv',
      [l, param(b, weights, 'project.weight')],
      'local_1_projected',
      { kernel_shape: attr.ints([1, 1]) },
      `1x1 projection of conv 7 from ${channels(spec, 256)} to ${channels(spec, 512)} channels`,
    );
  const lFlat = b.node('Reshape', [l, ctx.flatLocalShape], `local_${level}_flat`); // [N, C, hw]
  let score: string;
  if (spec.compatibility === 'pc') {
    // c = <u, l + g> = <u, l> + <u, g>: the same number without materialising l + g.
    ctx.gShaped ??= b.node('Unsqueeze', [ctx.g, b.int64s('axes_2_3', [2, 3])], 'g_4d');
    const u = param(b, weights, `u.${k}.weight`);
    const lu = b.node('Conv', [l, u], `score_local_${level}`, { kernel_shape: attr.ints([1, 1]) });
    const gu = b.node('Conv', [ctx.gShaped, u], `score_global_${level}`, { kernel_shape: attr.ints([1, 1]) });
    score = b.node('Add', [lu, gu], `score_${level}`, {}, `pc compatibility <u, l${level} + g>`);
  } else {
    ctx.gShaped ??= b.node('Unsqueeze', [ctx.g, b.int64s('axes_1', [1])], 'g_row'); // [N, 1, C]
    score = b.node('MatMul', [ctx.gShaped, lFlat], `score_${level}`, {}, `dp compatibility <l${level}, g>`);
  }
  const scores = b.node('Reshape', [score, ctx.flatShape], `score_${level}_flat`); // [N, hw]
  const a =
    spec.normalisation === 'softmax'
      ? b.node('Softmax', [scores], `attention_${level}_flat`, { axis: attr.int(-1) }, 'over positions')
      : b.node('Sigmoid', [scores], `attention_${level}_flat`);
  const aColumn = b.node(
    'Unsqueeze',
    [a, b.int64s(`axes_2_level_${level}`, [2])],
    `attention_${level}_column`,
  );
  const weighted = b.node('MatMul', [lFlat, aColumn], `attended_${level}_column`); // [N, C, 1]
  let attended = b.node('Reshape', [weighted, ctx.flatShape], `attended_${level}_sum`, {}, 'sum of a * l');
  if (spec.normalisation === 'sigmoid') {
    const n = b.floats(`positions_${level}`, [], new Float32Array([side * side]), 'positions of this level');
    attended = b.node('Div', [attended, n], `attended_${level}`, {}, 'sigmoid attention: mean, not sum');
  }
  const name = ATTENTION_OUTPUTS[k];
  b.node('Reshape', [a, b.int64s(`shape_map_${level}`, [-1, side, side])], name);
  const doc = `attention map a${level} over the ${side}x${side} positions of conv ${[7, 10, 13][k]}`;
  return { attended, map: tensorValueInfo(name, [BATCH_DIM, side, side], doc) };
}

/** g, the attention estimators and the head; returns the logits tensor and the map outputs. */
function addAttentionHead(
  b: GraphBuilder,
  spec: ModelSpec,
  weights: Weights,
  features: BackboneTensors,
): { logits: string; maps: ValueInfoProto[] } {
  const g = b.node(
    'Gemm',
    [features.pool5, param(b, weights, 'g.weight'), param(b, weights, 'g.bias')],
    'g',
    { transB: attr.int(1) },
    "global feature g = W pool5 + b (no activation, as in the authors' code)",
  );
  if (!spec.attention) {
    const relu = b.node('Relu', [g], 'g_relu');
    return { logits: addLinear(b, weights, relu), maps: [] };
  }
  const ctx: LevelContext = {
    g,
    gShaped: null,
    flatShape: b.int64s('shape_keep_batch_flatten', [0, -1]),
    flatLocalShape: b.int64s('shape_keep_batch_channels_flatten', [0, 0, -1]),
  };
  const levels = features.locals.map((local, k) => addAttentionLevel(b, spec, weights, ctx, local, k));
  const attended = levels.map((x) => x.attended);
  const concat = b.node('Concat', attended, 'attended', { axis: attr.int(1) }, 'concat(g_a1, g_a2, g_a3)');
  return { logits: addLinear(b, weights, concat), maps: levels.map((x) => x.map) };
}

/** Adds one weight tensor, under its PyTorch name, as an initializer. */
function param(b: GraphBuilder, weights: Weights, name: string): string {
  const a = tensor(weights, name);
  return b.floats(name, a.shape, a.data);
}

function addLinear(b: GraphBuilder, weights: Weights, x: string): string {
  return b.node(
    'Gemm',
    [x, param(b, weights, 'head.weight'), param(b, weights, 'head.bias')],
    OUTPUT_LOGITS,
    { transB: attr.int(1) },
    'classifier head',
  );
}

function inputInfo(spec: ModelSpec): ValueInfoProto {
  const s = spec.inputSize;
  return tensorValueInfo(INPUT_NAME, [BATCH_DIM, 3, s, s], inputLayoutText(spec));
}

function metadataProps(spec: ModelSpec, kind: GraphKind, meta: Record<string, string>) {
  const ours: Record<string, string> = {
    [META.format]: FORMAT_VERSION,
    [META.spec]: specToJson(spec),
    [META.graph]: kind,
    [META.batchNorm]: 'folded',
    [META.inputLayout]: inputLayoutText(spec),
  };
  const clash = Object.keys(meta).filter((k) => k in ours);
  if (clash.length > 0)
    throw new OnnxError(
      'invalid',
      `Metadata keys reserved by the exporter were passed in: ${clash.join(', ')}.`,
    );
  return Object.entries({ ...ours, ...meta }).map(([key, value]) => ({ key, value: String(value) }));
}

function wrapModel(
  spec: ModelSpec,
  kind: GraphKind,
  graph: GraphProto,
  meta: Record<string, string>,
  doc: string,
): ModelProto {
  return {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: PRODUCER_NAME,
    producerVersion: meta.app_version ?? '',
    modelVersion: 1,
    docString: doc,
    graph,
    metadataProps: metadataProps(spec, kind, meta),
  };
}

/** The inference model as an ONNX ModelProto (what exportOnnx serialises). */
export function buildOnnxModel(
  spec: ModelSpec,
  weights: Weights,
  meta: Record<string, string> = {},
): ModelProto {
  checkInputs(spec, weights);
  const b = new GraphBuilder();
  const features = addBackbone(b, spec, weights);
  const { logits, maps } = addAttentionHead(b, spec, weights, features);
  b.node('Softmax', [logits], OUTPUT_PROBABILITIES, { axis: attr.int(1) });
  const classes: Dim[] = [BATCH_DIM, spec.numClasses];
  const outputs = [
    tensorValueInfo(OUTPUT_LOGITS, classes, 'class scores before softmax'),
    tensorValueInfo(OUTPUT_PROBABILITIES, classes, 'softmax of the logits'),
    ...maps,
  ];
  const graph = b.build('attnvgg', [inputInfo(spec)], outputs, MODEL_DOC);
  return wrapModel(spec, 'model', graph, meta, MODEL_DOC);
}

/**
 * Writes the trained model as ONNX bytes (opset 17, IR version 8): input `input` [batch, 3, S, S],
 * outputs `logits`, `probabilities` and, with attention, `attention_1..3` [batch, h, w]. `meta` goes into
 * metadata_props beside the spec (pre-processing, classes, provenance: the caller's choice of keys).
 */
export function exportOnnx(spec: ModelSpec, weights: Weights, meta: Record<string, string> = {}): Uint8Array {
  return encodeModel(buildOnnxModel(spec, weights, meta));
}

/** How much of the backbone a sub-graph holds: blocks 1..lastBlock (default 5, the whole backbone). */
export interface BackboneGraphOptions {
  /**
   * 5: outputs `local_1..3` and `pool5`. 4: only `local_1` and `local_2` (conv 7 and 10 after ReLU), for
   * a cache of frozen blocks 1..4 whose block 5 still trains; block 5's tensors are then not needed.
   */
  lastBlock?: 4 | 5;
}

/** The backbone sub-graph as a ModelProto (what exportBackboneOnnx serialises). */
export function buildBackboneOnnxModel(
  spec: ModelSpec,
  weights: Weights,
  meta: Record<string, string> = {},
  options: BackboneGraphOptions = {},
): ModelProto {
  const lastBlock = options.lastBlock ?? 5;
  if (lastBlock !== 4 && lastBlock !== 5)
    throw new OnnxError('invalid', `A backbone sub-graph ends after block 4 or 5, not ${String(lastBlock)}.`);
  checkBackboneInputs(spec, weights, lastBlock);
  const b = new GraphBuilder();
  const [s1, s2, s3] = attentionMapSizes(spec);
  const c = [channels(spec, 256), channels(spec, 512), channels(spec, 512)];
  const cells = (spec.inputSize / 32) ** 2;
  const outputs = [
    tensorValueInfo(BACKBONE_LOCALS[0], [BATCH_DIM, c[0], s1, s1], 'conv 7 after ReLU, before projection'),
    tensorValueInfo(BACKBONE_LOCALS[1], [BATCH_DIM, c[1], s2, s2], 'conv 10 after ReLU'),
  ];
  if (lastBlock === 5) {
    const { pool5 } = addBackbone(b, spec, weights);
    outputs.push(
      tensorValueInfo(BACKBONE_LOCALS[2], [BATCH_DIM, c[2], s3, s3], 'conv 13 after ReLU'),
      tensorValueInfo(pool5, [BATCH_DIM, c[2] * cells], 'pool5 flattened in (C, H, W) order'),
    );
  } else addConvBlocks(b, spec, weights, lastBlock);
  const doc =
    lastBlock === 5
      ? 'The VGG16_bn backbone of an attnvgg model (BatchNorm folded): the three attention inputs and pool5, ' +
        'for caching the features of frozen layers.'
      : 'Conv blocks 1..4 of the VGG16_bn backbone of an attnvgg model (BatchNorm folded): the attention ' +
        'inputs l1 and l2, for caching the features of frozen blocks 1..4 while block 5 trains.';
  const graph = b.build('attnvgg_backbone', [inputInfo(spec)], outputs, doc);
  return wrapModel(spec, 'backbone', graph, meta, doc);
}

/**
 * Writes the backbone sub-graph: outputs `local_1..3` (conv 7/10/13 after ReLU) and `pool5` (flattened),
 * or with `lastBlock: 4` only `local_1` and `local_2`. Needs only the `features.*` tensors of the blocks
 * it holds (an imported pretrained backbone will do); others are ignored.
 */
export function exportBackboneOnnx(
  spec: ModelSpec,
  weights: Weights,
  options: BackboneGraphOptions = {},
): Uint8Array {
  return encodeModel(buildBackboneOnnxModel(spec, weights, {}, options));
}
