// Runs the same training steps on TensorFlow.js (models/train/step.ts on the `cpu` backend, the
// reference) and on the ONNX training engine, from the same weights and batch, and compares the results
// by relative error (max|a - b| / max|b|) per tensor.
import * as tf from '@tensorflow/tfjs-core';
import { parameterLayout, type ModelSpec } from '../../../models/core/spec.js';
import type { NamedArray, Weights } from '../../../models/core/weights.js';
import { createOnnxTrainer, type OnnxTrainerOptions } from '../../../models/onnx-train/trainer.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import {
  Optimizer,
  type OptimizerConfig,
  type OptimizerState,
  type StepHyper,
} from '../../../models/train/optimizer.js';
import { trainStep } from '../../../models/train/step.js';
import { relativeError, useCpuBackend } from '../../helpers/tf.js';

/** One configuration a parity test runs on both engines. */
export interface ParityCase {
  name: string;
  spec: ModelSpec;
  frozenBlocks: number;
  labelSmoothing: number;
  inputLayout: 'nchw' | 'nhwc';
}

/** The small network most parity cases use (S=32, width 1/16, 4 classes): seconds per case. */
export const SMALL_SPEC = { inputSize: 32, width: 0.0625, numClasses: 4 } as const;

/** The attention model pc/softmax at S=64, width 0.125, 4 classes: the graph tests' usual model. */
export const S64_PC_SPEC: ModelSpec = {
  inputSize: 64,
  width: 0.125,
  numClasses: 4,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

export interface Batch {
  /** NHWC, as TensorFlow.js takes it. */
  nhwc: Float32Array;
  /** The same images NCHW. */
  nchw: Float32Array;
  labels: Int32Array;
  n: number;
}

export function makeBatch(spec: ModelSpec, n: number, seed: number): Batch {
  const s = spec.inputSize;
  const nhwc = tf.tidy(() => tf.randomNormal([n, s, s, 3], 0, 1, 'float32', seed).dataSync() as Float32Array);
  const nchw = new Float32Array(nhwc.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++)
        for (let c = 0; c < 3; c++) nchw[((b * 3 + c) * s + y) * s + x] = nhwc[((b * s + y) * s + x) * 3 + c];
  const labels = Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % spec.numClasses);
  return { nhwc: Float32Array.from(nhwc), nchw, labels, n };
}

export interface EngineRun {
  losses: number[];
  correct: number[];
  weights: Weights;
  state: OptimizerState;
}

export interface RunOptions {
  optimizer: OptimizerConfig;
  hypers: StepHyper[];
  frozenBlocks?: number;
  labelSmoothing?: number;
  /** Optimiser state to start from. */
  initialState?: OptimizerState;
}

/** The weights and optimizer state after each step of a TensorFlow.js run (index 0: before any). */
export interface TfjsTrajectory extends EngineRun {
  after: { weights: Weights; state: OptimizerState }[];
}

export async function runTfjs(
  spec: ModelSpec,
  weights: Weights,
  batch: Batch,
  o: RunOptions,
): Promise<TfjsTrajectory> {
  await useCpuBackend();
  const model = AttentionVgg.fromWeights(spec, weights);
  const optimizer = new Optimizer(o.optimizer);
  if (o.initialState) optimizer.setState(o.initialState);
  const s = spec.inputSize;
  const x = tf.tensor4d(batch.nhwc, [batch.n, s, s, 3]);
  const y = tf.tensor1d(batch.labels, 'int32');
  const losses: number[] = [];
  const correct: number[] = [];
  const after = [{ weights: await model.toWeights(), state: await optimizer.getState() }];
  for (const hyper of o.hypers) {
    const r = trainStep(model, optimizer, x, y, {
      hyper,
      frozenBlocks: o.frozenBlocks,
      labelSmoothing: o.labelSmoothing,
    });
    losses.push(r.loss);
    correct.push(r.correct);
    after.push({ weights: await model.toWeights(), state: await optimizer.getState() });
  }
  const last = after[after.length - 1];
  const out = { losses, correct, weights: last.weights, state: last.state, after };
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return out;
}

export async function runOnnx(
  spec: ModelSpec,
  weights: Weights,
  batch: Batch,
  o: RunOptions,
  extra: Partial<OnnxTrainerOptions> = {},
): Promise<EngineRun> {
  const trainer = await createOnnxTrainer(spec, weights, {
    optimizer: o.optimizer,
    frozenBlocks: o.frozenBlocks,
    labelSmoothing: o.labelSmoothing,
    ...extra,
  });
  try {
    if (o.initialState) trainer.setOptimizerState(o.initialState);
    const x = trainer.inputLayout === 'nchw' ? batch.nchw : batch.nhwc;
    const losses: number[] = [];
    const correct: number[] = [];
    for (const hyper of o.hypers) {
      const r = await trainer.step(x, batch.labels, hyper);
      losses.push(r.loss);
      correct.push(r.correct);
    }
    return { losses, correct, weights: trainer.getWeights(), state: trainer.getOptimizerState() };
  } finally {
    await trainer.dispose();
  }
}

/**
 * Conv biases right before training-mode BatchNorm and, under pc + softmax, g's weight and bias have a
 * gradient of exactly zero (models/README.md); both engines produce float noise there.
 */
export function zeroGradientNames(spec: ModelSpec): Set<string> {
  return new Set(
    parameterLayout(spec)
      .filter(
        (p) =>
          p.role === 'conv.bias' ||
          (spec.attention &&
            spec.compatibility === 'pc' &&
            spec.normalisation === 'softmax' &&
            p.name.startsWith('g.')),
      )
      .map((p) => p.name),
  );
}

/**
 * How differently two runs moved a tensor from w0: the relative error of (a - w0) against (b - w0), and
 * whether the difference stays within `tolerance` of the movement plus the float32 resolution of the
 * weights themselves (a small step on a weight near 1 keeps only a few significant bits of the step).
 */
export function movementError(
  w0: NamedArray,
  a: NamedArray,
  b: NamedArray,
): { error: number; scale: number; diff: number; within(tolerance: number): boolean } {
  const da = a.data.map((v, i) => v - w0.data[i]);
  const db = b.data.map((v, i) => v - w0.data[i]);
  let scale = 0;
  let diff = 0;
  let magnitude = 0;
  for (let i = 0; i < da.length; i++) {
    scale = Math.max(scale, Math.abs(db[i]), Math.abs(da[i]));
    diff = Math.max(diff, Math.abs(da[i] - db[i]));
    magnitude = Math.max(magnitude, Math.abs(w0.data[i]), Math.abs(b.data[i]));
  }
  const ulps = 4 * 2 ** -23 * magnitude;
  return {
    error: relativeError(da, db),
    scale,
    diff,
    within: (tolerance) => diff <= tolerance * scale + ulps,
  };
}
