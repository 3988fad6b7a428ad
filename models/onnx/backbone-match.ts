// Matches the conv stack of an ONNX graph against VGG16_bn's layout (13 conv3x3 stages, max-pools after
// convs 2, 4, 7, 10 and 13) by graph structure and order, and reads its parameters into the model spec's
// PyTorch names (features.N.weight, features.N+1.running_mean, ...). BatchNorm kept separate by the
// exporter is read as it is (re-expressed with the model's epsilon); BatchNorm folded into the convs is
// read as the identity BatchNorm. A file that differs is refused with a message saying where.
// Serves our own files (import.ts) and, later, torchvision / Model Zoo backbones (issue 6).
// Pure: no runtime, nothing from main/.

import { BN_EPSILON, channels, convLayers, type ConvLayer } from '../core/spec.js';
import type { Weights } from '../core/weights.js';
import { identityBatchNorm, toModelEpsilon, type BatchNormParams } from './batchnorm.js';
import { OnnxError } from './errors.js';
import {
  describeNode,
  floatAttribute,
  graphInput,
  indexGraph,
  intAttribute,
  intsAttribute,
  stringAttribute,
  walkConvStack,
  type ConvStack,
  type ConvStage,
  type GraphIndex,
} from './graph-walk.js';
import type { NodeProto } from './proto.js';
import type { OnnxModel } from './read.js';
import { tensorDims, tensorFloat32 } from './tensor.js';

export interface BackboneMatch {
  /** Width multiplier: conv 13's channels / 512 (or the width the caller expected). */
  width: number;
  /** How the file stores BatchNorm: as separate nodes, folded into the convs, or some of each. */
  batchNorm: 'kept' | 'folded' | 'mixed';
  /** The 13 conv + BatchNorm layers' tensors under the model spec's names, in PyTorch layout. */
  weights: Weights;
  stack: ConvStack;
  index: GraphIndex;
}

const mismatch = (message: string): never => {
  throw new OnnxError('mismatch', message);
};

/** A float tensor read through the index (initializer or Constant), with its expected shape checked. */
export function constantFloats(index: GraphIndex, name: string | undefined, shape: number[], what: string) {
  const t = name ? index.constant(name) : undefined;
  if (!t) return mismatch(`The ${what} is not a constant tensor in the file, so it cannot be imported.`);
  const dims = tensorDims(t);
  if (dims.join('x') !== shape.join('x'))
    mismatch(`The ${what} has shape [${dims}]; the model spec expects [${shape}].`);
  return { shape, data: tensorFloat32(t) };
}

function sameList(found: number[] | undefined, expected: number[], fallback: number[]): boolean {
  return (found ?? fallback).join(',') === expected.join(',');
}

function checkConv(stage: ConvStage, layer: ConvLayer): void {
  const node = stage.conv;
  const where = `conv ${layer.index} (${describeNode(node)})`;
  if (intAttribute(node, 'group', 1) !== 1) mismatch(`${where} is a grouped convolution; VGG's are not.`);
  if (!sameList(intsAttribute(node, 'strides'), [1, 1], [1, 1]))
    mismatch(`${where} has strides other than 1.`);
  if (!sameList(intsAttribute(node, 'dilations'), [1, 1], [1, 1])) mismatch(`${where} is dilated.`);
  const autoPad = stringAttribute(node, 'auto_pad') ?? 'NOTSET';
  const padded =
    autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER'
      ? true
      : autoPad === 'NOTSET' && sameList(intsAttribute(node, 'pads'), [1, 1, 1, 1], [0, 0, 0, 0]);
  if (!padded) mismatch(`${where} is not padded by 1 pixel on each side (VGG keeps the size).`);
}

function checkPool(stage: ConvStage, layer: ConvLayer): void {
  if (!!stage.pool !== layer.poolAfter)
    mismatch(
      layer.poolAfter
        ? `VGG16 has a max-pool after conv ${layer.index}; the file has none there.`
        : `The file has a max-pool after conv ${layer.index}, where VGG16 has none.`,
    );
  const pool = stage.pool;
  if (!pool) return;
  const where = `the max-pool after conv ${layer.index}`;
  if (!sameList(intsAttribute(pool, 'kernel_shape'), [2, 2], [])) mismatch(`${where} is not 2x2.`);
  if (!sameList(intsAttribute(pool, 'strides'), [2, 2], [1, 1])) mismatch(`${where} does not have stride 2.`);
  if (!sameList(intsAttribute(pool, 'pads'), [0, 0, 0, 0], [0, 0, 0, 0])) mismatch(`${where} is padded.`);
}

function batchNormOf(index: GraphIndex, node: NodeProto, c: number, layer: ConvLayer): BatchNormParams {
  const where = `the BatchNorm after conv ${layer.index}`;
  // A training-mode node (opset 14+ training_mode=1, or opset < 14 with the running-statistics outputs
  // wired out) normalises with batch statistics when the file itself runs, but its running-statistics
  // inputs hold the same learned numbers as an inference export: those are what is read here.
  if (intAttribute(node, 'spatial', 1) !== 1) mismatch(`${where} is not spatial (per-channel).`);
  const [, scale, shift, mean, variance] = node.input ?? [];
  const read = (name: string | undefined, role: string) =>
    constantFloats(index, name, [c], `${role} of ${where}`).data;
  return {
    scale: read(scale, 'scale'),
    shift: read(shift, 'shift'),
    mean: read(mean, 'mean'),
    variance: read(variance, 'variance'),
    epsilon: floatAttribute(node, 'epsilon', BN_EPSILON),
  };
}

/**
 * Finds VGG16_bn's 13 conv layers in `model` by structure and returns their parameters. `expectedWidth`
 * (from a model spec) makes a file of another width a mismatch; without it the width is read off the file.
 */
export function matchVggBackbone(model: OnnxModel, expectedWidth?: number): BackboneMatch {
  const index = indexGraph(model);
  const stack = walkConvStack(index, graphInput(model));
  if (stack.stages.length !== 13)
    mismatch(
      `Found ${stack.stages.length} conv3x3 + ReLU stages in a chain from the input; VGG16_bn has 13 ` +
        '(64, 64 | 128, 128 | 256, 256, 256 | 512, 512, 512 | 512, 512, 512).',
    );
  const last = index.constant(stack.stages[12].conv.input?.[1] ?? '');
  const c13 = last?.dims?.[0];
  if (c13 === undefined || !Number.isSafeInteger(c13) || c13 < 1)
    return mismatch('The weight of conv 13 is not a constant tensor in the file.');
  const width = expectedWidth ?? c13 / 512;
  const layers = convLayers({ width });
  if (channels({ width }, 512) !== c13)
    mismatch(`Conv 13 has ${c13} output channels; a width of ${width} means ${channels({ width }, 512)}.`);
  const weights: Weights = new Map();
  let kept = 0;
  stack.stages.forEach((stage, i) => {
    const layer = layers[i];
    checkConv(stage, layer);
    checkPool(stage, layer);
    const o = layer.outChannels;
    const conv = `features.${layer.featuresIndex}`;
    const bn = `features.${layer.featuresIndex + 1}`;
    const [, wName, bName] = stage.conv.input ?? [];
    weights.set(
      `${conv}.weight`,
      constantFloats(index, wName, [o, layer.inChannels, 3, 3], `weight of conv ${layer.index}`),
    );
    weights.set(
      `${conv}.bias`,
      bName
        ? constantFloats(index, bName, [o], `bias of conv ${layer.index}`)
        : { shape: [o], data: new Float32Array(o) },
    );
    if (stage.batchNorm) {
      kept += 1;
      const p = toModelEpsilon(batchNormOf(index, stage.batchNorm, o, layer));
      weights.set(`${bn}.weight`, { shape: [o], data: Float32Array.from(p.scale) });
      weights.set(`${bn}.bias`, { shape: [o], data: p.shift });
      weights.set(`${bn}.running_mean`, { shape: [o], data: p.mean });
      weights.set(`${bn}.running_var`, { shape: [o], data: p.variance });
    } else {
      const id = identityBatchNorm(o);
      weights.set(`${bn}.weight`, { shape: [o], data: id.weight });
      weights.set(`${bn}.bias`, { shape: [o], data: id.bias });
      weights.set(`${bn}.running_mean`, { shape: [o], data: id.runningMean });
      weights.set(`${bn}.running_var`, { shape: [o], data: id.runningVar });
    }
  });
  return { width, batchNorm: kept === 13 ? 'kept' : kept === 0 ? 'folded' : 'mixed', weights, stack, index };
}
