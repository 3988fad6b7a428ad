// Batch classification with an exported model (`attnvgg classify`): folders walked recursively, every
// picture decoded and normalised exactly as in training (the settings come from the model's sidecar and
// go through the one image module, images/decode-image.ts + normalise.ts), the model file is checked by our
// own reader against the sidecar before the runtime loads it (check-model.ts), batches run on onnxruntime-node
// in a worker thread while the main thread decodes the next batch and writes the previous one's outputs:
// top-k labels, optional heat-map overlays and raw maps, optional sorting into per-class folders.
// A file that cannot be read is a row with a reason, never a failure of the run. The input is streamed
// (input-source.ts: folders in a stable walk, or a --files-from list; one shard of it, up to a limit) in
// units of one batch (batch-units.ts); each unit's rows are appended to results.jsonl and results.csv in
// input order (result-files.ts) and summary.json is rewritten every few seconds and at the end; with
// `resume` the earlier rows are streamed in step and the unchanged files are not classified again
// (run-results.ts, resume-results.ts). Must not import electron or anything from main/electron,
// main/server, main/cli or renderer.

import { mkdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Device } from '../../../models/onnx/device.js';
import { createSemaphore } from '../datasets/semaphore.js';
import { preprocessingOf, readSidecar, type ModelSidecar } from '../export/sidecar.js';
import { type AttentionMap, type MapLevel } from '../heatmaps/attention-map.js';
import type { ColormapName } from '../heatmaps/colormap.js';
import { DEFAULT_OVERLAY_OPACITY, renderAttentionOverlay } from '../heatmaps/render-overlay.js';
import { decodeImageRgb8, type DecodeOptions } from '../images/decode-image.js';
import { ImageError, imageErrorFromFileSystem } from '../images/image-error.js';
import { normaliseRgb8 } from '../images/normalise.js';
import { writeFileAtomic } from '../storage/atomic-write.js';
import { expectationsOf } from './check-model.js';
import { batchUnits, type IndexedFile, type Unit } from './batch-units.js';
import { relativeSlashes } from './collect-files.js';
import { STDIN_LIST } from './file-list.js';
import { openInference, type InferenceRunner } from './inference-runner.js';
import { openInputs, planInputs, type InputSpec } from './input-source.js';
import { encodeNpyFloat32 } from './npy.js';
import { RESULTS_JSONL, SUMMARY_JSON, type ResultsSummary } from './result-files.js';
import { RESULTS_CSV, type ClassifySettings, type ImageResult, type TopLabel } from './results.js';
import { RunResults } from './run-results.js';
import type { Shard } from './shard.js';
import { sortFile } from './sort-into.js';

export const UNCERTAIN_LABEL = 'uncertain';
export const DEFAULT_BATCH = 32;
export const DEFAULT_TOP_K = 3;
export const DEFAULT_OVERLAY_SIZE = 256;
export const HEATMAPS_FOLDER = 'heatmaps';
const PREFETCH_BATCHES = 2;

export interface ClassifyOptions {
  /** Images per onnxruntime run (default 32). */
  batch?: number;
  /**
   * onnxruntime intra-op threads. Default: the number of cores minus one (at least 1), leaving a core for
   * decoding pictures and writing results, which run at the same time (measured in bench/RESULTS.md).
   */
  threads?: number;
  /** The onnxruntime device (cpu, webgpu, dml, cuda; default cpu), resolved by main/services/device. */
  device?: Device;
  /** Labels kept per image, most probable first (default 3, at most the number of classes). */
  topK?: number;
  /** Under this top probability the label is 'uncertain' (default 0: never). */
  threshold?: number;
  /** Write an overlay PNG per image under <out>/heatmaps/ (default false). */
  heatmaps?: boolean;
  /** Which map the overlay shows (default 'combined'). */
  level?: MapLevel;
  colormap?: ColormapName;
  opacity?: number;
  /** Add a colour bar to each overlay (default false). */
  legend?: boolean;
  /**
   * Side of the overlays in pixels. The picture is decoded again at this size with the model's resize
   * policy, so an overlay covers exactly what the model saw. Default: the picture's own resolution (its
   * shorter side) capped at 256, and never under S; at S the model's input pixels are reused.
   */
  overlaySize?: number;
  /** PNG zlib level of the overlays, 0-9 (default 3: measured as large as 6 on photos, and faster). */
  pngCompression?: number;
  /** Also write the raw maps per image, as one .json (all levels) or one .npy per level (default none). */
  rawMaps?: 'json' | 'npy';
  /** Copy (or link) each classified file into <sortInto>/<label>/. */
  sortInto?: string;
  /** With sortInto: symbolic links instead of copies. */
  link?: boolean;
  /** Skip files already in <out>/results.jsonl with the same size and modification time. */
  resume?: boolean;
  /** Classify only this shard of the input (input number mod count = index). */
  shard?: Shard;
  /** Stop after this many inputs (of the shard). */
  limit?: number;
  /** Files decoded at once (default 4). */
  decodeConcurrency?: number;
  /** Run onnxruntime in a worker thread (default true). */
  worker?: boolean;
  /** Flush the rows and rewrite summary.json at least this often while running (default 10 s). */
  saveEverySeconds?: number;
  /** Stops after the batch in progress; the results so far are saved and `resume` continues. */
  signal?: AbortSignal;
  onProgress?: (progress: ClassifyProgress) => void;
}

export interface ClassifyProgress {
  /** Files finished (classified or failed), including those taken from earlier results. */
  done: number;
  /** Files of this run's input (its shard, up to its limit); `done` when not known (a list on stdin). */
  total: number;
  /** False when the input could not be counted ahead (a list on standard input). */
  totalKnown: boolean;
  failed: number;
  /** Taken from earlier results (resume). */
  resumed: number;
  /** Files finished by this run per second of its wall time. */
  imagesPerSecond: number;
  /** Seconds left at that rate (Infinity before the first batch). */
  etaSeconds: number;
}

export interface ClassifyOutcome {
  status: 'completed' | 'cancelled';
  outDir: string;
  /** results.jsonl: one row per input. */
  rowsPath: string;
  csvPath: string;
  summaryPath: string;
  summary: ResultsSummary;
}

export class ClassifyError extends Error {
  override name = 'ClassifyError';
}

interface Prepared {
  unit: Unit;
  /** NCHW batch of the decoded files, in `kept` order. */
  x: Float32Array;
  kept: {
    file: IndexedFile;
    decodeMs: number;
    bytes: number;
    mtimeMs: number;
    /** The decoded S x S picture, kept when the overlay is drawn at S. */
    pixels: Uint8Array | null;
    sourceWidth: number;
    sourceHeight: number;
  }[];
  failed: ImageResult[];
}

export function defaultClassifyThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

function checkOptions(o: ClassifyOptions): void {
  const int = (name: string, v: number | undefined, min: number): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min))
      throw new ClassifyError(`${name} must be a whole number of at least ${min}, got ${v}.`);
  };
  int('The batch size', o.batch, 1);
  int('The number of threads', o.threads, 1);
  int('top-k', o.topK, 1);
  int('The overlay size', o.overlaySize, 8);
  if (
    o.pngCompression !== undefined &&
    !(Number.isInteger(o.pngCompression) && o.pngCompression >= 0 && o.pngCompression <= 9)
  )
    throw new ClassifyError(
      `The PNG compression level must be a whole number from 0 to 9, got ${o.pngCompression}.`,
    );
  int('The decode concurrency', o.decodeConcurrency, 1);
  int('The limit', o.limit, 1);
  if (o.threshold !== undefined && !(o.threshold >= 0 && o.threshold <= 1))
    throw new ClassifyError(`The threshold must be between 0 and 1, got ${o.threshold}.`);
  if (o.opacity !== undefined && !(o.opacity >= 0 && o.opacity <= 1))
    throw new ClassifyError(`The opacity must be between 0 and 1, got ${o.opacity}.`);
  if (o.link && !o.sortInto) throw new ClassifyError('--link only makes sense with --sort-into.');
}

function topLabels(probs: Float32Array, classes: readonly string[], k: number): TopLabel[] {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  return order.slice(0, k).map((i) => ({ label: classes[i], probability: probs[i] }));
}

function failedResult(file: IndexedFile, raw: unknown, ms: number): ImageResult {
  let error = raw;
  if (!(raw instanceof ImageError) && (raw as NodeJS.ErrnoException | undefined)?.code !== undefined)
    error = imageErrorFromFileSystem(raw, file.path); // gone since the walk, permissions, ...
  const info =
    error instanceof ImageError
      ? { reason: error.reason, message: error.message }
      : {
          reason: 'corrupt',
          message: `The image could not be prepared (${(error as Error).message ?? String(error)}).`,
        };
  return {
    index: file.index,
    file: file.file,
    path: file.path,
    status: 'failed',
    label: null,
    uncertain: false,
    top: [],
    ms,
    error: info,
    bytes: -1,
    mtimeMs: -1,
  };
}

/** Row-major HWC float (normaliseRgb8's output) to CHW at `offset` of `out`. */
function hwcToChw(hwc: Float32Array, size: number, out: Float32Array, offset: number): void {
  const plane = size * size;
  for (let p = 0; p < plane; p++) {
    out[offset + p] = hwc[p * 3];
    out[offset + plane + p] = hwc[p * 3 + 1];
    out[offset + 2 * plane + p] = hwc[p * 3 + 2];
  }
}

/** Map k of image i of a batch output [N, h, w]. */
function mapOf(output: { shape: number[]; data: Float32Array }, i: number): AttentionMap {
  const [, h, w] = output.shape;
  return { width: w, height: h, data: output.data.slice(i * h * w, (i + 1) * h * w) };
}

function rawMapsJson(maps: readonly AttentionMap[]): string {
  return `${JSON.stringify({
    format: 'attnvgg-attention-maps/1',
    note: 'attention_k[y][x] as the model output it (softmax maps sum to 1 over positions), before any normalisation for display',
    maps: maps.map((m, k) => ({
      level: k + 1,
      height: m.height,
      width: m.width,
      values: Array.from({ length: m.height }, (_, y) =>
        Array.from(m.data.subarray(y * m.width, (y + 1) * m.width), (v) => Number(v.toPrecision(7))),
      ),
    })),
  })}\n`;
}

/** The settings recorded with the results (what shapes a row, and the speed knobs). */
function settingsOf(
  o: ClassifyOptions,
  topK: number,
  batch: number,
  threads: number,
  sortRoot: string | null,
): ClassifySettings {
  return {
    topK,
    threshold: o.threshold ?? 0,
    batch,
    threads,
    device: o.device ?? 'cpu',
    heatmaps: o.heatmaps ?? false,
    level: String(o.level ?? 'combined'),
    colormap: o.colormap ?? 'turbo',
    opacity: o.opacity ?? DEFAULT_OVERLAY_OPACITY,
    sortInto: sortRoot,
    link: o.link ?? false,
    overlaySize: o.overlaySize ?? null,
    legend: o.legend ?? false,
    rawMaps: o.rawMaps ?? null,
  };
}

/**
 * Classifies every image of `inputs` (folders, recursively, and files; or a `--files-from` list) with
 * the exported model at `modelPath` (its sidecar beside it), appending results.jsonl and results.csv in
 * `outDir` and keeping summary.json there, plus the optional outputs. Throws ClassifyError, SidecarError,
 * ModelFileError or InputError for unusable arguments; files that cannot be read are rows with a reason.
 */
export async function classifyFolder(
  modelPath: string,
  inputs: readonly string[] | InputSpec,
  outDir: string,
  options: ClassifyOptions = {},
): Promise<ClassifyOutcome> {
  checkOptions(options);
  const started = performance.now();
  const { sidecar } = await readSidecar(resolve(modelPath));
  const out = resolve(outDir);
  const sortRoot = options.sortInto ? resolve(options.sortInto) : null;
  const heatmaps = options.heatmaps ?? false;
  const wantMaps = heatmaps || options.rawMaps !== undefined;
  if (wantMaps && sidecar.outputs.attention.length === 0)
    throw new ClassifyError(
      'This model was trained without attention (--no-attention), so it has no attention maps to draw.',
    );
  const spec: InputSpec = 'length' in inputs ? { paths: inputs as readonly string[] } : inputs;
  const classes = sidecar.classes;
  const topK = Math.min(options.topK ?? DEFAULT_TOP_K, classes.length);
  const threshold = options.threshold ?? 0;
  const batchSize = options.batch ?? DEFAULT_BATCH;
  const threads = options.threads ?? defaultClassifyThreads();
  const settings = settingsOf(options, topK, batchSize, threads, sortRoot);
  const level = options.level ?? 'combined';
  const pre = preprocessingOf(sidecar);
  const size = pre.size;
  const decode: DecodeOptions = {
    size,
    resize: pre.resize,
    kernel: pre.kernel,
    alphaBackground: pre.alphaBackground,
    padColour: pre.padColour,
  };
  const overlaySide = (sourceWidth: number, sourceHeight: number): number =>
    options.overlaySize ??
    Math.max(size, Math.min(DEFAULT_OVERLAY_SIZE, Math.min(sourceWidth, sourceHeight)));

  const shard = options.shard ?? null;
  const limit = options.limit ?? null;
  const exclude = sortRoot ? [out, sortRoot] : [out];
  // The input read once ahead (not standard input): a missing input is refused before anything is
  // written, and the progress has a total.
  const plan = spec.list === STDIN_LIST ? null : await planInputs(spec, exclude, shard?.count ?? 1, limit);
  const total = plan ? plan.shards[shard?.index ?? 0].files : null;
  await mkdir(out, { recursive: true });
  const input = openInputs(spec, exclude, shard, limit);
  const run = await RunResults.open(out, modelPath, sidecar, settings, input, plan, options.resume ?? false);
  let runner: InferenceRunner | null = null;
  const openRunner = async (): Promise<InferenceRunner> =>
    openInference(resolve(modelPath), {
      threads,
      worker: options.worker,
      expect: expectationsOf(sidecar),
      device: options.device,
    });
  try {
    if (total !== 0) runner = await openRunner();
    await run.begin();
  } catch (error) {
    await runner?.close();
    await run.end(false);
    throw error;
  }
  const progress = (): void => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? run.classifiedNow / seconds : 0;
    const done = run.writer.counts.images;
    const left = Math.max(0, (total ?? done) - done);
    options.onProgress?.({
      done,
      total: total ?? done,
      totalKnown: total !== null,
      failed: run.writer.counts.failed,
      resumed: run.tally.resumed,
      imagesPerSecond: rate,
      etaSeconds: rate > 0 ? left / rate : left === 0 ? 0 : Infinity,
    });
  };

  const decodeSlots = createSemaphore(options.decodeConcurrency ?? 4);
  const postSlots = createSemaphore(options.decodeConcurrency ?? 4);
  const perImage = 3 * size * size;

  const prepare = async (unit: Unit): Promise<Prepared> => {
    const decoded = await Promise.all(
      unit.todo.map((file) =>
        decodeSlots.run(async () => {
          const t0 = performance.now();
          let s: { size: number; mtimeMs: number } | null = null;
          try {
            s = await stat(file.path);
            const image = await decodeImageRgb8(file.path, decode);
            return {
              file,
              image,
              ms: performance.now() - t0,
              bytes: s.size,
              mtimeMs: s.mtimeMs,
            };
          } catch (error) {
            return { file, error, ms: performance.now() - t0, bytes: s?.size, mtimeMs: s?.mtimeMs };
          }
        }),
      ),
    );
    const kept: Prepared['kept'] = [];
    const failed: ImageResult[] = [];
    const okCount = decoded.filter((d) => 'image' in d).length;
    const x = new Float32Array(okCount * perImage);
    const hwc = new Float32Array(perImage);
    for (const d of decoded) {
      if ('image' in d && d.image) {
        const { image } = d;
        normaliseRgb8(image.data, { mean: pre.mean, std: pre.std }, hwc, 0);
        hwcToChw(hwc, size, x, kept.length * perImage);
        const reuse = heatmaps && overlaySide(image.sourceWidth, image.sourceHeight) === size;
        kept.push({
          file: d.file,
          decodeMs: d.ms,
          bytes: d.bytes ?? 0,
          mtimeMs: d.mtimeMs ?? 0,
          pixels: reuse ? image.data : null,
          sourceWidth: image.sourceWidth,
          sourceHeight: image.sourceHeight,
        });
      } else
        failed.push({
          ...failedResult(d.file, (d as { error: unknown }).error, d.ms),
          bytes: d.bytes ?? -1,
          mtimeMs: d.mtimeMs ?? -1,
        });
    }
    return { unit, x, kept, failed };
  };

  const madeFolders = new Map<string, Promise<void>>();
  /** Per-image files: atomic (never half-written) but not flushed one by one (thousands of them). */
  const writeBulkFile = (path: string, data: Uint8Array | string): Promise<void> =>
    writeFileAtomic(path, data, { durable: false });

  const writeOutputs = async (
    entry: Prepared['kept'][number],
    maps: AttentionMap[],
  ): Promise<{ overlay?: string; maps?: string[] }> => {
    const { file } = entry;
    const written: { overlay?: string; maps?: string[] } = {};
    const base = join(out, HEATMAPS_FOLDER, ...file.key.split('/'));
    const folder = dirname(base);
    if (!madeFolders.has(folder)) {
      madeFolders.set(
        folder,
        mkdir(folder, { recursive: true }).then(() => undefined),
      );
    }
    await madeFolders.get(folder);
    if (heatmaps) {
      const side = overlaySide(entry.sourceWidth, entry.sourceHeight);
      const pixels = entry.pixels ?? (await decodeImageRgb8(file.path, { ...decode, size: side })).data;
      const png = await renderAttentionOverlay({ width: side, height: side, data: pixels }, maps, {
        level,
        colormap: options.colormap ?? 'turbo',
        opacity: settings.opacity,
        legend: settings.legend,
        compressionLevel: options.pngCompression ?? 3,
      });
      await writeBulkFile(`${base}.png`, png);
      written.overlay = relativeSlashes(out, `${base}.png`);
    }
    if (options.rawMaps === 'json') {
      await writeBulkFile(`${base}.maps.json`, rawMapsJson(maps));
      written.maps = [relativeSlashes(out, `${base}.maps.json`)];
    } else if (options.rawMaps === 'npy') {
      written.maps = [];
      for (let k = 0; k < maps.length; k++) {
        const path = `${base}.attention_${k + 1}.npy`;
        await writeBulkFile(path, encodeNpyFloat32([maps[k].height, maps[k].width], maps[k].data));
        written.maps.push(relativeSlashes(out, path));
      }
    }
    return written;
  };

  const post = async (
    batch: Prepared,
    result: { outputs: Record<string, { shape: number[]; data: Float32Array }>; ms: number } | null,
  ): Promise<void> => {
    const made = new Map<number, ImageResult>(batch.failed.map((f) => [f.index, f]));
    if (result) {
      const probs = result.outputs[sidecar.outputs.probabilities];
      const n = batch.kept.length;
      const share = result.ms / Math.max(1, n);
      await Promise.all(
        batch.kept.map((entry, i) =>
          postSlots.run(async () => {
            const p = probs.data.subarray(i * classes.length, (i + 1) * classes.length);
            const top = topLabels(p, classes, topK);
            const uncertain = top[0].probability < threshold;
            const label = uncertain ? UNCERTAIN_LABEL : top[0].label;
            const r: ImageResult = {
              index: entry.file.index,
              file: entry.file.file,
              path: entry.file.path,
              status: 'ok',
              label,
              uncertain,
              top,
              ms: entry.decodeMs + share,
              bytes: entry.bytes,
              mtimeMs: entry.mtimeMs,
            };
            if (wantMaps) {
              const maps = sidecar.outputs.attention.map((a) => mapOf(result.outputs[a.name], i));
              Object.assign(r, await writeOutputs(entry, maps));
            }
            if (sortRoot) {
              try {
                r.sortedTo = await sortFile(entry.file.path, sortRoot, label, options.link ? 'link' : 'copy');
              } catch (e) {
                r.sortError = `Could not ${options.link ? 'link' : 'copy'} it into ${sortRoot}: ${(e as Error).message}`;
              }
            }
            made.set(r.index, r);
          }),
        ),
      );
    }
    await run.writer.append(
      batch.unit.slots.map((slot) => ('row' in slot ? slot.row : (made.get(slot.todo.index) as ImageResult))),
    );
    run.classifiedNow += batch.unit.todo.length;
    progress();
  };

  let cancelled = false;
  let failure: { error: unknown } | null = null;
  const saveEvery = (options.saveEverySeconds ?? 10) * 1000;
  let lastSave = performance.now();
  const units = batchUnits(input.items, run.earlier, batchSize, run.tally);
  const ahead: Promise<Prepared | null>[] = [];
  try {
    progress();
    const wanted = [
      sidecar.outputs.probabilities,
      ...(wantMaps ? sidecar.outputs.attention.map((a) => a.name) : []),
    ];
    // Units k + 1 and k + 2 are being decoded while unit k runs: two in flight so the decode slots never
    // idle at the end of a batch (the semaphore serves the earlier unit first).
    const pull = async (): Promise<Prepared | null> => {
      const next = await units.next();
      return next.done ? null : prepare(next.value);
    };
    const fill = (): void => {
      while (ahead.length < PREFETCH_BATCHES) ahead.push(pull());
    };
    fill();
    let posting: Promise<void> = Promise.resolve();
    for (;;) {
      if (options.signal?.aborted) {
        cancelled = true;
        break;
      }
      const batch = await (ahead.shift() as Promise<Prepared | null>);
      if (!batch) break;
      fill();
      const n = batch.kept.length;
      if (n > 0) runner ??= await openRunner(); // standard input: not counted ahead
      const result =
        n > 0 && runner ? await runner.run({ shape: [n, 3, size, size], data: batch.x }, wanted) : null;
      await posting;
      posting = post(batch, result);
      if (performance.now() - lastSave > saveEvery) {
        await posting;
        await run.save();
        lastSave = performance.now();
      }
    }
    await posting;
  } catch (error) {
    failure = { error };
  }
  await Promise.all(ahead.map((p) => p.catch(() => undefined)));
  await units.return(undefined);
  await (runner as InferenceRunner | null)?.close();
  if (failure) {
    await run.end(false).catch(() => undefined);
    throw failure.error;
  }
  const summary = await run.end(!cancelled);
  progress();
  return {
    status: cancelled ? 'cancelled' : 'completed',
    outDir: out,
    rowsPath: join(out, RESULTS_JSONL),
    csvPath: join(out, RESULTS_CSV),
    summaryPath: join(out, SUMMARY_JSON),
    summary,
  };
}

export type { ModelSidecar };
