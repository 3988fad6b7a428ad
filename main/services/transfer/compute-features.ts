// Computes what the frozen backbone gives for every image and view, for the feature cache
// (feature-cache.ts): the backbone sub-graph (models/onnx/export.ts exportBackboneOnnx) runs on
// onnxruntime-node, a batch of images at a time, while the next batch decodes. View 0 is the plain centre
// crop; views 1..V-1 are augmented with streams seeded per (seed, view, image). The outputs (NCHW) are
// stored NHWC, the attention inputs first and then pool5, one entry per (image, view), in a FeatureStore.
// Files that fail to decode are left out and reported. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import { createRandom } from '../../../models/core/random.js';
import type { NamedArray } from '../../../models/core/weights.js';
import { exportBackboneOnnx } from '../../../models/onnx/export.js';
import { BACKBONE_LOCALS, BACKBONE_POOL5 } from '../../../models/onnx/metadata.js';
import { openOnnxSession, type OnnxSession } from '../../../models/onnx/session.js';
import { augmentRgb8 } from '../datasets/augment-image.js';
import type { BatchItem, SkippedFile } from '../datasets/batch-stream.js';
import { deriveSeed } from '../datasets/derive-seed.js';
import { decodeImageRgb8, type DecodeOptions } from '../images/decode-image.js';
import { imageFailureInfo } from '../images/image-error.js';
import { normaliseRgb8 } from '../images/normalise.js';
import type { CachePlan, FeatureCacheOptions } from './feature-cache.js';
import type { FeatureStore } from './feature-store.js';

/** An image that decoded: its index in the items and its pixels (RGB, size x size). */
interface Decoded {
  index: number;
  rgb: Uint8Array;
}

export interface ComputedFeatures {
  /** Indices of the items kept, in slot order (entry (k, view) is slot k * views + view). */
  kept: number[];
  skipped: SkippedFile[];
}

/** Fills `store` with the features of every item that decodes (see the module comment). */
export async function computeFeatures(
  items: readonly BatchItem[],
  plan: CachePlan,
  store: FeatureStore,
  options: FeatureCacheOptions,
): Promise<ComputedFeatures> {
  const session = await openOnnxSession(
    exportBackboneOnnx(plan.spec, options.backbone, { lastBlock: plan.frozenBlocks }),
    { ...(options.threads ? { intraOpThreads: options.threads } : {}), device: options.device },
  );
  const run = new FeatureRun(items, plan, store, options, session);
  try {
    await run.all();
  } catch (e) {
    await store.removeSpilled();
    throw e;
  } finally {
    await session.release();
  }
  return { kept: run.kept, skipped: run.skipped };
}

/** One pass of the backbone over the items, a chunk of runBatch images at a time. */
class FeatureRun {
  readonly kept: number[] = [];
  readonly skipped: SkippedFile[] = [];
  private readonly decode: DecodeOptions;
  private readonly size: number;
  private readonly localNames: string[];
  private readonly outputs: string[];
  private done = 0;

  constructor(
    private readonly items: readonly BatchItem[],
    private readonly plan: CachePlan,
    private readonly store: FeatureStore,
    private readonly options: FeatureCacheOptions,
    private readonly session: OnnxSession,
  ) {
    this.size = plan.spec.inputSize;
    this.decode = { ...options.decode, size: this.size };
    this.localNames = BACKBONE_LOCALS.slice(0, plan.shapes.locals.length);
    this.outputs = plan.shapes.pool5 === undefined ? this.localNames : [...this.localNames, BACKBONE_POOL5];
  }

  /** Every chunk; decoding of chunk k+1 overlaps onnxruntime's work on chunk k. */
  async all(): Promise<void> {
    const chunks = this.chunks();
    let nextDecoded = chunks.length > 0 ? this.decodeChunk(chunks[0]) : undefined;
    for (let c = 0; c < chunks.length; c++) {
      if (this.options.signal?.aborted) throw this.options.signal.reason ?? new Error('cancelled');
      const pixels = await nextDecoded!;
      nextDecoded = c + 1 < chunks.length ? this.decodeChunk(chunks[c + 1]) : undefined;
      const good = chunks[c].flatMap((index, k) => (pixels[k] ? [{ index, rgb: pixels[k] }] : []));
      if (good.length === 0) continue;
      const firstSlot = this.kept.length;
      for (const g of good) this.kept.push(g.index);
      for (let view = 0; view < this.plan.views; view++) await this.computeView(good, firstSlot, view);
    }
  }

  /** The item indices in chunks of runBatch (default 8). */
  private chunks(): number[][] {
    const runBatch = this.options.runBatch ?? 8;
    const n = this.items.length;
    const chunks: number[][] = [];
    for (let i = 0; i < n; i += runBatch)
      chunks.push(Array.from({ length: Math.min(runBatch, n - i) }, (_, k) => i + k));
    return chunks;
  }

  private decodeChunk(chunk: number[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(chunk.map((index) => this.decodeItem(index)));
  }

  /** The item's pixels, or undefined (reported through onSkip) when it cannot be decoded. */
  private async decodeItem(index: number): Promise<Uint8Array | undefined> {
    const item = this.items[index];
    try {
      return (await decodeImageRgb8(item.path, this.decode)).data;
    } catch (error) {
      const s = { path: item.path, error: imageFailureInfo(error, item.path) };
      this.skipped.push(s);
      this.options.onSkip?.(s);
      return undefined;
    }
  }

  /** Runs one view of a chunk's images through the backbone and stores the outputs. */
  private async computeView(good: Decoded[], firstSlot: number, view: number): Promise<void> {
    const { size } = this;
    const x = this.backboneInput(good, view);
    const result = await this.session.run(
      { shape: [good.length, 3, size, size], data: x },
      { outputs: this.outputs },
    );
    const values = new Float32Array(this.plan.perView);
    for (let k = 0; k < good.length; k++) {
      this.gatherOutputs(result, k, values);
      await this.store.put((firstSlot + k) * this.plan.views + view, values);
    }
    this.done += good.length;
    this.options.onProgress?.({ done: this.done, total: this.items.length * this.plan.views });
  }

  /** The chunk's images as the graph's NCHW input, view 0 plain, other views augmented. */
  private backboneInput(good: Decoded[], view: number): Float32Array {
    const { size, items } = this;
    const perImage = size * size * 3;
    const augment = this.options.augment ?? { flip: true };
    const seed = this.options.seed ?? 0;
    const x = new Float32Array(good.length * perImage);
    good.forEach(({ index, rgb }, k) => {
      const image =
        view === 0
          ? rgb
          : augmentRgb8(
              rgb,
              size,
              augment,
              createRandom(deriveSeed(seed, 'view', view, items[index].relativePath ?? items[index].path)),
            );
      // NHWC -> NCHW for the ONNX graph.
      const hwc = normaliseRgb8(image, this.options);
      const base = k * perImage;
      for (let p = 0; p < size * size; p++)
        for (let ch = 0; ch < 3; ch++) x[base + ch * size * size + p] = hwc[p * 3 + ch];
    });
    return x;
  }

  /** Image k's outputs, NHWC, one after the other (locals, then pool5), into `values`. */
  private gatherOutputs(result: Record<string, NamedArray>, k: number, values: Float32Array): void {
    let offset = 0;
    this.localNames.forEach((name, level) => {
      toNhwc(result[name], k, values, offset);
      offset += this.plan.localSizes[level];
    });
    const p5 = this.plan.shapes.pool5;
    if (p5 !== undefined) values.set(result[BACKBONE_POOL5].data.subarray(k * p5, (k + 1) * p5), offset);
  }
}

/** NCHW [n, c, h, w] slice of image k -> NHWC, written into `out` at `offset`. */
function toNhwc(src: NamedArray, k: number, out: Float32Array, offset: number): void {
  const [, c, h, w] = src.shape;
  const hw = h * w;
  const base = k * c * hw;
  for (let ch = 0; ch < c; ch++) {
    const from = base + ch * hw;
    for (let p = 0; p < hw; p++) out[offset + p * c + ch] = src.data[from + p];
  }
}
