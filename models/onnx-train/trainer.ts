// The ONNX training engine's driver: writes the training-step graph for a spec (train-graph.ts), opens
// it in onnxruntime (train-session.ts) and runs one SGD, Adam or AdamW step per call, with the same
// meaning as models/train/step.ts's trainStep + models/train/optimizer.ts's Optimizer on TensorFlow.js:
// the same hyper-parameters, the same skipped update when the loss is not finite, optimizer state that a
// checkpoint of either engine can carry. Weights, running statistics and optimiser slots stay in
// runtime tensors between steps; each step writes the updated ones into a second set, then the sets
// swap. Imports models/ only (no TensorFlow.js, nothing from main/ or electron).

import type { FeatureBatch } from '../core/cached-features.js';
import { parameterLayout, validateSpec, type ModelSpec } from '../core/spec.js';
import { checkWeights, cloneWeights, type NamedArray, type Weights } from '../core/weights.js';
import type { OptimizerConfig, OptimizerState, StepHyper } from '../train/optimizer.js';
import type { Device } from '../onnx/device.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { OnnxTrainError } from './errors.js';
import type { FilterGradient, PoolBackward } from './layers.js';
import { fromTfLayout, toTfLayout } from '../core/layout.js';
import { slotKey } from './slots.js';
import { ADAM_DEFAULTS } from './adam.js';
import {
  buildTrainingGraph,
  constantParameters,
  GRAPH_OPTIMIZERS,
  TRAIN_IO,
  type GraphSource,
  type InputLayout,
  type SlotKind,
  type StateTensor,
  type TrainingGraph,
  type TrainingGraphOptions,
} from './train-graph.js';
import {
  float32Tensor,
  openDeviceReadback,
  openTrainSession,
  type DeviceReadback,
  type RuntimeTensor,
} from './train-session.js';

export interface OnnxTrainerOptions {
  /** The onnxruntime execution provider (models/onnx/device.ts; default 'cpu'). */
  device?: Device;
  /** onnxruntime's log severity (0 verbose: node placements; default 3). */
  logSeverity?: 0 | 1 | 2 | 3 | 4;
  /** Conv blocks 1..k stay fixed (0..5, default 0), as trainStep's frozenBlocks. Fixed for the trainer's life. */
  frozenBlocks?: number;
  /** Layout of the images passed to step(): 'nchw' (default) or 'nhwc' (what the batch stream yields). */
  inputLayout?: InputLayout;
  /**
   * 'features': the trainer steps on cached outputs of frozen blocks 1..4 or 1..5 (stepFeatures,
   * evaluateFeatures) instead of images; train-graph.ts, GraphSource. Default 'images'.
   */
  source?: GraphSource;
  /** 'sgd', 'adam' or 'adamw'. Defaults as models/train/optimizer.ts: SGD, momentum 0.9, no weight decay. */
  optimizer?: OptimizerConfig;
  /** Label smoothing e of every step (default 0), as trainStep's labelSmoothing. */
  labelSmoothing?: number;
  /** onnxruntime intra-op threads (default: the number of cores). */
  intraOpThreads?: number;
  /** onnxruntime inter-op threads: > 1 runs independent operators side by side (default 1). */
  interOpThreads?: number;
  /** Let onnxruntime's idle threads spin-wait between operators (default false; see train-session.ts). */
  spinning?: boolean;
  /** onnxruntime's CPU memory arena (default true). */
  memoryArena?: boolean;
  /** onnxruntime's memory pattern (default false; see train-session.ts). */
  memoryPattern?: boolean;
  /** How 3x3 filter gradients are written (default 'shifts'). */
  filterGradient?: FilterGradient;
  /**
   * How max-pool gradients find each window's maximum (default: 'indices' on the CPU provider, 'argmax'
   * on any other, which lacks MaxPool Indices or MaxUnpool; layers.ts, PoolBackward).
   */
  poolBackward?: PoolBackward;
  /**
   * Internal tensors of the graph (e.g. 'relu2', a ReLU before a pool) to return with each step, for tests
   * that check pooling windows for near-ties. Diagnostic: each costs a copy off the device per step.
   */
  debugOutputs?: readonly string[];
  /**
   * Fault injection for tests: the step numbered `failAtStep` (1-based, counted from this trainer's
   * steps) throws OnnxTrainError('runtime') before running, as a lost device or an out-of-memory would,
   * and leaves the state as before it.
   */
  failAtStep?: number;
  /** Writes onnxruntime's per-node profile with this prefix (see endProfiling). */
  profileFilePrefix?: string;
  /**
   * Write each step's updated state into a second set of tensors allocated once (default true); false
   * lets the runtime allocate fresh output arrays every step (kept for measuring the difference).
   */
  reuseStateTensors?: boolean;
  /**
   * On a GPU device: leave each step's updated state on the device (gpu-buffer outputs fed back as the
   * next step's inputs) instead of copying it to host memory and up again. The getters and setters then
   * need `await syncFromDevice()` first, which copies the state back (README.md, "Keeping the state on
   * the device"). Default false; ignored on the CPU.
   */
  keepStateOnDevice?: boolean;
}

export interface OnnxStepResult {
  /** Mean cross-entropy of the batch before the update. Not finite: nothing was updated. */
  loss: number;
  /** Images in the batch whose arg-max class equals the label. */
  correct: number;
  /** The tensors named in `debugOutputs`, when any. */
  debug?: Record<string, Float32Array>;
}

/** A batch of cached features (models/core/cached-features.ts): NHWC l1, l2 (l3), and pool5 with 5 frozen blocks. */
export type FeatureInputs = Pick<FeatureBatch, 'locals' | 'pool5'>;

export interface OnnxTrainer {
  readonly spec: ModelSpec;
  readonly device: Device;
  readonly frozenBlocks: number;
  readonly inputLayout: InputLayout;
  /** Optimiser steps taken (OptimizerState.step). */
  readonly steps: number;
  /**
   * One training step on a batch: `x` holds labels.length normalised images in `inputLayout`, `labels`
   * their class indices. Same result as trainStep on TensorFlow.js with the same hyper-parameters.
   */
  step(x: Float32Array, labels: ArrayLike<number>, hyper: StepHyper): Promise<OnnxStepResult>;
  /** One training step of a features trainer on a batch of cached features (labels.length images). */
  stepFeatures(features: FeatureInputs, labels: ArrayLike<number>, hyper: StepHyper): Promise<OnnxStepResult>;
  /**
   * The mean loss (no label smoothing) and hits of the current weights on a batch of cached features, in
   * inference mode (running statistics): a features trainer's validation. Updates nothing.
   */
  evaluateFeatures(
    features: FeatureInputs,
    labels: ArrayLike<number>,
  ): Promise<{ loss: number; correct: number }>;
  /** All weights and running statistics in PyTorch layout (copies), as AttentionVgg.toWeights(). */
  getWeights(): Weights;
  /**
   * Overwrites the weights and running statistics (PyTorch layout, e.g. from a checkpoint). The frozen
   * blocks are constants of the graph: their tensors must equal the ones the trainer was made with.
   */
  setWeights(weights: Weights): void;
  /** The optimiser state in models/train/optimizer.ts's form (slots in TensorFlow.js layout). */
  getOptimizerState(): OptimizerState;
  /** Restores a state from getOptimizerState() or from the TensorFlow.js Optimizer.getState(). */
  setOptimizerState(state: OptimizerState): void;
  /**
   * Copies a device-resident state (keepStateOnDevice) back into host memory, where the getters and
   * setters work on it; the next step uploads it again. A no-op when the state is in host memory.
   */
  syncFromDevice(): Promise<void>;
  /** Ends onnxruntime profiling (when profileFilePrefix was given) and returns the prefix. */
  endProfiling(): Promise<string>;
  dispose(): Promise<void>;
}

const DEFAULT_OPTIMIZER: OptimizerConfig = { name: 'sgd', momentum: 0.9 };

function checkOptimizer(config: OptimizerConfig): void {
  if (!GRAPH_OPTIMIZERS.includes(config.name))
    throw new OnnxTrainError(
      'unsupported',
      `The ONNX training engine has no graph for the optimizer "${String(config.name)}"; use the TensorFlow.js engine for it. Should be one of: ${GRAPH_OPTIMIZERS.join(', ')}.`,
    );
  const wd = config.weightDecay ?? 0;
  if (!Number.isFinite(wd) || wd < 0)
    throw new OnnxTrainError('invalid', `weightDecay must be a finite number of at least 0, got ${wd}.`);
}

function checkedHyper(config: OptimizerConfig, hyper: StepHyper): { lr: number; momentum: number } {
  // Adam ignores momentum (as the TensorFlow.js optimiser): the schedule's cycled value is not checked.
  const momentum = config.name === 'sgd' ? (hyper.momentum ?? config.momentum ?? 0.9) : 0;
  if (!Number.isFinite(hyper.lr))
    throw new OnnxTrainError('invalid', `lr must be a finite number, got ${hyper.lr}.`);
  if (!Number.isFinite(momentum) || momentum < 0)
    throw new OnnxTrainError('invalid', `momentum must be a finite number of at least 0, got ${momentum}.`);
  return { lr: hyper.lr, momentum };
}

function isSlot(t: StateTensor): boolean {
  return t.kind === 'momentum' || t.kind === 'm' || t.kind === 'v';
}

/**
 * Every scalar hyper-parameter input a training graph may declare, for the step numbered `t` (1-based).
 * Adam's bias corrections and AdamW's decay factor are computed here in float64, as the TensorFlow.js
 * optimiser computes them, and rounded to float32 once when fed.
 */
function hyperValuesFor(
  config: OptimizerConfig,
  labelSmoothing: number,
): (lr: number, momentum: number, t: number) => Record<string, number> {
  const wd = config.weightDecay ?? 0;
  const b1 = config.beta1 ?? ADAM_DEFAULTS.beta1;
  const b2 = config.beta2 ?? ADAM_DEFAULTS.beta2;
  return (lr, momentum, t) => ({
    [TRAIN_IO.lr]: lr,
    [TRAIN_IO.momentum]: momentum,
    [TRAIN_IO.weightDecay]: wd,
    [TRAIN_IO.labelSmoothing]: labelSmoothing,
    [TRAIN_IO.stepSize]: lr / (1 - b1 ** t),
    [TRAIN_IO.biasCorrection2Sqrt]: Math.sqrt(1 - b2 ** t),
    [TRAIN_IO.decayFactor]: 1 - lr * wd,
  });
}

function scalar(value: number): RuntimeTensor {
  return float32Tensor(new Float32Array([value]), []);
}

export async function createOnnxTrainer(
  spec: ModelSpec,
  weights: Weights,
  options: OnnxTrainerOptions = {},
): Promise<OnnxTrainer> {
  validateSpec(spec);
  try {
    checkWeights(spec, weights);
  } catch (e) {
    throw new OnnxTrainError('invalid', e instanceof Error ? e.message : String(e), { cause: e });
  }
  const config = options.optimizer ?? DEFAULT_OPTIMIZER;
  checkOptimizer(config);
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1))
    throw new OnnxTrainError('invalid', `labelSmoothing must be in [0, 1), got ${labelSmoothing}.`);
  const frozenBlocks = options.frozenBlocks ?? 0;
  const device = options.device ?? 'cpu';
  const source = options.source ?? 'images';
  const graphOptions: TrainingGraphOptions = {
    frozenBlocks,
    frozenWeights: weights,
    source,
    inputLayout: options.inputLayout,
    optimizer: config.name,
    nesterov: config.nesterov ?? false,
    beta1: config.beta1,
    beta2: config.beta2,
    epsilon: config.epsilon,
    filterGradient: options.filterGradient,
    poolBackward: options.poolBackward ?? (device === 'cpu' ? 'indices' : 'argmax'),
  };
  const graph = buildTrainingGraph(spec, graphOptions);
  const debugOutputs = options.debugOutputs ?? [];
  for (const name of debugOutputs)
    graph.model.graph?.output?.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  const onDevice = (options.keepStateOnDevice ?? false) && device !== 'cpu';
  const sessionOptions = {
    device,
    logSeverity: options.logSeverity,
    intraOpThreads: options.intraOpThreads,
    interOpThreads: options.interOpThreads,
    spinning: options.spinning,
    memoryArena: options.memoryArena,
    memoryPattern: options.memoryPattern,
  };
  const session = await openTrainSession(encodeModel(graph.model), {
    ...sessionOptions,
    deviceOutputs: onDevice ? graph.state.map((t) => t.output) : [],
    profileFilePrefix: options.profileFilePrefix,
  });
  /** The evaluate-mode graph of a features trainer, opened on first use. */
  let evaluation: { graph: TrainingGraph; session: Awaited<ReturnType<typeof openTrainSession>> } | null =
    null;
  // Device-resident outputs are fresh runtime tensors each step: no spare set to write into.
  const reuse = !onDevice && (options.reuseStateTensors ?? true);
  let readback: DeviceReadback | null = null;
  /** True while some state tensor lives on the device (after a step with keepStateOnDevice). */
  let stateOnDevice = false;
  const onHost = (what: string): void => {
    if (stateOnDevice)
      throw new OnnxTrainError(
        'invalid',
        `The training state is on the ${device} device: await syncFromDevice() before ${what}.`,
      );
  };
  const hyperValues = hyperValuesFor(config, labelSmoothing);
  const layout = parameterLayout(spec);
  // The tensors the graph holds fixed (frozen blocks; an inert g on features), served from this copy.
  const fixedNames = constantParameters(spec, frozenBlocks, source);
  const frozen = new Map([...cloneWeights(weights)].filter(([name]) => fixedNames.has(name)));
  const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
  const fresh = (t: StateTensor): RuntimeTensor => float32Tensor(new Float32Array(size(t.shape)), t.shape);
  const current = new Map<string, RuntimeTensor>();
  const spare = new Map<string, RuntimeTensor>();
  for (const t of graph.state) {
    const tensor = fresh(t);
    if (!isSlot(t)) (tensor.data as Float32Array).set((weights.get(t.param) as NamedArray).data);
    current.set(t.input, tensor);
    if (reuse) spare.set(t.output, fresh(t));
  }
  const slotTensors = graph.state.filter(isSlot);
  const keyOf = (t: StateTensor): string => slotKey(t.kind as SlotKind, t.param);
  const ownSlotKeys = new Set(slotTensors.map(keyOf));
  /**
   * Slot keys that exist in TensorFlow.js's sense: Adam's after any step, SGD's momentum buffers after a
   * step with momentum > 0 (with momentum 0 the TensorFlow.js optimiser neither creates nor updates them).
   */
  const withSlot = new Set<string>();
  /** Slots of parameters this trainer does not update (frozen, or another optimiser's), kept as given. */
  let carried = new Map<string, NamedArray>();
  let steps = 0;
  let disposed = false;
  const s = spec.inputSize;
  const imageSize = 3 * s * s;

  const alive = (): void => {
    if (disposed) throw new OnnxTrainError('disposed', 'The ONNX trainer was used after dispose().');
  };

  /** The labels as float32 class indices, checked. */
  const checkedLabels = (labels: ArrayLike<number>): Float32Array => {
    const n = labels.length;
    if (n < 1) throw new OnnxTrainError('invalid', 'A training batch needs at least 1 image, got 0 labels.');
    const labelData = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const k = labels[i];
      if (!Number.isInteger(k) || k < 0 || k >= spec.numClasses)
        throw new OnnxTrainError(
          'invalid',
          `Label ${i} is ${k}; expected a class index from 0 to ${spec.numClasses - 1}.`,
        );
      labelData[i] = k;
    }
    return labelData;
  };

  /** A batch of cached features as graph inputs, checked against the graph's feature inputs. */
  const featureTensors = (features: FeatureInputs, n: number): Record<string, RuntimeTensor> => {
    if (source !== 'features')
      throw new OnnxTrainError('invalid', 'This trainer steps on images: call step().');
    const given = [...features.locals, ...(features.pool5 ? [features.pool5] : [])];
    if (given.length !== graph.featureInputs.length)
      throw new OnnxTrainError(
        'invalid',
        `A batch of ${frozenBlocks} frozen blocks' features has ${graph.featureInputs.length} tensors (${graph.featureInputs.map((f) => f.name).join(', ')}), got ${given.length}.`,
      );
    const out: Record<string, RuntimeTensor> = {};
    graph.featureInputs.forEach((f, k) => {
      const a = given[k];
      const shape = [n, ...f.shape];
      if (a.shape.join('x') !== shape.join('x') || a.data.length !== size(shape))
        throw new OnnxTrainError(
          'invalid',
          `${f.name}: expected shape [${shape.join(', ')}], got [${a.shape.join(', ')}] (${a.data.length} values).`,
        );
      out[f.name] = float32Tensor(a.data, shape);
    });
    return out;
  };

  /** One step from the graph's data inputs (images or features): run, then swap in the updated state. */
  const runStep = async (
    data: Record<string, RuntimeTensor>,
    labelData: Float32Array,
    hyper: StepHyper,
  ): Promise<OnnxStepResult> => {
    const { lr, momentum } = checkedHyper(config, hyper);
    if (options.failAtStep === steps + 1)
      throw new OnnxTrainError(
        'runtime',
        `onnxruntime failed to run the training step on ${device}: injected fault at step ${steps + 1} (test hook)`,
      );
    const inputs: Record<string, RuntimeTensor> = {
      ...data,
      [TRAIN_IO.labels]: float32Tensor(labelData, [labelData.length]),
    };
    for (const [name, value] of Object.entries(hyperValues(lr, momentum, steps + 1)))
      if (graph.hyperInputs.includes(name)) inputs[name] = scalar(value);
    for (const [name, tensor] of current) inputs[name] = tensor;
    const outputs: Record<string, RuntimeTensor | null> = {
      [TRAIN_IO.loss]: null,
      [TRAIN_IO.correct]: null,
    };
    for (const t of graph.state) outputs[t.output] = reuse ? (spare.get(t.output) as RuntimeTensor) : null;
    for (const name of debugOutputs) outputs[name] = null;
    const results = await session.run(inputs, outputs);
    const debug =
      debugOutputs.length > 0
        ? Object.fromEntries(debugOutputs.map((k) => [k, results[k].data as Float32Array]))
        : undefined;
    const loss = (results[TRAIN_IO.loss].data as Float32Array)[0];
    const correct = Math.round((results[TRAIN_IO.correct].data as Float32Array)[0]);
    // A diverged step must not poison the weights or the running statistics (as trainStep).
    if (!Number.isFinite(loss)) {
      if (!reuse) for (const t of graph.state) results[t.output].dispose();
      return { loss, correct, debug };
    }
    for (const t of graph.state) {
      // With momentum 0, TensorFlow.js's optimiser neither creates nor updates a momentum slot.
      if (t.kind === 'momentum' && momentum === 0) {
        if (!reuse) results[t.output].dispose();
        continue;
      }
      if (isSlot(t)) withSlot.add(keyOf(t));
      const next = results[t.output];
      const previous = current.get(t.input) as RuntimeTensor;
      current.set(t.input, next);
      if (reuse) spare.set(t.output, previous);
      else previous.dispose();
    }
    steps += 1;
    if (onDevice) stateOnDevice = true;
    return { loss, correct, debug };
  };

  const trainer: OnnxTrainer = {
    spec,
    device,
    frozenBlocks,
    inputLayout: graph.inputLayout,
    get steps() {
      return steps;
    },

    async step(x, labels, hyper) {
      alive();
      if (source !== 'images')
        throw new OnnxTrainError('invalid', 'This trainer steps on cached features: call stepFeatures().');
      const labelData = checkedLabels(labels);
      const n = labelData.length;
      if (x.length !== n * imageSize)
        throw new OnnxTrainError(
          'invalid',
          `Expected ${n} images of ${graph.inputLayout === 'nchw' ? `3x${s}x${s}` : `${s}x${s}x3`} (${n * imageSize} values) for ${n} labels, got ${x.length} values.`,
        );
      const dims = graph.inputLayout === 'nchw' ? [n, 3, s, s] : [n, s, s, 3];
      return runStep({ [TRAIN_IO.x]: float32Tensor(x, dims) }, labelData, hyper);
    },

    async stepFeatures(features, labels, hyper) {
      alive();
      const labelData = checkedLabels(labels);
      return runStep(featureTensors(features, labelData.length), labelData, hyper);
    },

    async evaluateFeatures(features, labels) {
      alive();
      const labelData = checkedLabels(labels);
      const data = featureTensors(features, labelData.length);
      if (stateOnDevice) await trainer.syncFromDevice();
      evaluation ??= await (async () => {
        const g = buildTrainingGraph(spec, { ...graphOptions, mode: 'evaluate' });
        return { graph: g, session: await openTrainSession(encodeModel(g.model), sessionOptions) };
      })();
      const inputs: Record<string, RuntimeTensor> = {
        ...data,
        [TRAIN_IO.labels]: float32Tensor(labelData, [labelData.length]),
        [TRAIN_IO.labelSmoothing]: scalar(0),
      };
      for (const t of evaluation.graph.state) inputs[t.input] = current.get(t.input) as RuntimeTensor;
      const results = await evaluation.session.run(inputs, {
        [TRAIN_IO.loss]: null,
        [TRAIN_IO.correct]: null,
      });
      return {
        loss: (results[TRAIN_IO.loss].data as Float32Array)[0],
        correct: Math.round((results[TRAIN_IO.correct].data as Float32Array)[0]),
      };
    },
    async syncFromDevice() {
      alive();
      if (!stateOnDevice) return;
      readback ??= await openDeviceReadback(
        device,
        graph.state.map((t) => t.shape),
      );
      const tensors = graph.state.map((t) => current.get(t.input) as RuntimeTensor);
      const values = await readback.read(tensors);
      graph.state.forEach((t, i) => {
        current.set(t.input, float32Tensor(values[i].slice(), t.shape));
        tensors[i].dispose();
      });
      stateOnDevice = false;
    },

    getWeights() {
      alive();
      onHost('getWeights()');
      const out: Weights = new Map();
      for (const p of layout) {
        const fixed = frozen.get(p.name);
        if (fixed) {
          out.set(p.name, { shape: [...fixed.shape], data: fixed.data.slice() });
          continue;
        }
        const t = current.get(p.name) as RuntimeTensor;
        out.set(p.name, { shape: [...p.shape], data: (t.data as Float32Array).slice() });
      }
      return out;
    },

    setWeights(next) {
      alive();
      onHost('setWeights()');
      try {
        checkWeights(spec, next);
      } catch (e) {
        throw new OnnxTrainError('invalid', e instanceof Error ? e.message : String(e), { cause: e });
      }
      for (const [name, fixed] of frozen) {
        const given = (next.get(name) as NamedArray).data;
        if (given.some((v, i) => !Object.is(v, fixed.data[i])))
          throw new OnnxTrainError(
            'invalid',
            `${name} ${name.startsWith('g.') && source === 'features' ? 'is inert (pc/softmax) and kept fixed on cached features' : `belongs to a frozen block (1-${frozenBlocks})`}, a constant of this trainer's graph; create a new trainer to change it.`,
          );
      }
      for (const t of graph.state)
        if (!isSlot(t))
          ((current.get(t.input) as RuntimeTensor).data as Float32Array).set(
            (next.get(t.param) as NamedArray).data,
          );
    },

    getOptimizerState() {
      alive();
      onHost('getOptimizerState()');
      const slots = new Map<string, NamedArray>();
      for (const [key, a] of carried) slots.set(key, { shape: [...a.shape], data: a.data.slice() });
      for (const t of slotTensors) {
        if (!withSlot.has(keyOf(t))) continue;
        const data = (current.get(t.input) as RuntimeTensor).data as Float32Array;
        slots.set(keyOf(t), toTfLayout(t.param, { shape: [...t.shape], data }));
      }
      return { step: steps, slots };
    },

    setOptimizerState(state) {
      alive();
      onHost('setOptimizerState()');
      if (!Number.isInteger(state.step) || state.step < 0)
        throw new OnnxTrainError(
          'invalid',
          `Optimizer state step must be a whole number, got ${state.step}.`,
        );
      const restored = new Map<string, Float32Array>();
      for (const t of slotTensors) {
        const slot = state.slots.get(keyOf(t));
        if (!slot) continue;
        const a = fromTfLayout(t.param, slot);
        if (a.shape.join('x') !== t.shape.join('x') || a.data.length !== size(t.shape))
          throw new OnnxTrainError(
            'invalid',
            `Optimizer slot ${keyOf(t)}: expected shape [${toTfLayout(t.param, { shape: t.shape, data: new Float32Array(size(t.shape)) }).shape}] (TensorFlow.js layout), found [${slot.shape}].`,
          );
        restored.set(keyOf(t), a.data);
      }
      // Checked everything first: now replace the state.
      withSlot.clear();
      for (const t of slotTensors) {
        const data = current.get(t.input)?.data as Float32Array;
        const a = restored.get(keyOf(t));
        if (a) {
          data.set(a);
          withSlot.add(keyOf(t));
        } else data.fill(0); // no slot yet: zeros are what the TensorFlow.js optimiser starts a slot from
      }
      carried = new Map(
        [...state.slots]
          .filter(([key]) => !ownSlotKeys.has(key))
          .map(([key, a]) => [key, { shape: [...a.shape], data: a.data.slice() }]),
      );
      steps = state.step;
    },

    async endProfiling() {
      alive();
      return session.endProfiling();
    },

    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
      await evaluation?.session.release();
      await readback?.release();
      for (const t of [...current.values(), ...spare.values()]) t.dispose();
      current.clear();
      spare.clear();
    },
  };
  return trainer;
}
