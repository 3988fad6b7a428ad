// Writes attention-VGG16_bn (docs/architecture.md) as an ONNX inference graph straight from the model spec and
// weights in PyTorch layout: no TensorFlow.js, no Python. BatchNorm is folded into the convolutions. The
// nodes are written by the training graph's forward pass (models/onnx-train/forward.ts) in inference mode,
// so the model is defined once for ONNX. Also writes the backbone alone, or its blocks 1..4 (the fast
// transfer path of issue 6 caches their outputs).
// Pure: imports models/core, the ONNX schema code and onnx-train's graph-writing modules (forward.ts and
// what it imports); nothing from main/, no runtime.

import {
  ATTENTION_TAPS,
  BN_EPSILON,
  attentionMapSizes,
  channels,
  convLayers,
  parameterLayout,
  validateSpec,
  type ModelSpec,
} from '../core/spec.js';
import { checkWeights, sizeOf, type NamedArray, type Weights } from '../core/weights.js';
import { inferenceContext, writeBackbone, writeForward, type ParamTensors } from '../onnx-train/forward.js';
import { attr, GraphWriter, type Dim } from '../onnx-train/graph-writer.js';
import { foldBatchNorm } from './batchnorm.js';
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
import { encodeModel, type GraphProto, type ModelProto } from './proto.js';

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

/**
 * The parameter tensors of the inference graph, made initializers on first use under their PyTorch names:
 * each conv of blocks 1..lastBlock with its BatchNorm folded in (batchnorm.ts), the other tensors as they
 * are. BatchNorm tensors are never asked for in inference mode.
 */
function inferenceParams(w: GraphWriter, spec: ModelSpec, weights: Weights, lastBlock: number): ParamTensors {
  const convs = new Map(
    convLayers(spec)
      .filter((c) => c.block <= lastBlock)
      .map((c) => [`features.${c.featuresIndex}`, c]),
  );
  const folded = new Map<string, { weight: NamedArray; bias: Float32Array }>();
  const made = new Map<string, string>();
  const add = (name: string, shape: readonly number[], data: Float32Array, doc?: string): string => {
    const t = w.floats(name, shape, data, doc);
    if (t !== name) throw new OnnxError('invalid', `Two tensors in the graph are named "${name}".`);
    made.set(name, t);
    return t;
  };
  return (name) => {
    const done = made.get(name);
    if (done !== undefined) return done;
    const conv = /^(features\.\d+)\.(weight|bias)$/.exec(name);
    const c = conv ? convs.get(conv[1]) : undefined;
    if (conv && c) {
      const bn = `features.${c.featuresIndex + 1}`;
      let f = folded.get(conv[1]);
      if (f === undefined) {
        f = foldBatchNorm(tensor(weights, `${conv[1]}.weight`), tensor(weights, `${conv[1]}.bias`).data, {
          scale: tensor(weights, `${bn}.weight`).data,
          shift: tensor(weights, `${bn}.bias`).data,
          mean: tensor(weights, `${bn}.running_mean`).data,
          variance: tensor(weights, `${bn}.running_var`).data,
          epsilon: BN_EPSILON,
        });
        folded.set(conv[1], f);
      }
      const doc = `conv ${c.index} (block ${c.block}) with BatchNorm ${bn} folded in`;
      return conv[2] === 'weight'
        ? add(name, f.weight.shape, f.weight.data, doc)
        : add(name, [c.outChannels], f.bias, doc);
    }
    const a = weights.get(name);
    return a === undefined ? undefined : add(name, a.shape, a.data);
  };
}

function addInput(w: GraphWriter, spec: ModelSpec): string {
  const s = spec.inputSize;
  return w.input(INPUT_NAME, [BATCH_DIM, 3, s, s], inputLayoutText(spec));
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
  const w = new GraphWriter();
  const x = addInput(w, spec);
  // The forward pass of the training graph (models/onnx-train/forward.ts) in inference mode.
  const f = writeForward(inferenceContext(w), spec, x, inferenceParams(w, spec, weights, 5), {
    mode: 'inference',
    localNames: BACKBONE_LOCALS,
  });
  const probabilities = w.op('Softmax', [f.logits], OUTPUT_PROBABILITIES, { axis: attr.int(1) });
  const classes: Dim[] = [BATCH_DIM, spec.numClasses];
  w.output(OUTPUT_LOGITS, f.logits, classes, 'class scores before softmax');
  w.output(OUTPUT_PROBABILITIES, probabilities, classes, 'softmax of the logits');
  const sides = attentionMapSizes(spec);
  f.maps.forEach((a, k) => {
    const side = sides[k];
    const name = ATTENTION_OUTPUTS[k];
    const map = w.op('Reshape', [a, w.ints([-1, side, side])], name);
    const doc = `attention map a${k + 1} over the ${side}x${side} positions of conv ${ATTENTION_TAPS[k]}`;
    w.output(name, map, [BATCH_DIM, side, side], doc);
  });
  return wrapModel(spec, 'model', w.build('attnvgg', MODEL_DOC), meta, MODEL_DOC);
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
  const w = new GraphWriter();
  const x = addInput(w, spec);
  const backbone = writeBackbone(inferenceContext(w), spec, x, inferenceParams(w, spec, weights, lastBlock), {
    mode: 'inference',
    lastBlock,
    localNames: BACKBONE_LOCALS,
    pool5Name: BACKBONE_POOL5,
  });
  const [s1, s2, s3] = attentionMapSizes(spec);
  const c = [channels(spec, 256), channels(spec, 512), channels(spec, 512)];
  const cells = (spec.inputSize / 32) ** 2;
  const [l1, l2, l3] = backbone.locals;
  w.output(BACKBONE_LOCALS[0], l1, [BATCH_DIM, c[0], s1, s1], 'conv 7 after ReLU, before projection');
  w.output(BACKBONE_LOCALS[1], l2, [BATCH_DIM, c[1], s2, s2], 'conv 10 after ReLU');
  if (lastBlock === 5) {
    w.output(BACKBONE_LOCALS[2], l3, [BATCH_DIM, c[2], s3, s3], 'conv 13 after ReLU');
    w.output(
      BACKBONE_POOL5,
      backbone.pool5 as string,
      [BATCH_DIM, c[2] * cells],
      'pool5 flattened in (C, H, W) order',
    );
  }
  const doc =
    lastBlock === 5
      ? 'The VGG16_bn backbone of an attnvgg model (BatchNorm folded): the three attention inputs and pool5, ' +
        'for caching the features of frozen layers.'
      : 'Conv blocks 1..4 of the VGG16_bn backbone of an attnvgg model (BatchNorm folded): the attention ' +
        'inputs l1 and l2, for caching the features of frozen blocks 1..4 while block 5 trains.';
  return wrapModel(spec, 'backbone', w.build('attnvgg_backbone', doc), meta, doc);
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
