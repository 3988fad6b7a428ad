// Writes ONE full training step of attention-VGG16_bn as an ONNX graph (opset 17, IR 8), straight from the
// model spec: forward in training mode (models/tfjs/model.ts: BatchNorm on batch statistics), mean
// cross-entropy with label smoothing, the backward pass (layers.ts, attention.ts), BatchNorm running
// averages and the SGD update. Parameters, running statistics and momentum buffers come in as inputs and
// leave, updated, as outputs; frozen blocks (fixed when the graph is written) are constants inside it.
// Pure: imports models/core and the ONNX writer; nothing from main/, no runtime.

import {
  attentionMapSizes,
  channels,
  convLayers,
  parameterLayout,
  validateSpec,
  type ModelSpec,
  type ParamInfo,
} from '../core/spec.js';
import type { NamedArray, Weights } from '../core/weights.js';
import { ONNX_IR_VERSION, ONNX_OPSET, PRODUCER_NAME, specToJson } from '../onnx/metadata.js';
import { DataType, type ModelProto } from '../onnx/proto.js';
import { attendAndClassify, type HeadTensors } from './attention.js';
import { OnnxTrainError } from './errors.js';
import { attr, GraphWriter } from './graph-writer.js';
import { crossEntropyLoss } from './loss.js';
import {
  batchNormFrozen,
  batchNormTrain,
  conv3x3,
  relu,
  reluMaxPool2x2,
  reshape,
  FILTER_GRADIENTS,
  POOL_BACKWARDS,
  type FilterGradient,
  type PoolBackward,
  type LayerContext,
} from './layers.js';
import { ADAM_DEFAULTS, adamUpdate } from './adam.js';
import { sgdUpdate } from './sgd.js';
import { Tape } from './tape.js';

export type InputLayout = 'nchw' | 'nhwc';

/** The optimisers the graph can be written with (models/train/optimizer.ts's names). */
export type GraphOptimizer = 'sgd' | 'adam' | 'adamw';
export const GRAPH_OPTIMIZERS: readonly GraphOptimizer[] = ['sgd', 'adam', 'adamw'];

export interface TrainingGraphOptions {
  /** Conv blocks 1..k are frozen (0..5): constants in the graph, BatchNorm on running statistics. */
  frozenBlocks?: number;
  /** The weights (PyTorch layout) the frozen blocks' constants are taken from; needed when frozenBlocks > 0. */
  frozenWeights?: Weights;
  /** Layout of the input `x`: 'nchw' [N, 3, S, S] (default) or 'nhwc' [N, S, S, 3] (transposed inside). */
  inputLayout?: InputLayout;
  /** The update written after the backward pass (default 'sgd'). */
  optimizer?: GraphOptimizer;
  /** SGD: Nesterov momentum (default false). */
  nesterov?: boolean;
  /** Adam, AdamW: constants of the graph (defaults 0.9, 0.999, 1e-8 as torch.optim.Adam). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** How 3x3 filter gradients are written (default 'shifts'; see README.md). */
  filterGradient?: FilterGradient;
  /** How max-pool gradients find each window's maximum (default 'indices'; layers.ts, PoolBackward). */
  poolBackward?: PoolBackward;
}

/** Graph input and output names other than the state tensors. */
export const TRAIN_IO = {
  x: 'x',
  labels: 'labels',
  lr: 'lr',
  momentum: 'momentum',
  weightDecay: 'weight_decay',
  labelSmoothing: 'label_smoothing',
  /** Adam, AdamW: lr / (1 - beta1^t). */
  stepSize: 'step_size',
  /** Adam, AdamW: sqrt(1 - beta2^t). */
  biasCorrection2Sqrt: 'bias_correction2_sqrt',
  /** AdamW: 1 - lr weight_decay. */
  decayFactor: 'decay_factor',
  loss: 'loss',
  correct: 'correct',
} as const;

/** momentum: SGD's buffer; m, v: Adam's first and second moments (OptimizerState slot kinds). */
export type StateKind = 'param' | 'running' | 'momentum' | 'm' | 'v';
export type SlotKind = Extract<StateKind, 'momentum' | 'm' | 'v'>;

/** A tensor that goes in as an input and comes back, updated, as an output of every step. */
export interface StateTensor {
  kind: StateKind;
  /** The parameter it belongs to (PyTorch state_dict name). */
  param: string;
  input: string;
  output: string;
  shape: number[];
}

export interface TrainingGraph {
  model: ModelProto;
  spec: ModelSpec;
  frozenBlocks: number;
  inputLayout: InputLayout;
  optimizer: GraphOptimizer;
  /** The scalar hyper-parameter inputs this graph declares (TRAIN_IO names), fed every step. */
  hyperInputs: string[];
  /** Trainable parameters, running statistics of trainable blocks and optimiser slots. */
  state: StateTensor[];
}

export const MOMENTUM_PREFIX = 'momentum/';

/** The graph input of an optimiser slot: `<kind>/<param>`, the key OptimizerState.slots uses. */
export function slotInputName(kind: SlotKind, param: string): string {
  return `${kind}/${param}`;
}
const NEXT_PREFIX = 'next/';
const BATCH = 'batch';

/** True when `p` is a constant of the graph (a tensor of a frozen block). */
export function isFrozen(p: ParamInfo, frozenBlocks: number): boolean {
  return p.block > 0 && p.block <= frozenBlocks;
}

function checkOptions(spec: ModelSpec, options: TrainingGraphOptions): number {
  const frozen = options.frozenBlocks ?? 0;
  if (!Number.isInteger(frozen) || frozen < 0 || frozen > 5)
    throw new OnnxTrainError('invalid', `frozenBlocks must be a whole number from 0 to 5, got ${frozen}.`);
  const layout = options.inputLayout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc')
    throw new OnnxTrainError('invalid', `inputLayout must be one of: nchw, nhwc; got "${String(layout)}".`);
  const opt = options.optimizer ?? 'sgd';
  if (!GRAPH_OPTIMIZERS.includes(opt))
    throw new OnnxTrainError(
      'unsupported',
      `The ONNX training engine has no graph for the optimizer "${String(opt)}". Should be one of: ${GRAPH_OPTIMIZERS.join(', ')}.`,
    );
  for (const key of ['beta1', 'beta2'] as const) {
    const b = options[key];
    if (b !== undefined && !(b >= 0 && b < 1))
      throw new OnnxTrainError('invalid', `${key} must be in [0, 1), got ${b}.`);
  }
  if (options.epsilon !== undefined && !(options.epsilon >= 0 && Number.isFinite(options.epsilon)))
    throw new OnnxTrainError(
      'invalid',
      `epsilon must be a finite number of at least 0, got ${options.epsilon}.`,
    );
  const fg = options.filterGradient ?? 'shifts';
  if (!FILTER_GRADIENTS.includes(fg))
    throw new OnnxTrainError(
      'invalid',
      `filterGradient must be one of: ${FILTER_GRADIENTS.join(', ')}; got "${String(fg)}".`,
    );
  const pb = options.poolBackward ?? 'indices';
  if (!POOL_BACKWARDS.includes(pb))
    throw new OnnxTrainError(
      'invalid',
      `poolBackward must be one of: ${POOL_BACKWARDS.join(', ')}; got "${String(pb)}".`,
    );
  if (frozen > 0) {
    const missing = parameterLayout(spec)
      .filter((p) => isFrozen(p, frozen))
      .filter((p) => {
        const a = options.frozenWeights?.get(p.name);
        return !a || a.shape.join('x') !== p.shape.join('x');
      });
    if (missing.length > 0)
      throw new OnnxTrainError(
        'invalid',
        `frozenBlocks ${frozen} needs the frozen tensors' values in frozenWeights; missing or misshapen: ${missing
          .slice(0, 4)
          .map((p) => p.name)
          .join(', ')}${missing.length > 4 ? ', ...' : ''}.`,
      );
  }
  return frozen;
}

/** Writes the training-step graph. Throws OnnxTrainError on a bad option, SpecError on a bad spec. */
export function buildTrainingGraph(spec: ModelSpec, options: TrainingGraphOptions = {}): TrainingGraph {
  validateSpec(spec);
  const frozenBlocks = checkOptions(spec, options);
  const inputLayout = options.inputLayout ?? 'nchw';
  const w = new GraphWriter();
  const tape = new Tape(w);
  const s = spec.inputSize;

  // Inputs other than the state.
  let x =
    inputLayout === 'nchw'
      ? w.input(TRAIN_IO.x, [BATCH, 3, s, s], 'normalised images, float32 NCHW')
      : w.input(TRAIN_IO.x, [BATCH, s, s, 3], 'normalised images, float32 NHWC');
  if (inputLayout === 'nhwc') x = w.op('Transpose', [x], 'x_nchw', { perm: attr.ints([0, 3, 1, 2]) });
  const labels = w.input(TRAIN_IO.labels, [BATCH], 'class index of each image (float32, a whole number)');
  const optimizer = options.optimizer ?? 'sgd';
  const hyperInputs: string[] = [];
  const hyperInput = (name: string, doc: string): string => {
    hyperInputs.push(name);
    return w.input(name, [], doc);
  };
  const sgd =
    optimizer === 'sgd'
      ? {
          lr: hyperInput(TRAIN_IO.lr, 'learning rate'),
          momentum: hyperInput(TRAIN_IO.momentum, 'SGD momentum'),
          weightDecay: hyperInput(TRAIN_IO.weightDecay, 'coupled L2 weight decay'),
        }
      : undefined;
  const adam =
    optimizer === 'sgd'
      ? undefined
      : {
          weightDecay:
            optimizer === 'adam' ? hyperInput(TRAIN_IO.weightDecay, 'coupled L2 weight decay') : '',
          decayFactor:
            optimizer === 'adamw' ? hyperInput(TRAIN_IO.decayFactor, 'decoupled decay factor 1 - lr wd') : '',
          stepSize: hyperInput(TRAIN_IO.stepSize, 'lr / (1 - beta1^t)'),
          biasCorrection2Sqrt: hyperInput(TRAIN_IO.biasCorrection2Sqrt, 'sqrt(1 - beta2^t)'),
        };
  const adamConstants = {
    beta1: options.beta1 ?? ADAM_DEFAULTS.beta1,
    beta2: options.beta2 ?? ADAM_DEFAULTS.beta2,
    epsilon: options.epsilon ?? ADAM_DEFAULTS.epsilon,
    decoupled: optimizer === 'adamw',
  };
  const labelSmoothing = hyperInput(
    TRAIN_IO.labelSmoothing,
    'label smoothing e (target = (1 - e) one-hot + e / K)',
  );
  const batch = w.op(
    'Cast',
    [w.op('Gather', [w.op('Shape', [x], 'x_shape'), w.int(0)], 'batch_size', { axis: attr.int(0) })],
    'batch_size_float',
    { to: attr.int(DataType.FLOAT) },
  );
  const ctx: LayerContext = {
    w,
    tape,
    batch,
    filterGradient: options.filterGradient ?? 'shifts',
    poolBackward: options.poolBackward ?? 'indices',
    counts: new Map(),
  };

  // Parameters: trainable ones are inputs (tracked), frozen ones constants.
  const layout = parameterLayout(spec);
  const state: StateTensor[] = [];
  const tensors = new Map<string, string>();
  for (const p of layout) {
    if (isFrozen(p, frozenBlocks)) {
      const a = options.frozenWeights?.get(p.name) as NamedArray;
      tensors.set(p.name, w.floats(p.name, p.shape, a.data));
      continue;
    }
    const name = w.input(p.name, p.shape, `${p.role} (PyTorch layout)`);
    if (p.trainable) tape.track(name);
    tensors.set(p.name, name);
    state.push({
      kind: p.trainable ? 'param' : 'running',
      param: p.name,
      input: name,
      output: NEXT_PREFIX + p.name,
      shape: [...p.shape],
    });
  }
  const get = (name: string): string => tensors.get(name) as string;

  // Backbone, as AttentionVgg.backbone.
  const locals: string[] = [];
  const nextRunning = new Map<string, string>();
  let h = x;
  let side = s;
  for (const c of convLayers(spec)) {
    const conv = `features.${c.featuresIndex}`;
    const bn = `features.${c.featuresIndex + 1}`;
    h = conv3x3(
      ctx,
      h,
      get(`${conv}.weight`),
      get(`${conv}.bias`),
      { inChannels: c.inChannels, outChannels: c.outChannels, side },
      `conv${c.index}`,
    );
    const bnTensors = {
      gamma: get(`${bn}.weight`),
      beta: get(`${bn}.bias`),
      runningMean: get(`${bn}.running_mean`),
      runningVar: get(`${bn}.running_var`),
    };
    if (c.block > frozenBlocks) {
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
    if (c.poolAfter) {
      const r = reluMaxPool2x2(
        ctx,
        h,
        { channels: c.outChannels, side },
        { relu: `relu${c.index}`, pool: `pool${c.block}` },
      );
      if (c.index === 7 || c.index === 10 || c.index === 13) locals.push(r.relu);
      h = r.pooled;
      side /= 2;
    } else {
      h = relu(ctx, h, `relu${c.index}`);
      if (c.index === 7 || c.index === 10 || c.index === 13) locals.push(h);
    }
  }
  const pool5 = reshape(ctx, h, [0, -1], 'pool5');

  const head: HeadTensors = {
    g: { weight: get('g.weight'), bias: get('g.bias') },
    head: { weight: get('head.weight'), bias: get('head.bias') },
    project: tensors.get('project.weight'),
    u: [0, 1, 2].map((k) => tensors.get(`u.${k}.weight`) ?? ''),
  };
  const logits = attendAndClassify(ctx, spec, locals, pool5, head, {
    c256: channels(spec, 256),
    c512: channels(spec, 512),
    sides: attentionMapSizes(spec),
  });
  const { loss, correct } = crossEntropyLoss(ctx, logits, labels, labelSmoothing, spec.numClasses);
  tape.backward();

  // Optimiser update and outputs.
  w.output(TRAIN_IO.loss, loss, [], 'mean cross-entropy of the batch, before the update');
  w.output(TRAIN_IO.correct, correct, [], 'images whose arg-max class equals the label (float32)');
  const buffers: StateTensor[] = [];
  for (const t of state) {
    if (t.kind === 'running') {
      w.output(t.output, nextRunning.get(t.param) as string, t.shape, `${t.param} after this batch`);
      continue;
    }
    const grad = tape.grad(t.input);
    if (grad === undefined) throw new Error(`No gradient reaches ${t.param}`);
    if (sgd) {
      const buffer = w.input(MOMENTUM_PREFIX + t.param, t.shape, `SGD momentum buffer of ${t.param}`);
      const next = sgdUpdate(w, sgd, t.input, grad, buffer, options.nesterov ?? false, t.param);
      w.output(t.output, next.param, t.shape, `${t.param} after the SGD step`);
      const bufferOut = NEXT_PREFIX + buffer;
      w.output(bufferOut, next.buffer, t.shape, `momentum buffer of ${t.param} after the step`);
      buffers.push({
        kind: 'momentum',
        param: t.param,
        input: buffer,
        output: bufferOut,
        shape: [...t.shape],
      });
      continue;
    }
    const m = w.input(slotInputName('m', t.param), t.shape, `Adam first moment of ${t.param}`);
    const v = w.input(slotInputName('v', t.param), t.shape, `Adam second moment of ${t.param}`);
    const next = adamUpdate(w, adam!, adamConstants, t.input, grad, m, v, t.param);
    w.output(t.output, next.param, t.shape, `${t.param} after the ${optimizer} step`);
    w.output(NEXT_PREFIX + m, next.m, t.shape, `first moment of ${t.param} after the step`);
    w.output(NEXT_PREFIX + v, next.v, t.shape, `second moment of ${t.param} after the step`);
    buffers.push({ kind: 'm', param: t.param, input: m, output: NEXT_PREFIX + m, shape: [...t.shape] });
    buffers.push({ kind: 'v', param: t.param, input: v, output: NEXT_PREFIX + v, shape: [...t.shape] });
  }
  const doc =
    `One ${optimizer} training step of attention-VGG16_bn written by attnvgg: forward in training mode, cross-entropy, ` +
    `backward, BatchNorm running averages and the update. Frozen conv blocks: ${frozenBlocks}.`;
  const model: ModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: PRODUCER_NAME,
    producerVersion: '',
    modelVersion: 1,
    docString: doc,
    graph: w.build('attnvgg_training_step', doc),
    metadataProps: [
      { key: 'attnvgg.spec', value: specToJson(spec) },
      { key: 'attnvgg.graph', value: 'training-step' },
      { key: 'attnvgg.frozen_blocks', value: String(frozenBlocks) },
      { key: 'attnvgg.optimizer', value: optimizer },
    ],
  };
  return { model, spec, frozenBlocks, inputLayout, optimizer, hyperInputs, state: [...state, ...buffers] };
}
