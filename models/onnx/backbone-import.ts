// Imports a pretrained VGG16_bn backbone (the 13 conv + BatchNorm layers, `features.*` in the model spec's
// PyTorch names) from ONNX files made by other tools: torchvision's vgg16_bn exported by torch.onnx.export
// (BatchNorm folded into the convs by an eval export, or kept by a training-mode export) and the ONNX
// Model Zoo's vgg16-bn (old opset, BatchNormalization kept, Flatten + Gemm classifier). Layers are found
// by graph structure (backbone-match.ts); the classifier that follows is described, not imported: attnvgg
// trains its own head. How a folded file maps onto conv + BatchNorm: see batchnorm.ts and README.md.
// Pure: bytes in, weights out; no runtime, nothing from main/.

import { channels } from '../core/spec.js';
import type { Weights } from '../core/weights.js';
import { matchVggBackbone, type BackboneMatch } from './backbone-match.js';
import { describeError, OnnxError, type OnnxErrorKind } from './errors.js';
import { intAttribute, type GraphIndex } from './graph-walk.js';
import type { NodeProto } from './proto.js';
import { readOnnx, type OnnxModel, type ReadOnnxOptions } from './read.js';
import { tensorDims } from './tensor.js';

/** ImageNet VGG16_bn is the full-width network. */
export const IMAGENET_WIDTH = 1;

export interface ImportBackboneOptions extends ReadOnnxOptions {
  /** The width the caller's model spec has; a file of another width is refused with both widths named. */
  width?: number;
}

export interface ImportedBackbone {
  /** The file's width multiplier (conv 13's channels / 512); 1 for ImageNet VGG16_bn. */
  width: number;
  /** BatchNorm as separate nodes ('kept'), folded into the convs, or some of each. */
  batchNorm: BackboneMatch['batchNorm'];
  /** Kept BatchNorm nodes exported in training mode (read by their running statistics). */
  trainingModeBatchNorm: number;
  /** The 78 `features.*` tensors (13 x conv weight, bias, BN weight, bias, running mean, variance). */
  weights: Weights;
  /** "pytorch 1.13.0", "zoo-style fixture", ... as the file says. */
  producer: string;
  irVersion: number;
  opset: number;
  /** What follows the conv stack, for the report, e.g. "AveragePool -> Flatten -> Gemm [25088 -> 4096]". */
  classifier: string;
}

function describeTail(index: GraphIndex, tail: readonly NodeProto[]): string {
  if (tail.length === 0) return 'nothing (the graph ends after the conv stack)';
  return tail
    .map((n) => {
      if (n.opType === 'Gemm' || n.opType === 'MatMul') {
        const w = n.input?.[1] ? index.constant(n.input[1]) : undefined;
        const dims = w ? tensorDims(w) : undefined;
        if (dims?.length === 2) {
          const transB = n.opType === 'Gemm' && intAttribute(n, 'transB', 0) === 1;
          const [inputs, outputs] = transB ? [dims[1], dims[0]] : [dims[0], dims[1]];
          return `${n.opType} [${inputs} -> ${outputs}]`;
        }
      }
      return n.opType ?? '?';
    })
    .join(' -> ');
}

/** Why a file of VGG16_bn width `fileWidth` cannot serve a model spec of width `specWidth`. */
export function widthMismatchMessage(fileWidth: number, specWidth: number): string {
  const hint =
    fileWidth === IMAGENET_WIDTH
      ? ' ImageNet VGG16_bn weights are width 1.0: set the width to 1.0 to use this backbone.'
      : '';
  return (
    `The file holds VGG16_bn at width ${fileWidth} (conv 13 has ${channels({ width: fileWidth }, 512)} channels); ` +
    `the model spec has width ${specWidth} (${channels({ width: specWidth }, 512)} channels).${hint}`
  );
}

function importFrom(model: OnnxModel, options: ImportBackboneOptions): ImportedBackbone {
  // First read the width off the file, so that a width mismatch is named as such rather than as the
  // shape of conv 1; then every layer is checked against that width.
  const match = matchVggBackbone(model);
  if (options.width !== undefined && options.width !== match.width)
    throw new OnnxError('mismatch', widthMismatchMessage(match.width, options.width));
  const trainingModeBatchNorm = match.stack.stages.filter(
    (s) =>
      s.batchNorm &&
      (intAttribute(s.batchNorm, 'training_mode', 0) === 1 ||
        (s.batchNorm.output ?? []).filter((o) => o).length > 1),
  ).length;
  const version = model.proto.producerVersion ? ` ${model.proto.producerVersion}` : '';
  return {
    width: match.width,
    batchNorm: match.batchNorm,
    trainingModeBatchNorm,
    weights: match.weights,
    producer: `${model.producerName || 'an unnamed tool'}${version}`,
    irVersion: model.irVersion,
    opset: model.opsetVersion,
    classifier: describeTail(match.index, match.stack.tail),
  };
}

/**
 * Reads VGG16_bn's conv + BatchNorm parameters from an ONNX file's bytes into the model spec's names.
 * Throws only OnnxError: 'malformed' / 'invalid' for a broken file, 'mismatch' with what differs (which
 * layer, expected versus found) for a valid file that is not VGG16_bn (at the requested width).
 */
export function importVggBackbone(bytes: Uint8Array, options: ImportBackboneOptions = {}): ImportedBackbone {
  try {
    return importFrom(readOnnx(bytes, options), options);
  } catch (e) {
    if (e instanceof OnnxError) throw e;
    throw new OnnxError('invalid', `The backbone could not be imported: ${describeError(e)}`, { cause: e });
  }
}

export interface BackboneCheck {
  /** True when the file imports as a VGG16_bn backbone (at the requested width, if one was given). */
  usable: boolean;
  /** Why not, in words a user can act on (absent when usable). */
  problem?: string;
  /** The kind of OnnxError behind `problem`. */
  problemKind?: OnnxErrorKind;
  /** What was found, when the file was importable. */
  backbone?: Omit<ImportedBackbone, 'weights'>;
  /** Things worth knowing even when usable (folded BatchNorm, a narrow width ...). */
  notes: string[];
}

/** Notes on an importable backbone: what the user gets and what to be aware of. */
export function backboneNotes(b: Omit<ImportedBackbone, 'weights'>): string[] {
  const notes: string[] = [];
  if (b.width !== IMAGENET_WIDTH)
    notes.push(
      `Width ${b.width}, not the ImageNet VGG16_bn's 1.0: it only fits a model spec of width ${b.width}.`,
    );
  if (b.batchNorm !== 'kept')
    notes.push(
      'BatchNorm is folded into the convolutions: exact for frozen blocks (the "quick" preset); a block ' +
        'that is trained restarts its BatchNorm scale and shift from 1 and 0. A file exported with ' +
        'BatchNorm kept (torch.onnx.export with training=TrainingMode.TRAINING) keeps them.',
    );
  if (b.trainingModeBatchNorm > 0)
    notes.push(
      `${b.trainingModeBatchNorm} BatchNorm node(s) are in training mode: their running statistics are used.`,
    );
  return notes;
}

/** Says whether `bytes` import as a VGG16_bn backbone and why not; never throws for a bad file. */
export function checkVggBackbone(bytes: Uint8Array, options: ImportBackboneOptions = {}): BackboneCheck {
  try {
    const { weights: _weights, ...found } = importVggBackbone(bytes, options);
    return { usable: true, backbone: found, notes: backboneNotes(found) };
  } catch (e) {
    if (!(e instanceof OnnxError)) throw e;
    return { usable: false, problem: e.message, problemKind: e.kind, notes: [] };
  }
}
