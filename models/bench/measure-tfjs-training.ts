// Training and inference speed of the attention-VGG on one TensorFlow.js backend, measured the way the
// PyTorch peer's `speed` command does (random weights, random input and labels, SGD momentum 0.9,
// lr 0.01), for `attnvgg bench train` and bench/train-speed.ts. Node side only: imports models/ and
// node:fs, never electron, cli, server or renderer.

import * as tf from '@tensorflow/tfjs-core';
import { median, peakRssMb, resetPeakRss } from './process-stats.js';
import { createRandom, type Random } from '../core/random.js';
import { convLayers, DEFAULT_SPEC, validateSpec, type ModelSpec } from '../core/spec.js';
import { initWeights } from '../core/weights.js';
import {
  BACKEND_ENV_VAR,
  BACKEND_NAMES,
  BackendError,
  selectBackend,
  type BackendName,
} from '../tfjs/backend.js';
import { AttentionVgg } from '../tfjs/model.js';
import { Optimizer, type StepHyper } from '../train/optimizer.js';
import { crossEntropy, trainStep } from '../train/step.js';

export interface TrainSpeedOptions {
  /** Input side S (multiple of 32, at least 32). */
  size: number;
  /** Channel multiplier (1.0 = VGG16_bn). */
  width: number;
  batch: number;
  backend: BackendName;
  /** Timed training steps; the figure is their median (default 5, as the peer). */
  steps?: number;
  /** Untimed training steps first (default 2, as the peer). */
  warmup?: number;
  /** Timed inference forwards (default: `steps`), after one untimed forward. */
  inferSteps?: number;
  /** Seeds the weights, the input and the labels (default 0). */
  seed?: number;
  /** Output classes (default 10, as the peer). */
  classes?: number;
  /** Also time the training-mode forward alone and the optimiser update alone (default false). */
  phases?: boolean;
  /** Also run one step under tf.profile and report time per kernel (default false). */
  profile?: boolean;
  /** Called after every step, for progress on long runs. */
  onProgress?: (event: TrainSpeedProgress) => void;
}

export interface TrainSpeedProgress {
  stage: 'warmup' | 'train' | 'infer' | 'phases' | 'profile';
  /** 1-based. */
  step: number;
  of: number;
  ms: number;
}

/** Medians in ms; backward is what is left of the full step after the two measured parts. */
export interface StepPhases {
  forward_ms: number;
  backward_ms: number;
  update_ms: number;
}

export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
}

export interface TrainSpeedResult {
  /** A TensorFlow.js backend, or 'onnxruntime' (measure-onnx-training.ts). */
  backend: BenchTrainTarget;
  /** The onnxruntime device (onnxruntime only). */
  device?: string;
  size: number;
  width: number;
  batch: number;
  /** batch / median training step (forward, backward, update) in seconds. */
  train_img_s: number;
  /** batch / median inference forward (BatchNorm from running statistics) in seconds. */
  infer_img_s: number;
  /** Every timed training step, in run order. */
  step_ms: number[];
  infer_ms: number[];
  /** Peak resident memory in MiB; see peak_rss_scope. */
  peak_rss_mb: number;
  /** `run`: the peak was reset before this measurement (Linux); `process`: the process's lifetime peak. */
  peak_rss_scope: 'run' | 'process';
  /** Compute threads the backend reports (wasm: XNNPACK threads), when it says. */
  threads?: number;
  warmup: number;
  /** Multiply-adds x 2 of the convolutions of one image's forward pass. */
  forward_gflop_per_image: number;
  phases?: StepPhases;
  /** Kernels of one profiled training step, slowest first. */
  kernels?: KernelTime[];
}

/** What `attnvgg bench train` measures: a TensorFlow.js backend, or the onnxruntime training engine. */
export type BenchTrainTarget = BackendName | 'onnxruntime';
export const BENCH_TRAIN_TARGETS: readonly BenchTrainTarget[] = [...BACKEND_NAMES, 'onnxruntime'];

/**
 * The targets named by `--backend` (tensorflow, wasm, cpu, onnxruntime) and `--engine` (onnxruntime, or
 * tfjs: the TensorFlow.js backend training would pick, left as 'tfjs' for the caller to resolve), in the
 * order given, each once; empty when neither was given. Throws BenchError with the choices.
 */
export function parseBenchTrainTargets(
  backends: readonly string[],
  engines: readonly string[],
): (BenchTrainTarget | 'tfjs')[] {
  const out: (BenchTrainTarget | 'tfjs')[] = [];
  const add = (t: BenchTrainTarget | 'tfjs'): void => {
    if (!out.includes(t)) out.push(t);
  };
  for (const b of backends) {
    const name = b.trim().toLowerCase();
    if (!(BENCH_TRAIN_TARGETS as readonly string[]).includes(name))
      throw new BenchError(
        `Unsupported --backend "${b}". Should be one of: ${BENCH_TRAIN_TARGETS.join(', ')}`,
      );
    add(name as BenchTrainTarget);
  }
  for (const e of engines) {
    const name = e.trim().toLowerCase();
    if (name !== 'tfjs' && name !== 'onnxruntime')
      throw new BenchError(`Unsupported --engine "${e}". Should be one of: tfjs, onnxruntime`);
    add(name);
  }
  return out;
}

/** A benchmark that cannot run as asked; the message says what to change. */
export class BenchError extends Error {
  override name = 'BenchError';
}

const PEER_HYPER: StepHyper = { lr: 0.01, momentum: 0.9 };

export interface BenchBackendStatus {
  backend: BackendName;
  available: boolean;
  reason?: string;
  threads?: number;
}

/**
 * Makes `name` the active backend: through selectBackend (forced, so the reason comes back when it
 * cannot load), or tf.setBackend for `cpu`. Throws a BackendError when the backend is not usable.
 */
export async function activateBenchBackend(name: BackendName): Promise<{ threads?: number }> {
  if (name === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new BackendError('the cpu backend failed to initialise');
    return { threads: 1 };
  }
  const report = await selectBackend({ env: { ...process.env, [BACKEND_ENV_VAR]: name } });
  if (tf.getBackend() !== name && !(await tf.setBackend(name)))
    throw new BackendError(`the ${name} backend failed to initialise`);
  return report.threads === undefined ? {} : { threads: report.threads };
}

/** Which of tensorflow, wasm and cpu load here, with the reason for each that does not. */
export async function probeBenchBackends(): Promise<BenchBackendStatus[]> {
  const previous = tf.engine().backendName;
  const out: BenchBackendStatus[] = [];
  for (const backend of BACKEND_NAMES) {
    try {
      const { threads } = await activateBenchBackend(backend);
      out.push({ backend, available: true, ...(threads === undefined ? {} : { threads }) });
    } catch (error) {
      out.push({ backend, available: false, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  if (previous) await tf.setBackend(previous);
  return out;
}

/** The backends `measureTrainSpeed` can use on this machine, in selectBackend's order. */
export async function availableBenchBackends(): Promise<BackendName[]> {
  return (await probeBenchBackends()).filter((s) => s.available).map((s) => s.backend);
}

/** 2 x multiply-adds of the 13 convolutions for one image at input side `size`. */
export function forwardConvGflop(size: number, width: number): number {
  let side = size;
  let flop = 0;
  for (const c of convLayers({ width })) {
    flop += 2 * side * side * 9 * c.inChannels * c.outChannels;
    if (c.poolAfter) side /= 2;
  }
  return flop / 1e9;
}

export { median, peakRssMb, resetPeakRss };

// ---------------------------------------------------------------------------------------------

interface Resolved {
  size: number;
  width: number;
  batch: number;
  backend: BackendName;
  steps: number;
  warmup: number;
  inferSteps: number;
  seed: number;
  classes: number;
}

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new BenchError(`${name} must be an integer of at least ${min}, got ${value}`);
  return value;
}

function resolveOptions(o: TrainSpeedOptions): Resolved {
  if (!(BACKEND_NAMES as readonly string[]).includes(o.backend))
    throw new BenchError(`Unsupported backend "${o.backend}". Should be one of: ${BACKEND_NAMES.join(', ')}`);
  const steps = checkCount('steps', o.steps ?? 5, 1);
  const classes = checkCount('classes', o.classes ?? 10, 2);
  // Checked before any backend is touched; the message lists what is allowed.
  validateSpec({ ...DEFAULT_SPEC, inputSize: o.size, width: o.width, numClasses: classes });
  return {
    size: o.size,
    width: o.width,
    batch: checkCount('batch', o.batch, 1),
    backend: o.backend,
    steps,
    warmup: checkCount('warmup', o.warmup ?? 2, 0),
    inferSteps: checkCount('inferSteps', o.inferSteps ?? steps, 1),
    seed: o.seed ?? 0,
    classes,
  };
}

/** The model and one fixed batch, as the peer: random weights, standard-normal input, random labels. */
interface Workload {
  model: AttentionVgg;
  optimizer: Optimizer;
  x: tf.Tensor4D;
  labels: tf.Tensor1D;
}

function buildWorkload(r: Resolved): Workload {
  const spec: ModelSpec = { ...DEFAULT_SPEC, inputSize: r.size, width: r.width, numClasses: r.classes };
  const random: Random = createRandom(r.seed);
  const model = AttentionVgg.fromWeights(spec, initWeights(spec, random));
  const pixels = new Float32Array(r.batch * r.size * r.size * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = random.normal();
  const x = tf.tensor4d(pixels, [r.batch, r.size, r.size, 3]);
  const labels = tf.tensor1d(
    Array.from({ length: r.batch }, () => random.int(r.classes)),
    'int32',
  );
  return { model, optimizer: new Optimizer({ name: 'sgd', momentum: 0.9 }), x, labels };
}

function disposeWorkload(w: Workload): void {
  w.model.dispose();
  w.optimizer.dispose();
  tf.dispose([w.x, w.labels]);
}

function timeTrainStep(w: Workload): number {
  const start = performance.now();
  // trainStep reads the loss back, so the step's work is done when it returns.
  trainStep(w.model, w.optimizer, w.x, w.labels, { hyper: PEER_HYPER });
  return performance.now() - start;
}

function timeInference(w: Workload): number {
  const start = performance.now();
  tf.tidy(() => {
    w.model.forward(w.x, { training: false }).logits.dataSync();
  });
  return performance.now() - start;
}

/** Runs `run` `count` times, reporting each; returns the times. */
function repeat(
  count: number,
  stage: TrainSpeedProgress['stage'],
  run: () => number,
  onProgress: TrainSpeedOptions['onProgress'],
): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const ms = run();
    times.push(ms);
    onProgress?.({ stage, step: i + 1, of: count, ms });
  }
  return times;
}

/** Training-mode forward with the loss, and the optimiser update on zero gradients, each alone. */
function measurePhases(w: Workload, r: Resolved, stepMs: number, report: TrainSpeedOptions['onProgress']) {
  const forward = repeat(
    r.steps,
    'phases',
    () => {
      const start = performance.now();
      tf.tidy(() => {
        const { logits } = w.model.forward(w.x, { training: true });
        crossEntropy(logits, w.labels).dataSync();
      });
      w.model.discardBatchStats();
      return performance.now() - start;
    },
    report,
  );
  const params = w.model.trainableVariables();
  const grads = new Map([...params].map(([name, p]) => [name, tf.zerosLike(p)]));
  const update = repeat(
    r.steps,
    'phases',
    () => {
      const start = performance.now();
      w.optimizer.apply(params, grads, PEER_HYPER);
      // Every backend here runs ops synchronously; reading one value back makes sure of it.
      (params.values().next().value as tf.Variable).dataSync();
      return performance.now() - start;
    },
    report,
  );
  tf.dispose([...grads.values()]);
  const forwardMs = median(forward);
  const updateMs = median(update);
  return {
    forward_ms: round(forwardMs),
    backward_ms: round(Math.max(0, stepMs - forwardMs - updateMs)),
    update_ms: round(updateMs),
  };
}

/** One training step under tf.profile: wall time per kernel name (kernels run one after another). */
async function profileStep(w: Workload): Promise<KernelTime[]> {
  const info = await tf.profile(() => {
    trainStep(w.model, w.optimizer, w.x, w.labels, { hyper: PEER_HYPER });
  });
  const byKernel = new Map<string, KernelTime>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const entry = byKernel.get(k.name) ?? { kernel: k.name, calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += ms;
    byKernel.set(k.name, entry);
  }
  return [...byKernel.values()].map((k) => ({ ...k, ms: round(k.ms) })).sort((a, b) => b.ms - a.ms);
}

/** Four significant digits: enough for 0.06 img/s (cpu) and for 1,234 img/s alike. */
function significant(value: number): number {
  return Number(value.toPrecision(4));
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Builds the model with random weights on `backend`, runs `warmup` untimed and `steps` timed full
 * training steps (forward, backward, SGD update, BatchNorm running averages) on one fixed random batch,
 * then inference forwards, and returns images/s from the medians. Leaves no tensors behind; the active
 * backend stays `backend` afterwards.
 */
export async function measureTrainSpeed(options: TrainSpeedOptions): Promise<TrainSpeedResult> {
  const r = resolveOptions(options);
  const { threads } = await activateBenchBackend(r.backend);
  const peakScope = resetPeakRss() ? 'run' : 'process';
  const w = buildWorkload(r);
  const report = options.onProgress;
  let failure: unknown;
  try {
    repeat(r.warmup, 'warmup', () => timeTrainStep(w), report);
    const stepMs = repeat(r.steps, 'train', () => timeTrainStep(w), report);
    timeInference(w); // first eval forward: different shapes of work (no batch statistics)
    const inferMs = repeat(r.inferSteps, 'infer', () => timeInference(w), report);
    const result: TrainSpeedResult = {
      backend: r.backend,
      size: r.size,
      width: r.width,
      batch: r.batch,
      train_img_s: significant(r.batch / (median(stepMs) / 1000)),
      infer_img_s: significant(r.batch / (median(inferMs) / 1000)),
      step_ms: stepMs.map((ms) => round(ms)),
      infer_ms: inferMs.map((ms) => round(ms)),
      peak_rss_mb: 0,
      peak_rss_scope: peakScope,
      ...(threads === undefined ? {} : { threads }),
      warmup: r.warmup,
      forward_gflop_per_image: round(forwardConvGflop(r.size, r.width), 4),
    };
    if (options.phases) result.phases = measurePhases(w, r, median(stepMs), report);
    if (options.profile) {
      result.kernels = await profileStep(w);
      report?.({ stage: 'profile', step: 1, of: 1, ms: result.kernels.reduce((s, k) => s + k.ms, 0) });
    }
    result.peak_rss_mb = Math.round(peakRssMb());
    return result;
  } catch (error) {
    failure = explainFailure(error, r);
    throw failure;
  } finally {
    try {
      disposeWorkload(w);
    } catch (error) {
      // After a wasm abort every call into the module throws again: keep the first error.
      if (failure === undefined) throw error;
    }
  }
}

/** Bytes the wasm module's heap has grown to, when the active backend is wasm. */
function wasmHeapBytes(): number | undefined {
  const module = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return module?.HEAPU8?.length;
}

/**
 * The wasm module aborts (a RuntimeError "Aborted()") when malloc fails: its heap is a 32-bit
 * address space, at most 4 GiB, and a training step keeps every activation for the backward pass.
 */
function explainFailure(error: unknown, r: Resolved): unknown {
  const aborted = error instanceof Error && /Aborted\(/.test(error.message);
  if (r.backend !== 'wasm' || !aborted) return error;
  const heap = wasmHeapBytes();
  const heapText = heap === undefined ? '' : ` (its heap had grown to ${Math.round(heap / 2 ** 20)} MiB)`;
  return new BenchError(
    `The wasm backend aborted at S=${r.size}, width ${r.width}, batch ${r.batch}${heapText}: most likely ` +
      'out of memory, since a wasm heap holds at most 4 GiB and a training step keeps every activation ' +
      'for the backward pass. Use a smaller batch or input size, or the native tensorflow backend ' +
      '(npm run setup:native -- --tensorflow).',
    { cause: error },
  );
}
