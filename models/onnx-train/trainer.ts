// The ONNX training engine's driver: writes the training-step graph for a spec (train-graph.ts), opens
// it in onnxruntime (train-session.ts) and runs one SGD, Adam or AdamW step per call, with the same
// meaning as models/train/step.ts's trainStep + models/train/optimizer.ts's Optimizer on TensorFlow.js:
// the same hyper-parameters, the same skipped update when the loss is not finite, optimizer state that a
// checkpoint of either engine can carry. Weights, running statistics and optimiser slots stay in
// runtime tensors between steps; each step writes the updated ones into a second set, then the sets
// swap. Imports models/ only (no TensorFlow.js, nothing from main/ or electron).

import type { FeatureBatch, FeaturePrecision } from '../core/cached-features.js';
import { validateSpec, type ModelSpec } from '../core/spec.js';
import { checkWeights, type Weights } from '../core/weights.js';
import type { OptimizerConfig, OptimizerState, StepHyper } from '../train/optimizer.js';
import type { Device } from '../onnx/device.js';
import { DataType, encodeModel } from '../onnx/proto.js';
import { OnnxTrainError } from './errors.js';
import type { FilterGradient, PoolBackward } from './layers.js';
import {
  buildTrainingGraph,
  constantParameters,
  TRAIN_IO,
  type GraphSource,
  type InputLayout,
  type TrainingGraph,
  type TrainingGraphOptions,
} from './train-graph.js';
import {
  checkedHyper,
  checkedLabels,
  checkOptimizer,
  DEFAULT_OPTIMIZER,
  featureTensors,
  hyperValuesFor,
  scalar,
} from './trainer-inputs.js';
import { TrainerState } from './trainer-state.js';
import { float32Tensor, openTrainSession, type RuntimeTensor, type TrainSession } from './train-session.js';

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
  /**
   * A features trainer's input type (train-graph.ts, featureType): 'float32' (default), or 'float16' to
   * take a half-precision cache's batches as they are stored (widened in the graph). A float32 trainer
   * widens half-precision batches in JavaScript; a float16 one refuses float32 batches.
   */
  featureType?: FeaturePrecision;
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
  /** How 3x3 filter gradients are written (default 'mixed'). */
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

/** The graph options a trainer's settings give (train-graph.ts). */
function graphOptionsOf(
  weights: Weights,
  config: OptimizerConfig,
  options: OnnxTrainerOptions,
  device: Device,
): TrainingGraphOptions {
  return {
    frozenBlocks: options.frozenBlocks ?? 0,
    frozenWeights: weights,
    source: options.source ?? 'images',
    ...(options.featureType ? { featureType: options.featureType } : {}),
    inputLayout: options.inputLayout,
    optimizer: config.name,
    nesterov: config.nesterov ?? false,
    beta1: config.beta1,
    beta2: config.beta2,
    epsilon: config.epsilon,
    filterGradient: options.filterGradient,
    poolBackward: options.poolBackward ?? (device === 'cpu' ? 'indices' : 'argmax'),
  };
}

/** The settings checked: the optimiser, label smoothing, the weights against the spec. */
function checkSettings(spec: ModelSpec, weights: Weights, options: OnnxTrainerOptions): OptimizerConfig {
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
  return config;
}

/** A trainer's graph, sessions and state: what its steps and evaluations work on. */
interface TrainerRuntime {
  spec: ModelSpec;
  device: Device;
  config: OptimizerConfig;
  options: OnnxTrainerOptions;
  graph: TrainingGraph;
  graphOptions: TrainingGraphOptions;
  session: TrainSession;
  sessionOptions: Parameters<typeof openTrainSession>[1];
  state: TrainerState;
  hyperValues: ReturnType<typeof hyperValuesFor>;
  /** The step leaves its state on the device (keepStateOnDevice on a GPU). */
  onDevice: boolean;
  /** The evaluate-mode graph of a features trainer, opened on first use. */
  evaluation: { graph: TrainingGraph; session: TrainSession } | null;
}

/** Writes the graph and opens its session and state (createOnnxTrainer's setup). */
async function openRuntime(
  spec: ModelSpec,
  weights: Weights,
  options: OnnxTrainerOptions,
): Promise<TrainerRuntime> {
  const config = checkSettings(spec, weights, options);
  const device = options.device ?? 'cpu';
  const graphOptions = graphOptionsOf(weights, config, options, device);
  const graph = buildTrainingGraph(spec, graphOptions);
  for (const name of options.debugOutputs ?? [])
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
  const state = new TrainerState(
    spec,
    graph,
    weights,
    constantParameters(spec, graph.frozenBlocks, graph.source),
    {
      device,
      // Device-resident outputs are fresh runtime tensors each step: no spare set to write into.
      reuse: !onDevice && (options.reuseStateTensors ?? true),
      frozenBlocks: graph.frozenBlocks,
    },
  );
  const hyperValues = hyperValuesFor(config, options.labelSmoothing ?? 0);
  return {
    spec,
    device,
    config,
    options,
    graph,
    graphOptions,
    session,
    sessionOptions,
    state,
    hyperValues,
    onDevice,
    evaluation: null,
  };
}

/** One step from the graph's data inputs (images or features): run, then take the updated state. */
async function runStep(
  rt: TrainerRuntime,
  data: Record<string, RuntimeTensor>,
  labelData: Float32Array,
  hyper: StepHyper,
): Promise<OnnxStepResult> {
  const { state, graph } = rt;
  const debugOutputs = rt.options.debugOutputs ?? [];
  const { lr, momentum } = checkedHyper(rt.config, hyper);
  if (rt.options.failAtStep === state.steps + 1)
    throw new OnnxTrainError(
      'runtime',
      `onnxruntime failed to run the training step on ${rt.device}: injected fault at step ${state.steps + 1} (test hook)`,
    );
  const inputs: Record<string, RuntimeTensor> = {
    ...data,
    [TRAIN_IO.labels]: float32Tensor(labelData, [labelData.length]),
  };
  for (const [name, value] of Object.entries(rt.hyperValues(lr, momentum, state.steps + 1)))
    if (graph.hyperInputs.includes(name)) inputs[name] = scalar(value);
  for (const [name, tensor] of state.inputs()) inputs[name] = tensor;
  const outputs: Record<string, RuntimeTensor | null> = {
    [TRAIN_IO.loss]: null,
    [TRAIN_IO.correct]: null,
    ...state.outputs(),
  };
  for (const name of debugOutputs) outputs[name] = null;
  const results = await rt.session.run(inputs, outputs);
  const debug =
    debugOutputs.length > 0
      ? Object.fromEntries(debugOutputs.map((k) => [k, results[k].data as Float32Array]))
      : undefined;
  const loss = (results[TRAIN_IO.loss].data as Float32Array)[0];
  const correct = Math.round((results[TRAIN_IO.correct].data as Float32Array)[0]);
  // A diverged step must not poison the weights or the running statistics (as trainStep).
  if (!Number.isFinite(loss)) state.discard(results);
  else state.advance(results, momentum, rt.onDevice);
  return { loss, correct, debug };
}

/** The loss (no label smoothing) and hits of the current weights on cached features, in inference mode. */
async function evaluateOnFeatures(
  rt: TrainerRuntime,
  data: Record<string, RuntimeTensor>,
  labelData: Float32Array,
): Promise<{ loss: number; correct: number }> {
  await rt.state.syncFromDevice();
  rt.evaluation ??= await (async () => {
    const g = buildTrainingGraph(rt.spec, { ...rt.graphOptions, mode: 'evaluate' });
    return { graph: g, session: await openTrainSession(encodeModel(g.model), rt.sessionOptions) };
  })();
  const inputs: Record<string, RuntimeTensor> = {
    ...data,
    [TRAIN_IO.labels]: float32Tensor(labelData, [labelData.length]),
    [TRAIN_IO.labelSmoothing]: scalar(0),
  };
  const current = rt.state.inputs();
  for (const t of rt.evaluation.graph.state) inputs[t.input] = current.get(t.input) as RuntimeTensor;
  const results = await rt.evaluation.session.run(inputs, {
    [TRAIN_IO.loss]: null,
    [TRAIN_IO.correct]: null,
  });
  return {
    loss: (results[TRAIN_IO.loss].data as Float32Array)[0],
    correct: Math.round((results[TRAIN_IO.correct].data as Float32Array)[0]),
  };
}

export async function createOnnxTrainer(
  spec: ModelSpec,
  weights: Weights,
  options: OnnxTrainerOptions = {},
): Promise<OnnxTrainer> {
  const rt = await openRuntime(spec, weights, options);
  const { graph, state, session, device } = rt;
  let disposed = false;
  const s = spec.inputSize;
  const imageSize = 3 * s * s;
  const alive = (): void => {
    if (disposed) throw new OnnxTrainError('disposed', 'The ONNX trainer was used after dispose().');
  };

  const trainer: OnnxTrainer = {
    spec,
    device,
    frozenBlocks: graph.frozenBlocks,
    inputLayout: graph.inputLayout,
    get steps() {
      return state.steps;
    },

    async step(x, labels, hyper) {
      alive();
      if (graph.source !== 'images')
        throw new OnnxTrainError('invalid', 'This trainer steps on cached features: call stepFeatures().');
      const labelData = checkedLabels(labels, spec.numClasses);
      const n = labelData.length;
      if (x.length !== n * imageSize)
        throw new OnnxTrainError(
          'invalid',
          `Expected ${n} images of ${graph.inputLayout === 'nchw' ? `3x${s}x${s}` : `${s}x${s}x3`} (${n * imageSize} values) for ${n} labels, got ${x.length} values.`,
        );
      const dims = graph.inputLayout === 'nchw' ? [n, 3, s, s] : [n, s, s, 3];
      return runStep(rt, { [TRAIN_IO.x]: float32Tensor(x, dims) }, labelData, hyper);
    },

    async stepFeatures(features, labels, hyper) {
      alive();
      const labelData = checkedLabels(labels, spec.numClasses);
      return runStep(rt, featureTensors(graph, features, labelData.length), labelData, hyper);
    },

    async evaluateFeatures(features, labels) {
      alive();
      const labelData = checkedLabels(labels, spec.numClasses);
      return evaluateOnFeatures(rt, featureTensors(graph, features, labelData.length), labelData);
    },

    async syncFromDevice() {
      alive();
      await state.syncFromDevice();
    },
    getWeights() {
      alive();
      return state.getWeights();
    },
    setWeights(next) {
      alive();
      state.setWeights(next, graph.source);
    },
    getOptimizerState() {
      alive();
      return state.getOptimizerState();
    },
    setOptimizerState(next) {
      alive();
      state.setOptimizerState(next);
    },
    async endProfiling() {
      alive();
      return session.endProfiling();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
      await rt.evaluation?.session.release();
      await state.dispose();
    },
  };
  return trainer;
}
