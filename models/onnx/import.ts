// Reads ONNX files back: readOnnx (any ONNX file, checked; see read.ts) and importAttnVggOnnx, which turns
// a model written by exportOnnx back into (spec, weights). The backbone is found by graph structure
// (backbone-match.ts); the head tensors by the PyTorch names the exporter gives them.
//
// BatchNorm round trip: exported files have BatchNorm folded into the convs, so the imported conv
// weights and biases are the folded ones and every BatchNorm is the identity: scale 1, shift 0, running
// mean 0 and running variance fround(1 - 1e-5), for which variance + eps is exactly 1 in float32 (see
// batchnorm.ts). The imported model therefore computes what the exported file computes, to within
// float32 rounding, and exporting it again writes the same conv weights.
// Pure: no runtime, nothing from main/.

import { channels, validateSpec, type ModelSpec } from '../core/spec.js';
import { checkWeights, type Weights } from '../core/weights.js';
import { constantFloats, matchVggBackbone } from './backbone-match.js';
import { describeError, OnnxError } from './errors.js';
import { describeNode, intAttribute, type GraphIndex } from './graph-walk.js';
import { META, PRODUCER_NAME } from './metadata.js';
import type { NodeProto } from './proto.js';
import { readOnnx, type OnnxModel, type ReadOnnxOptions } from './read.js';
import { tensorDims, tensorFloat32 } from './tensor.js';

export { readOnnx, type OnnxModel, type ReadOnnxOptions } from './read.js';

export interface ImportedAttnVgg {
  spec: ModelSpec;
  /** All tensors of parameterLayout(spec), PyTorch layout, BatchNorm as the identity (folded). */
  weights: Weights;
  /** The file's metadata_props other than the exporter's own keys (pre-processing, provenance ...). */
  metadata: Record<string, string>;
}

function specOf(model: OnnxModel): ModelSpec {
  const text = model.metadata.get(META.spec);
  if (text === undefined)
    throw new OnnxError(
      'mismatch',
      `The file has no "${META.spec}" metadata: it was not exported by attnvgg.`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new OnnxError(
      'invalid',
      `The model spec in the file's metadata is not valid JSON: ${describeError(e)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new OnnxError('invalid', "The model spec in the file's metadata is not a JSON object.");
  const p = parsed as Record<string, unknown>;
  const spec = {
    inputSize: p.inputSize,
    width: p.width,
    numClasses: p.numClasses,
    attention: p.attention,
    compatibility: p.compatibility,
    normalisation: p.normalisation,
  } as ModelSpec;
  if (typeof spec.attention !== 'boolean')
    throw new OnnxError(
      'invalid',
      "The model spec in the file's metadata does not say whether attention is on.",
    );
  try {
    return validateSpec(spec);
  } catch (e) {
    throw new OnnxError('invalid', `The file's metadata holds an invalid model spec: ${describeError(e)}`);
  }
}

/** The global-feature Gemm after pool5: the walk's tail must be Flatten -> Gemm (ours) with B as [out, in]. */
function globalFeature(
  index: GraphIndex,
  tail: readonly NodeProto[],
  shape: number[],
  weights: Weights,
): void {
  const gemm = tail.at(-1);
  if (!gemm || gemm.opType !== 'Gemm' || tail.length !== 2 || tail[0].opType !== 'Flatten')
    throw new OnnxError(
      'mismatch',
      `Expected Flatten -> Gemm after the last max-pool, found ${tail.map(describeNode).join(' -> ') || 'nothing'}.`,
    );
  if (intAttribute(tail[0], 'axis', 1) !== 1)
    throw new OnnxError(
      'mismatch',
      'The Flatten after the last max-pool does not keep the batch axis alone.',
    );
  if (intAttribute(gemm, 'transA', 0) !== 0 || intAttribute(gemm, 'transB', 0) !== 1)
    throw new OnnxError('mismatch', `${describeNode(gemm)} is not the x * W^T form attnvgg writes.`);
  const [, w, b] = gemm.input ?? [];
  weights.set('g.weight', constantFloats(index, w, shape, 'weight of the global feature g'));
  weights.set('g.bias', constantFloats(index, b, [shape[0]], 'bias of the global feature g'));
}

function importChecked(bytes: Uint8Array, options: ReadOnnxOptions): ImportedAttnVgg {
  const model = readOnnx(bytes, options);
  if (model.producerName !== PRODUCER_NAME)
    throw new OnnxError(
      'mismatch',
      `The file was written by "${model.producerName || 'an unnamed tool'}", not by attnvgg; only attnvgg's own exports import as a whole model.`,
    );
  const kind = model.metadata.get(META.graph);
  if (kind !== 'model')
    throw new OnnxError(
      'mismatch',
      `The file holds an attnvgg ${kind ?? 'unknown'} graph, not a whole model.`,
    );
  if (model.metadata.get(META.batchNorm) !== 'folded')
    throw new OnnxError('unsupported', 'The file does not say that its BatchNorm is folded.');
  const spec = specOf(model);
  const backbone = matchVggBackbone(model, spec.width);
  const weights = backbone.weights;
  const c512 = channels(spec, 512);
  globalFeature(backbone.index, backbone.stack.tail, [c512, c512 * (spec.inputSize / 32) ** 2], weights);
  const named = ['head.weight', 'head.bias'];
  if (spec.attention) {
    if (model.initializers.has('project.weight')) named.push('project.weight');
    for (const k of [0, 1, 2]) {
      if (spec.compatibility === 'additive') named.push(`wl.${k}.weight`, `wg.${k}.weight`);
      if (spec.compatibility !== 'dp') named.push(`u.${k}.weight`);
    }
  }
  for (const name of named) {
    const t = model.initializers.get(name);
    if (!t)
      throw new OnnxError('mismatch', `The file has no tensor named "${name}", which the model spec needs.`);
    weights.set(name, { shape: tensorDims(t), data: tensorFloat32(t) });
  }
  try {
    checkWeights(spec, weights);
  } catch (e) {
    throw new OnnxError('mismatch', `The file's tensors do not fit its model spec: ${describeError(e)}`);
  }
  const ours = new Set<string>(Object.values(META));
  const metadata: Record<string, string> = {};
  for (const [k, v] of model.metadata) if (!ours.has(k)) metadata[k] = v;
  return { spec, weights, metadata };
}

/**
 * Reads a model written by exportOnnx back into its spec and weights. Throws only OnnxError ('mismatch'
 * for a valid ONNX file that is not an attnvgg model, or not the one its metadata describes).
 */
export function importAttnVggOnnx(bytes: Uint8Array, options: ReadOnnxOptions = {}): ImportedAttnVgg {
  try {
    return importChecked(bytes, options);
  } catch (e) {
    if (e instanceof OnnxError) throw e;
    throw new OnnxError('invalid', `The ONNX file could not be imported: ${describeError(e)}`, { cause: e });
  }
}
