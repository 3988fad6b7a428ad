// What `classifyFolder` (classify-folder.ts) is asked and answers: its options with their defaults and
// checks, its progress and outcome, its error class, and the settings recorded with the results. Must
// not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { availableParallelism } from 'node:os';
import type { Device } from '../../../models/onnx/device.js';
import type { MapLevel } from '../heatmaps/attention-map.js';
import type { ColormapName } from '../heatmaps/colormap.js';
import { DEFAULT_OVERLAY_OPACITY } from '../heatmaps/render-overlay.js';
import type { ResultsSummary } from './result-files.js';
import type { ClassifySettings } from './results.js';
import type { Shard } from './shard.js';

export const UNCERTAIN_LABEL = 'uncertain';
export const DEFAULT_BATCH = 32;
export const DEFAULT_TOP_K = 3;
export const DEFAULT_OVERLAY_SIZE = 256;
export const HEATMAPS_FOLDER = 'heatmaps';

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

/** The default onnxruntime threads: a core is left for decoding and writing (ClassifyOptions.threads). */
export function defaultClassifyThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** Throws ClassifyError for an option out of its range, before anything is read or written. */
export function checkClassifyOptions(o: ClassifyOptions): void {
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

/** The settings recorded with the results (what shapes a row, and the speed knobs). */
export function classifySettingsOf(
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
