// Inference speed of the two exported models on the same evaluation pictures, in onnxruntime-node: the
// pictures are decoded and normalised once (as the sidecar says training did), then each round runs every
// batch through one model and then the other, alternating which goes first, so load changes on a shared
// machine hit both. Time is onnxruntime's run only (decoding excluded). Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import { availableParallelism } from 'node:os';
import { createBatchStream } from '../datasets/batch-stream.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import type { Device } from '../../../models/onnx/device.js';
import { openInference, type InferenceRunner } from '../classify/inference-runner.js';
import type { Rgb } from '../images/normalise.js';
import { median } from '../../../models/bench/process-stats.js';

export interface InferenceTimingOptions {
  inputSize: number;
  mean: Rgb;
  std: Rgb;
  batch: number;
  /** onnxruntime intra-op threads (default: the number of cores). */
  threads?: number;
  /** The onnxruntime device (default cpu). */
  device?: Device;
  rounds: number;
  /** Asked between batches: true stops the timing early (the result then covers the rounds done). */
  shouldStop?: () => boolean;
}

export interface InferenceTiming {
  images: number;
  batch: number;
  threads: number;
  rounds: number;
  /** Per model, images/s of each round. */
  roundImagesPerSecond: number[][];
  /** Per model, the median of its rounds. */
  imagesPerSecond: number[];
}

/** NHWC [n, s, s, 3] to NCHW [n, 3, s, s] (the exported graph's layout). */
function toNchw(x: Float32Array, n: number, s: number): Float32Array {
  const out = new Float32Array(x.length);
  const plane = s * s;
  for (let i = 0; i < n; i++)
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < 3; c++) out[i * 3 * plane + c * plane + p] = x[(i * plane + p) * 3 + c];
  return out;
}

export async function timeInference(
  modelPaths: readonly string[],
  items: readonly DatasetItem[],
  options: InferenceTimingOptions,
): Promise<InferenceTiming> {
  const s = options.inputSize;
  const batches: { n: number; data: Float32Array }[] = [];
  const stream = createBatchStream(items, {
    batchSize: options.batch,
    inputSize: s,
    shuffle: false,
    mean: options.mean,
    std: options.std,
  });
  for await (const b of stream) batches.push({ n: b.size, data: toNchw(b.x, b.size, s) });
  const images = batches.reduce((a, b) => a + b.n, 0);
  if (images === 0) throw new Error('No picture could be decoded to time inference on.');
  const threads = options.threads ?? availableParallelism();
  const runners: InferenceRunner[] = [];
  try {
    for (const path of modelPaths)
      runners.push(await openInference(path, { threads, worker: false, device: options.device }));
    // Untimed first runs (up to 4 batches each): the first runs allocate, plan and fill caches.
    for (const r of runners)
      for (const b of batches.slice(0, 4)) await r.run({ shape: [b.n, 3, s, s], data: b.data.slice() });
    const perModel: number[][] = runners.map(() => []);
    for (let round = 0; round < options.rounds; round++) {
      const order = runners.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const m of order) {
        let ms = 0;
        for (const b of batches) {
          if (options.shouldStop?.()) break;
          ms += (await runners[m].run({ shape: [b.n, 3, s, s], data: b.data.slice() })).ms;
        }
        if (ms > 0) perModel[m].push(images / (ms / 1000));
      }
      if (options.shouldStop?.()) break;
    }
    return {
      images,
      batch: options.batch,
      threads,
      rounds: Math.min(...perModel.map((r) => r.length)),
      roundImagesPerSecond: perModel,
      imagesPerSecond: perModel.map((r) => (r.length > 0 ? median(r) : 0)),
    };
  } finally {
    for (const r of runners) await r.close();
  }
}
