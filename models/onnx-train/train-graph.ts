// Writes ONE full training step of attention-VGG16_bn as an ONNX graph (opset 17, IR 8), straight from the
// model spec: forward in training mode (forward.ts, as models/tfjs/model.ts: BatchNorm on batch
// statistics), mean cross-entropy with label smoothing, the backward pass (layers.ts, attention.ts),
// BatchNorm running averages and the SGD, Adam or AdamW update. Parameters, running statistics and
// optimiser slots come in as inputs and leave, updated, as outputs; frozen blocks (fixed when the graph is
// written) are constants inside it. The same step can start from cached features of frozen blocks 1..4 or
// 1..5 (source 'features'), and the forward can be written in inference mode with only the loss (mode
// 'evaluate').
// Pure: imports models/core and the ONNX writer; nothing from main/, no runtime.

import { featureShapes, type CachedFrozenBlocks, type FeaturePrecision } from '../core/cached-features.js';
import {
  globalFeatureIsInert,
  parameterLayout,
  validateSpec,
  type ModelSpec,
  type ParamInfo,
} from '../core/spec.js';
import type { NamedArray, Weights } from '../core/weights.js';
import { TRAINING_META } from '../onnx/metadata.js';
import { DataType, type ModelProto } from '../onnx/proto.js';
import { OnnxTrainError } from './errors.js';
import { writeBackbone, writeHead } from './forward.js';
import { attr, generatedModel, GraphWriter, type Dim } from './graph-writer.js';
import { crossEntropyLoss } from './loss.js';
import {
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

/**
 * What the graph starts from: 'images' (default), or 'features', the cached outputs of frozen blocks
 * 1..4 or 1..5 (main/services/transfer/feature-cache.ts: NHWC l1, l2, and l3 and pool5 with 5 frozen
 * blocks). A features graph holds nothing of the frozen blocks and begins at block 5 (4 frozen) or at
 * the heads (5 frozen).
 */
export type GraphSource = 'images' | 'features';

/** 'train': one training step (default); 'evaluate': loss and hits in inference mode, nothing updated. */
export type GraphMode = 'train' | 'evaluate';

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
  /** How 3x3 filter gradients are written (default 'mixed'; see README.md). */
  filterGradient?: FilterGradient;
  /** How max-pool gradients find each window's maximum (default 'indices'; layers.ts, PoolBackward). */
  poolBackward?: PoolBackward;
  /** Images (default) or cached features (frozenBlocks 4 or 5 only); see GraphSource. */
  source?: GraphSource;
  /**
   * A features graph's input type: 'float32' (default), or 'float16', the half-precision cache's bits
   * as they are stored, widened by a Cast in the graph (exact: every binary16 value is a float32 one).
   */
  featureType?: FeaturePrecision;
  /**
   * 'evaluate' writes the forward in inference mode (every BatchNorm on the running statistics given as
   * inputs), the loss and the hit count, and no backward or update: the validation of a features run.
   */
  mode?: GraphMode;
}

/** The graph inputs of cached features, by level (l1, l2, l3), and of pool5. */
export const FEATURE_INPUTS = ['feature_l1', 'feature_l2', 'feature_l3'] as const;
export const FEATURE_POOL5_INPUT = 'feature_pool5';

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
  source: GraphSource;
  mode: GraphMode;
  /** A features graph's inputs besides the labels (FEATURE_INPUTS, FEATURE_POOL5_INPUT): NHWC, [N, D]. */
  featureInputs: { name: string; shape: number[] }[];
  /** The element type of featureInputs (TrainingGraphOptions.featureType). */
  featureType: FeaturePrecision;
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

/**
 * The parameters a graph holds as fixed values, not state: the frozen blocks' tensors (a features graph
 * does not hold them at all) and, in a features graph, an inert g (globalFeatureIsInert).
 */
export function constantParameters(
  spec: ModelSpec,
  frozenBlocks: number,
  source: GraphSource = 'images',
): Set<string> {
  const inertG = source === 'features' && globalFeatureIsInert(spec);
  return new Set(
    parameterLayout(spec)
      .filter((p) => isFrozen(p, frozenBlocks) || (inertG && p.name.startsWith('g.')))
      .map((p) => p.name),
  );
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
  const fg = options.filterGradient ?? 'mixed';
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
  const source = options.source ?? 'images';
  if (source !== 'images' && source !== 'features')
    throw new OnnxTrainError('invalid', `source must be one of: images, features; got "${String(source)}".`);
  if (source === 'features' && frozen !== 4 && frozen !== 5)
    throw new OnnxTrainError(
      'invalid',
      `A graph on cached features needs frozen blocks 1..4 or 1..5, got frozenBlocks ${frozen}.`,
    );
  const mode = options.mode ?? 'train';
  if (mode !== 'train' && mode !== 'evaluate')
    throw new OnnxTrainError('invalid', `mode must be one of: train, evaluate; got "${String(mode)}".`);
  checkFeatureType(options.featureType, source);
  // A features graph holds no frozen block, only (when inert) g as a constant.
  const fixed = [...constantParameters(spec, frozen, source)].filter(
    (name) => source === 'images' || name.startsWith('g.'),
  );
  if (fixed.length > 0) {
    const layout = new Map(parameterLayout(spec).map((p) => [p.name, p]));
    const missing = fixed
      .map((name) => layout.get(name) as ParamInfo)
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

function checkFeatureType(type: FeaturePrecision | undefined, source: GraphSource): void {
  if (type === undefined) return;
  if (type !== 'float32' && type !== 'float16')
    throw new OnnxTrainError(
      'invalid',
      `featureType must be one of: float32, float16; got "${String(type)}".`,
    );
  if (type === 'float16' && source !== 'features')
    throw new OnnxTrainError('invalid', 'featureType float16 applies to a graph on cached features only.');
}

type SgdInputs = { lr: string; momentum: string; weightDecay: string };
type AdamInputs = { weightDecay: string; decayFactor: string; stepSize: string; biasCorrection2Sqrt: string };

/** The scalar hyper-parameter inputs of the optimizer (none in evaluate mode) and label smoothing. */
function writeHyperInputs(
  w: GraphWriter,
  optimizer: GraphOptimizer,
  mode: GraphMode,
): { hyperInputs: string[]; sgd?: SgdInputs; adam?: AdamInputs; labelSmoothing: string } {
  const hyperInputs: string[] = [];
  const hyperInput = (name: string, doc: string): string => {
    hyperInputs.push(name);
    return w.input(name, [], doc);
  };
  const updates = mode === 'train';
  const sgd =
    updates && optimizer === 'sgd'
      ? {
          lr: hyperInput(TRAIN_IO.lr, 'learning rate'),
          momentum: hyperInput(TRAIN_IO.momentum, 'SGD momentum'),
          weightDecay: hyperInput(TRAIN_IO.weightDecay, 'coupled L2 weight decay'),
        }
      : undefined;
  const adam =
    !updates || optimizer === 'sgd'
      ? undefined
      : {
          weightDecay:
            optimizer === 'adam' ? hyperInput(TRAIN_IO.weightDecay, 'coupled L2 weight decay') : '',
          decayFactor:
            optimizer === 'adamw' ? hyperInput(TRAIN_IO.decayFactor, 'decoupled decay factor 1 - lr wd') : '',
          stepSize: hyperInput(TRAIN_IO.stepSize, 'lr / (1 - beta1^t)'),
          biasCorrection2Sqrt: hyperInput(TRAIN_IO.biasCorrection2Sqrt, 'sqrt(1 - beta2^t)'),
        };
  const labelSmoothing = hyperInput(
    TRAIN_IO.labelSmoothing,
    'label smoothing e (target = (1 - e) one-hot + e / K)',
  );
  return { hyperInputs, sgd, adam, labelSmoothing };
}

/**
 * The graph's data inputs: the images, or a features graph's cached l1, l2 (l3, pool5), NHWC, each
 * transposed to NCHW. Returns the first tensor whose batch size is read, and what the backbone has so far.
 */
function writeDataInputs(
  w: GraphWriter,
  spec: ModelSpec,
  source: GraphSource,
  frozenBlocks: number,
  inputLayout: InputLayout,
  featureType: FeaturePrecision,
): {
  first: string;
  images?: string;
  locals: string[];
  pool5?: string;
  featureInputs: TrainingGraph['featureInputs'];
} {
  const s = spec.inputSize;
  if (source === 'images') {
    let x =
      inputLayout === 'nchw'
        ? w.input(TRAIN_IO.x, [BATCH, 3, s, s], 'normalised images, float32 NCHW')
        : w.input(TRAIN_IO.x, [BATCH, s, s, 3], 'normalised images, float32 NHWC');
    if (inputLayout === 'nhwc') x = w.op('Transpose', [x], 'x_nchw', { perm: attr.ints([0, 3, 1, 2]) });
    return { first: x, images: x, locals: [], featureInputs: [] };
  }
  const shapes = featureShapes(spec, frozenBlocks as CachedFrozenBlocks);
  const featureInputs: TrainingGraph['featureInputs'] = [];
  const half = featureType === 'float16';
  // A half-precision input is widened before anything reads it.
  const featureInput = (name: string, dims: Dim[], doc: string): string => {
    if (!half) return w.input(name, dims, `${doc}, float32`);
    const bits = w.input(name, dims, `${doc}, float16`, DataType.FLOAT16);
    return w.op('Cast', [bits], `${name}_float`, { to: attr.int(DataType.FLOAT) });
  };
  const locals = shapes.locals.map((local, k) => {
    const shape = [...local];
    featureInputs.push({ name: FEATURE_INPUTS[k], shape });
    const input = featureInput(
      FEATURE_INPUTS[k],
      [BATCH, ...shape],
      `cached conv ${[7, 10, 13][k]} output after ReLU, NHWC`,
    );
    return w.op('Transpose', [input], `local_${k + 1}_nchw`, { perm: attr.ints([0, 3, 1, 2]) });
  });
  if (shapes.pool5 === undefined) return { first: locals[0], locals, featureInputs };
  const d = shapes.pool5;
  featureInputs.push({ name: FEATURE_POOL5_INPUT, shape: [d] });
  const pool5 = featureInput(FEATURE_POOL5_INPUT, [BATCH, d], 'cached pool5, flattened (C, H, W)');
  return { first: locals[0], locals, pool5, featureInputs };
}

/**
 * Parameters: constants (constantParameters: frozen blocks, an inert g of a features graph; a features
 * graph leaves the frozen blocks out) and inputs for the rest; trainable inputs are tracked on the tape
 * in train mode. Returns the tensor of each parameter held and the state tensors.
 */
function writeParameters(
  w: GraphWriter,
  tape: Tape,
  spec: ModelSpec,
  fixed: { frozenBlocks: number; source: GraphSource; weights?: Weights },
  train: boolean,
): { tensors: Map<string, string>; state: StateTensor[] } {
  const constants = constantParameters(spec, fixed.frozenBlocks, fixed.source);
  const state: StateTensor[] = [];
  const tensors = new Map<string, string>();
  for (const p of parameterLayout(spec)) {
    if (constants.has(p.name)) {
      if (fixed.source === 'features' && isFrozen(p, fixed.frozenBlocks)) continue;
      const a = fixed.weights?.get(p.name) as NamedArray;
      tensors.set(p.name, w.floats(p.name, p.shape, a.data));
      continue;
    }
    const name = w.input(p.name, p.shape, `${p.role} (PyTorch layout)`);
    if (p.trainable && train) tape.track(name);
    tensors.set(p.name, name);
    state.push({
      kind: p.trainable ? 'param' : 'running',
      param: p.name,
      input: name,
      output: NEXT_PREFIX + p.name,
      shape: [...p.shape],
    });
  }
  return { tensors, state };
}

/** Outputs the running averages and writes the optimizer's update of every trainable state tensor. */
function writeUpdates(
  w: GraphWriter,
  tape: Tape,
  state: readonly StateTensor[],
  nextRunning: ReadonlyMap<string, string>,
  o: {
    optimizer: GraphOptimizer;
    sgd?: SgdInputs;
    adam?: AdamInputs;
    adamConstants: Parameters<typeof adamUpdate>[2];
    nesterov: boolean;
  },
): StateTensor[] {
  const buffers: StateTensor[] = [];
  for (const t of state) {
    if (t.kind === 'running') {
      w.output(t.output, nextRunning.get(t.param) as string, t.shape, `${t.param} after this batch`);
      continue;
    }
    const grad = tape.grad(t.input);
    if (grad === undefined) throw new Error(`No gradient reaches ${t.param}`);
    if (o.sgd) {
      const buffer = w.input(MOMENTUM_PREFIX + t.param, t.shape, `SGD momentum buffer of ${t.param}`);
      const next = sgdUpdate(w, o.sgd, t.input, grad, buffer, o.nesterov, t.param);
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
    const next = adamUpdate(w, o.adam as AdamInputs, o.adamConstants, t.input, grad, m, v, t.param);
    w.output(t.output, next.param, t.shape, `${t.param} after the ${o.optimizer} step`);
    w.output(NEXT_PREFIX + m, next.m, t.shape, `first moment of ${t.param} after the step`);
    w.output(NEXT_PREFIX + v, next.v, t.shape, `second moment of ${t.param} after the step`);
    buffers.push({ kind: 'm', param: t.param, input: m, output: NEXT_PREFIX + m, shape: [...t.shape] });
    buffers.push({ kind: 'v', param: t.param, input: v, output: NEXT_PREFIX + v, shape: [...t.shape] });
  }
  return buffers;
}

/**
 * Writes the training-step graph (or, with mode 'evaluate', the loss of a batch in inference mode).
 * Throws OnnxTrainError on a bad option, SpecError on a bad spec.
 */
export function buildTrainingGraph(spec: ModelSpec, options: TrainingGraphOptions = {}): TrainingGraph {
  validateSpec(spec);
  const frozenBlocks = checkOptions(spec, options);
  const source = options.source ?? 'images';
  const mode = options.mode ?? 'train';
  const train = mode === 'train';
  const inputLayout = options.inputLayout ?? 'nchw';
  const w = new GraphWriter();
  const tape = new Tape(w);

  // Inputs other than the state.
  const featureType = options.featureType ?? 'float32';
  const data = writeDataInputs(w, spec, source, frozenBlocks, inputLayout, featureType);
  const labels = w.input(TRAIN_IO.labels, [BATCH], 'class index of each image (float32, a whole number)');
  const optimizer = options.optimizer ?? 'sgd';
  const { hyperInputs, sgd, adam, labelSmoothing } = writeHyperInputs(w, optimizer, mode);
  const adamConstants = {
    beta1: options.beta1 ?? ADAM_DEFAULTS.beta1,
    beta2: options.beta2 ?? ADAM_DEFAULTS.beta2,
    epsilon: options.epsilon ?? ADAM_DEFAULTS.epsilon,
    decoupled: optimizer === 'adamw',
  };
  const batch = w.op(
    'Cast',
    [
      w.op('Gather', [w.op('Shape', [data.first], 'x_shape'), w.int(0)], 'batch_size', {
        axis: attr.int(0),
      }),
    ],
    'batch_size_float',
    { to: attr.int(DataType.FLOAT) },
  );
  const ctx: LayerContext = {
    w,
    tape,
    batch,
    filterGradient: options.filterGradient ?? 'mixed',
    poolBackward: options.poolBackward ?? 'indices',
    counts: new Map(),
  };

  // Parameters: trainable ones are inputs (tracked), frozen ones constants.
  const { tensors, state } = writeParameters(
    w,
    tape,
    spec,
    { frozenBlocks, source, weights: options.frozenWeights },
    train,
  );
  const param = (name: string): string | undefined => tensors.get(name);

  // The forward pass (forward.ts, as AttentionVgg's call; from cached features: block 5 only or the head).
  let locals = data.locals;
  let pool5 = data.pool5;
  let nextRunning = new Map<string, string>();
  if (pool5 === undefined) {
    const fromImages = data.images !== undefined;
    const input = fromImages
      ? (data.images as string)
      : // block 4's max-pool over the cached l2 (conv 10 after ReLU), constant
        w.op('MaxPool', [locals[1]], 'maxpool4', {
          kernel_shape: attr.ints([2, 2]),
          strides: attr.ints([2, 2]),
        });
    const backbone = writeBackbone(ctx, spec, input, param, {
      mode,
      frozenBlocks,
      fromBlock: fromImages ? 1 : 5,
    });
    locals = [...locals, ...backbone.locals];
    nextRunning = backbone.nextRunning;
    pool5 = backbone.pool5 as string;
  }
  const { logits } = writeHead(ctx, spec, locals, pool5, param, {
    projectAfterPooling: source === 'features',
  });
  const { loss, correct } = crossEntropyLoss(ctx, logits, labels, labelSmoothing, spec.numClasses);
  w.output(TRAIN_IO.loss, loss, [], 'mean cross-entropy of the batch, before the update');
  w.output(TRAIN_IO.correct, correct, [], 'images whose arg-max class equals the label (float32)');
  const buffers: StateTensor[] = [];
  if (train) {
    tape.backward();
    buffers.push(
      ...writeUpdates(w, tape, state, nextRunning, {
        optimizer,
        sgd,
        adam,
        adamConstants,
        nesterov: options.nesterov ?? false,
      }),
    );
  }
  const from = source === 'features' ? ' on the cached outputs of the frozen blocks' : '';
  const doc = train
    ? `One ${optimizer} training step of attention-VGG16_bn${from} written by attnvgg: forward in training mode, cross-entropy, ` +
      `backward, BatchNorm running averages and the update. Frozen conv blocks: ${frozenBlocks}.`
    : `The loss and hits of a batch${from} in inference mode, written by attnvgg. Frozen conv blocks: ${frozenBlocks}.`;
  const model = generatedModel(
    w,
    spec,
    {
      name: train ? 'attnvgg_training_step' : 'attnvgg_evaluation',
      kind: train ? 'training-step' : 'evaluation',
      doc,
    },
    [
      { key: TRAINING_META.source, value: source },
      { key: TRAINING_META.frozenBlocks, value: String(frozenBlocks) },
      { key: TRAINING_META.optimizer, value: optimizer },
    ],
  );
  return {
    model,
    spec,
    frozenBlocks,
    source,
    mode,
    featureInputs: data.featureInputs,
    featureType,
    inputLayout,
    optimizer,
    hyperInputs,
    state: [...state, ...buffers],
  };
}
