// Inference speed of an exported model on onnxruntime-node (`attnvgg bench infer`, bench/infer-speed.ts):
// one fixed batch of standard-normal input, `warmup` untimed runs, then `steps` timed runs on the calling
// thread (no worker, no decoding: the runtime alone), images/s from the median. The model's input size
// comes from its own metadata (attnvgg.spec), so no sidecar is needed. Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { createRandom } from '../../../models/core/random.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import { META } from '../../../models/onnx/metadata.js';
import { readOnnxHeader } from '../export/onnx-metadata.js';
import { median, peakRssMb, resetPeakRss } from '../../../models/bench/process-stats.js';
import type { Device } from '../../../models/onnx/device.js';
import { openInference } from './inference-runner.js';

export interface InferSpeedOptions {
  batch: number;
  /** onnxruntime intra-op threads (default: the number of cores). */
  threads?: number;
  /** Timed runs (default 10). */
  steps?: number;
  /** Untimed runs first (default 3). */
  warmup?: number;
  /** Seed of the random input (default 0). */
  seed?: number;
  /** The onnxruntime device (default cpu). */
  device?: Device;
}

export interface InferSpeedResult {
  model: string;
  size: number;
  width: number;
  batch: number;
  threads: number;
  device: string;
  /** batch / median run time in seconds. */
  infer_img_s: number;
  median_ms: number;
  /** Every timed run, in order. */
  ms: number[];
  warmup: number;
  /** Peak resident memory in MiB; `peak_rss_scope` says whether it was reset before the measurement. */
  peak_rss_mb: number;
  peak_rss_scope: 'run' | 'process';
}

export class InferSpeedError extends Error {
  override name = 'InferSpeedError';
}

export { peakRssMb, resetPeakRss };

/** The model spec an attnvgg ONNX file carries in its metadata. Throws InferSpeedError. */
export async function onnxModelSpec(modelPath: string): Promise<ModelSpec> {
  let text: string | undefined;
  try {
    text = (await readOnnxHeader(modelPath)).metadata.get(META.spec);
  } catch (e) {
    throw new InferSpeedError(`${modelPath} is not a readable ONNX model (${(e as Error).message}).`);
  }
  if (!text) throw new InferSpeedError(`${modelPath} was not written by attnvgg (it carries no model spec).`);
  return JSON.parse(text) as ModelSpec;
}

export async function measureInferSpeed(
  modelPath: string,
  options: InferSpeedOptions,
): Promise<InferSpeedResult> {
  const steps = options.steps ?? 10;
  const warmup = options.warmup ?? 3;
  const threads = options.threads ?? availableParallelism();
  for (const [name, v, min] of [
    ['batch', options.batch, 1],
    ['steps', steps, 1],
    ['warmup', warmup, 0],
  ] as const)
    if (!Number.isInteger(v) || v < min)
      throw new InferSpeedError(`${name} must be a whole number of at least ${min}, got ${v}.`);
  const spec = await onnxModelSpec(resolve(modelPath));
  const s = spec.inputSize;
  const random = createRandom(options.seed ?? 0);
  const template = new Float32Array(options.batch * 3 * s * s);
  for (let i = 0; i < template.length; i++) template[i] = random.normal();
  const scope = resetPeakRss() ? 'run' : 'process';
  const runner = await openInference(resolve(modelPath), { threads, worker: false, device: options.device });
  try {
    const input = { shape: [options.batch, 3, s, s], data: template };
    for (let i = 0; i < warmup; i++) await runner.run(input);
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) ms.push((await runner.run(input)).ms);
    const m = median(ms);
    return {
      model: resolve(modelPath),
      size: s,
      width: spec.width,
      batch: options.batch,
      threads,
      device: options.device ?? 'cpu',
      infer_img_s: Number((options.batch / (m / 1000)).toPrecision(4)),
      median_ms: Number(m.toFixed(2)),
      ms: ms.map((v) => Number(v.toFixed(2))),
      warmup,
      peak_rss_mb: Math.round(peakRssMb()),
      peak_rss_scope: scope,
    };
  } finally {
    await runner.close();
  }
}
