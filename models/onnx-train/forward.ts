// The forward pass of attention-VGG16_bn as ONNX nodes, written once for every ONNX graph: the training
// step and its evaluation graph (train-graph.ts: BatchNorm on batch statistics, or on running statistics in
// frozen blocks and when evaluating, with the backward recorded on the tape) and the exported inference
// graph (models/onnx/export.ts: BatchNorm folded into the convolutions, nothing tracked, so the layer
// functions write forward nodes only).
// Pure: imports models/core, the graph writer and the layer functions; nothing from main/, no runtime.

import {
  ATTENTION_TAPS,
  additiveHiddenWidth,
  attentionMapSizes,
  channels,
  convLayers,
  type ModelSpec,
} from '../core/spec.js';
import { attendAndClassify, type HeadTensors } from './attention.js';
import type { GraphWriter } from './graph-writer.js';
import {
  batchNormFrozen,
  batchNormTrain,
  conv3x3,
  flatten,
  maxPool2x2,
  relu,
  reluMaxPool2x2,
  type LayerContext,
} from './layers.js';
import { Tape } from './tape.js';

/**
 * 'train': conv -> BatchNorm -> ReLU, BatchNorm on batch statistics in trainable blocks and on running
 * statistics in frozen ones. 'evaluate': BatchNorm on running statistics everywhere (train-graph.ts's
 * evaluation graph). 'inference': conv -> ReLU, the conv's weight and bias being BatchNorm-folded
 * (models/onnx/batchnorm.ts), so no BatchNorm tensor is read.
 */
export type ForwardMode = 'train' | 'evaluate' | 'inference';

/**
 * The graph tensor holding a parameter, by its PyTorch state_dict name (an input, an initializer or a
 * constant), or undefined when the model has no such tensor. Called in graph order, at most once a name
 * for the tensors the forward reads, so a writer may create initializers on first use.
 */
export type ParamTensors = (name: string) => string | undefined;

export interface ForwardOptions {
  mode: ForwardMode;
  /** 'train': conv blocks 1..frozenBlocks use BatchNorm on running statistics (default 0). */
  frozenBlocks?: number;
  /**
   * The first conv block written (default 1); the backbone's input is then that block's input (block 4's
   * max-pool output for block 5, as the graphs on cached features start).
   */
  fromBlock?: 1 | 2 | 3 | 4 | 5;
  /**
   * The last conv block written (default 5). Below 5 the backbone ends at that block's last ReLU (no
   * max-pool after it, no pool5): the export's blocks 1..4 sub-graph. writeForward needs 5.
   */
  lastBlock?: 1 | 2 | 3 | 4 | 5;
  /**
   * A conv (1-based index) whose ReLU output the backward starts from (Grad-CAM: 13): that output is
   * tracked on the tape, and the max-pool after it passes the gradient to it (maxPool2x2) rather than to
   * the ReLU's input. Nothing before it needs to be tracked.
   */
  gradientFrom?: number;
  /** Names for the ReLU outputs of convs 7, 10 and 13 (default relu7, relu10, relu13). */
  localNames?: readonly string[];
  /** Name of pool5 flattened (default 'pool5'). */
  pool5Name?: string;
}

export interface BackboneTensors {
  /** ReLU outputs of convs 7, 10, 13 that the written blocks hold (NCHW). */
  locals: string[];
  /** The last tensor written: pool5 flattened with lastBlock 5, else the last ReLU's output. */
  last: string;
  /** pool5 flattened in PyTorch's (C, H, W) order; only with lastBlock 5. */
  pool5?: string;
  /** 'train': the updated BatchNorm running averages of trainable blocks, by PyTorch name. */
  nextRunning: Map<string, string>;
}

export interface ForwardTensors extends BackboneTensors {
  logits: string;
  /** The attention maps a_1..a_3 as [N, 1, side * side]; empty with attention off. */
  maps: string[];
}

/** A layer context for the inference graph: a tape that tracks nothing, so no backward is written. */
export function inferenceContext(w: GraphWriter): LayerContext {
  // batch is read only by training-mode BatchNorm, which the inference forward does not write.
  return {
    w,
    tape: new Tape(w),
    batch: '',
    filterGradient: 'shifts',
    poolBackward: 'indices',
    counts: new Map(),
  };
}

function need(param: ParamTensors, name: string): string {
  const t = param(name);
  if (t === undefined) throw new Error(`The forward pass needs the tensor ${name}`);
  return t;
}

/**
 * The backbone, as AttentionVgg.backbone: the convs of blocks `fromBlock`..`lastBlock`, each with its
 * BatchNorm (modes 'train' and 'evaluate') or folded BatchNorm (mode 'inference') and ReLU, and the 2x2
 * max-pools between blocks; with lastBlock 5 also the max-pool after block 5 and pool5 flattened.
 */
export function writeBackbone(
  ctx: LayerContext,
  spec: ModelSpec,
  x: string,
  param: ParamTensors,
  options: ForwardOptions,
): BackboneTensors {
  const frozenBlocks = options.frozenBlocks ?? 0;
  const fromBlock = options.fromBlock ?? 1;
  const lastBlock = options.lastBlock ?? 5;
  const locals: string[] = [];
  const nextRunning = new Map<string, string>();
  let h = x;
  let side = spec.inputSize / 2 ** (fromBlock - 1);
  for (const c of convLayers(spec).filter((layer) => layer.block >= fromBlock && layer.block <= lastBlock)) {
    const conv = `features.${c.featuresIndex}`;
    const bn = `features.${c.featuresIndex + 1}`;
    h = conv3x3(
      ctx,
      h,
      need(param, `${conv}.weight`),
      need(param, `${conv}.bias`),
      { inChannels: c.inChannels, outChannels: c.outChannels, side },
      `conv${c.index}`,
    );
    if (options.mode !== 'inference') {
      const bnTensors = {
        gamma: need(param, `${bn}.weight`),
        beta: need(param, `${bn}.bias`),
        runningMean: need(param, `${bn}.running_mean`),
        runningVar: need(param, `${bn}.running_var`),
      };
      if (options.mode === 'train' && c.block > frozenBlocks) {
        const r = batchNormTrain(
          ctx,
          h,
          bnTensors,
          { channels: c.outChannels, positions: side * side },
          `bn${c.index}`,
        );
        h = r.y;
        nextRunning.set(`${bn}.running_mean`, r.runningMean);
        nextRunning.set(`${bn}.running_var`, r.runningVar);
      } else h = batchNormFrozen(ctx, h, bnTensors, `bn${c.index}`);
    }
    const tap = ATTENTION_TAPS.indexOf(c.index);
    const reluName = tap >= 0 ? (options.localNames?.[tap] ?? `relu${c.index}`) : `relu${c.index}`;
    const gradientFrom = options.gradientFrom === c.index;
    // Every block ends in a max-pool, but a backbone cut before block 5 ends at its last ReLU.
    const pooled = c.poolAfter && (c.block < lastBlock || lastBlock === 5);
    if (gradientFrom) {
      h = ctx.tape.track(relu(ctx, h, reluName));
      if (tap >= 0) locals.push(h);
      if (pooled) {
        h = maxPool2x2(ctx, h, { channels: c.outChannels, side }, `maxpool${c.block}`);
        side /= 2;
      }
    } else if (pooled) {
      const r = reluMaxPool2x2(
        ctx,
        h,
        { channels: c.outChannels, side },
        { relu: reluName, pool: `maxpool${c.block}` },
      );
      if (tap >= 0) locals.push(r.relu);
      h = r.pooled;
      side /= 2;
    } else {
      h = relu(ctx, h, reluName);
      if (tap >= 0) locals.push(h);
    }
  }
  if (lastBlock < 5) return { locals, last: h, nextRunning };
  const pool5 = flatten(ctx, h, options.pool5Name ?? 'pool5');
  return { locals, last: pool5, pool5, nextRunning };
}

/** What the head reads: pool5 and the taps of the backbone (or the cached features standing in for them). */
export interface HeadOptions {
  /** Level 1's projection after its pooling (attention.ts, LevelInputs.project): for cached l1. */
  projectAfterPooling?: boolean;
}

/** g, the attention levels and the classifier head (AttentionVgg.attend): the logits and the maps. */
export function writeHead(
  ctx: LayerContext,
  spec: ModelSpec,
  locals: readonly string[],
  pool5: string,
  param: ParamTensors,
  options: HeadOptions = {},
): { logits: string; maps: string[] } {
  const withU = spec.attention && spec.compatibility !== 'dp';
  const additive = spec.attention && spec.compatibility === 'additive';
  const perLevel = (prefix: string) => [0, 1, 2].map((k) => need(param, `${prefix}.${k}.weight`));
  const head: HeadTensors = {
    g: { weight: need(param, 'g.weight'), bias: need(param, 'g.bias') },
    head: { weight: need(param, 'head.weight'), bias: need(param, 'head.bias') },
    project: spec.attention ? param('project.weight') : undefined,
    ...(additive ? { wl: perLevel('wl'), wg: perLevel('wg') } : {}),
    u: withU ? perLevel('u') : [],
  };
  return attendAndClassify(
    ctx,
    spec,
    locals,
    pool5,
    head,
    {
      c256: channels(spec, 256),
      c512: channels(spec, 512),
      hidden: additiveHiddenWidth(spec),
      sides: attentionMapSizes(spec),
    },
    { projectAfterPooling: options.projectAfterPooling ?? false },
  );
}

/** The whole forward pass from the images: the backbone and the head (AttentionVgg's call). */
export function writeForward(
  ctx: LayerContext,
  spec: ModelSpec,
  x: string,
  param: ParamTensors,
  options: ForwardOptions,
): ForwardTensors {
  if ((options.fromBlock ?? 1) !== 1 || (options.lastBlock ?? 5) !== 5)
    throw new Error('The whole forward pass runs from block 1 to block 5');
  const backbone = writeBackbone(ctx, spec, x, param, options);
  const { logits, maps } = writeHead(ctx, spec, backbone.locals, backbone.pool5 as string, param);
  return { ...backbone, logits, maps };
}
