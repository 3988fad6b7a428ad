// Training and inference speed of the onnxruntime training engine (models/onnx-train: a whole step as
// one ONNX graph) measured as measureTrainSpeed measures TensorFlow.js and as the PyTorch peer's `speed`
// does (random weights, one fixed random batch, SGD momentum 0.9, lr 0.01, 10 classes): for
// `attnvgg bench train --backend onnxruntime`. Inference runs the exported model (models/onnx/export.ts)
// on onnxruntime with the trained weights. Node side only: imports models/, never electron, cli, server
// or renderer.

import { availableParallelism } from 'node:os';
import { createRandom } from '../core/random.js';
import { DEFAULT_SPEC, validateSpec, type ModelSpec } from '../core/spec.js';
import { initWeights } from '../core/weights.js';
import { createOnnxTrainer } from '../onnx-train/trainer.js';
import { exportOnnx } from '../onnx/export.js';
import type { Device } from '../onnx/device.js';
import { openOnnxSession } from '../onnx/session.js';
import {
  BenchError,
  forwardConvGflop,
  median,
  peakRssMb,
  resetPeakRss,
  type TrainSpeedOptions,
  type TrainSpeedResult,
} from './measure-tfjs-training.js';

/** The peer's `speed` settings. */
const PEER_HYPER = { lr: 0.01, momentum: 0.9 };

function count(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new BenchError(`${name} must be an integer of at least ${min}, got ${value}`);
  return value;
}

const significant = (v: number): number => Number(v.toPrecision(4));
const round = (v: number): number => Math.round(v * 10) / 10;

export interface OnnxTrainSpeedOptions extends Omit<TrainSpeedOptions, 'backend' | 'phases' | 'profile'> {
  /** onnxruntime intra-op threads (default: the number of cores, as training uses). */
  threads?: number;
  /** The onnxruntime device (default cpu); the first warm-up step also compiles a GPU's shaders. */
  device?: Device;
}

/**
 * Writes the training graph for a random-weight model, runs `warmup` untimed and `steps` timed steps
 * on one fixed random batch (NHWC, as training feeds it), then inference forwards of the exported model.
 */
export async function measureOnnxTrainSpeed(options: OnnxTrainSpeedOptions): Promise<TrainSpeedResult> {
  const steps = count('steps', options.steps ?? 5, 1);
  const warmup = count('warmup', options.warmup ?? 2, 0);
  const inferSteps = count('inferSteps', options.inferSteps ?? steps, 1);
  const batch = count('batch', options.batch, 1);
  const classes = count('classes', options.classes ?? 10, 2);
  const threads = count('threads', options.threads ?? availableParallelism(), 1);
  const spec: ModelSpec = validateSpec({
    ...DEFAULT_SPEC,
    inputSize: options.size,
    width: options.width,
    numClasses: classes,
  });
  const peakScope = resetPeakRss() ? 'run' : 'process';
  const random = createRandom(options.seed ?? 0);
  const weights = initWeights(spec, random);
  const s = spec.inputSize;
  const x = new Float32Array(batch * s * s * 3);
  for (let i = 0; i < x.length; i++) x[i] = random.normal();
  const labels = Int32Array.from({ length: batch }, () => random.int(classes));
  const report = options.onProgress;
  const trainer = await createOnnxTrainer(spec, weights, {
    inputLayout: 'nhwc',
    optimizer: { name: 'sgd', momentum: 0.9 },
    intraOpThreads: threads,
    device: options.device,
  });
  const stepMs: number[] = [];
  let trained;
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const start = performance.now();
      await trainer.step(x, labels, PEER_HYPER);
      const ms = performance.now() - start;
      if (i >= warmup) stepMs.push(ms);
      report?.({
        stage: i < warmup ? 'warmup' : 'train',
        step: i < warmup ? i + 1 : i - warmup + 1,
        of: i < warmup ? warmup : steps,
        ms,
      });
    }
    trained = trainer.getWeights();
  } finally {
    await trainer.dispose();
  }
  const session = await openOnnxSession(exportOnnx(spec, trained), {
    intraOpThreads: threads,
    device: options.device,
  });
  const inferMs: number[] = [];
  try {
    const nchw = { shape: [batch, 3, s, s], data: new Float32Array(x.length) };
    for (let b = 0; b < batch; b++)
      for (let p = 0; p < s * s; p++)
        for (let c = 0; c < 3; c++) nchw.data[(b * 3 + c) * s * s + p] = x[(b * s * s + p) * 3 + c];
    await session.run(nchw, { outputs: ['logits'] }); // first run: the runtime plans its memory
    for (let i = 0; i < inferSteps; i++) {
      const start = performance.now();
      await session.run(nchw, { outputs: ['logits'] });
      const ms = performance.now() - start;
      inferMs.push(ms);
      report?.({ stage: 'infer', step: i + 1, of: inferSteps, ms });
    }
  } finally {
    await session.release();
  }
  return {
    backend: 'onnxruntime',
    device: options.device ?? 'cpu',
    size: s,
    width: spec.width,
    batch,
    train_img_s: significant(batch / (median(stepMs) / 1000)),
    infer_img_s: significant(batch / (median(inferMs) / 1000)),
    step_ms: stepMs.map(round),
    infer_ms: inferMs.map(round),
    peak_rss_mb: Math.round(peakRssMb()),
    peak_rss_scope: peakScope,
    threads,
    warmup,
    forward_gflop_per_image: Math.round(forwardConvGflop(s, spec.width) * 1e4) / 1e4,
  };
}
