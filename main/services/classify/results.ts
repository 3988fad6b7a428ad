// The results of a classification run: one row per file (its input index, top-k labels and probabilities,
// time, the heat-map files, or the reason the file could not be used), their summary and CSV form, and
// the whole-set results.json (format attnvgg-classify/1) that the app's export writes and that folders
// classified by earlier versions hold. How rows are stored while a run goes on (results.jsonl, appended)
// is result-files.ts. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../storage/atomic-write.js';

export const RESULTS_FORMAT = 'attnvgg-classify/1';
export const RESULTS_JSON = 'results.json';
export const RESULTS_CSV = 'results.csv';

export interface TopLabel {
  label: string;
  probability: number;
}

export interface ImageResult {
  /** Position in the input (the walk of the folders, or the line of the file list, blank lines left out). */
  index: number;
  /** The path as found (the input as given, joined with the path below it). */
  file: string;
  /** Absolute path. */
  path: string;
  status: 'ok' | 'failed';
  /** The top label, or 'uncertain' when its probability is under the threshold; null when failed. */
  label: string | null;
  /** True when the top probability is under the threshold. */
  uncertain: boolean;
  /** The k most probable classes, most probable first (empty when failed). */
  top: TopLabel[];
  /** Milliseconds spent on this file: its decoding plus its share of the batch's inference. */
  ms: number;
  /** Overlay PNG, relative to the output folder. */
  overlay?: string;
  /** Raw attention maps (.json or .npy), relative to the output folder. */
  maps?: string[];
  /** Where --sort-into put the file (absolute). */
  sortedTo?: string;
  /** Why sorting the file failed (the classification itself stands). */
  sortError?: string;
  /** Why the file could not be classified. */
  error?: { reason: string; message: string };
  /**
   * Size and modification time when classified: --resume classifies a changed file again. -1 when the
   * file could not even be opened (--resume tries it again).
   */
  bytes: number;
  mtimeMs: number;
}

export interface SkippedEntry {
  file: string;
  reason: string;
  message: string;
}

export interface ClassifySettings {
  topK: number;
  threshold: number;
  batch: number;
  threads: number;
  /** The onnxruntime device that ran the model (absent in results from before devices: cpu). */
  device?: string;
  heatmaps: boolean;
  level: string;
  colormap: string;
  opacity: number;
  sortInto: string | null;
  link: boolean;
  /** Overlay side in pixels; null: the picture's own (capped). */
  overlaySize?: number | null;
  legend?: boolean;
  rawMaps?: 'json' | 'npy' | null;
}

export interface ClassifySummary {
  images: number;
  ok: number;
  failed: number;
  uncertain: number;
  /** Files per label (ok files only; 'uncertain' included). */
  byLabel: Record<string, number>;
  /** Wall time of this run (not of earlier, resumed runs). */
  seconds: number;
  /** Files classified by this run per second of its wall time. */
  imagesPerSecond: number;
}

export interface ClassifyResults {
  format: typeof RESULTS_FORMAT;
  model: { path: string; modelId: string; classes: string[] };
  settings: ClassifySettings;
  startedAt: string;
  updatedAt: string;
  /** False while the run is going on or when it was stopped: --resume continues it. */
  complete: boolean;
  summary: ClassifySummary;
  /** Hidden files, OS junk and folders reached twice: left out on purpose. */
  skipped: SkippedEntry[];
  results: ImageResult[];
}

export class ResultsError extends Error {
  override name = 'ResultsError';
}

/** A tally with no rows yet; countRow adds them one at a time, so millions of rows are never held. */
export function emptySummary(): ClassifySummary {
  return { images: 0, ok: 0, failed: 0, uncertain: 0, byLabel: {}, seconds: 0, imagesPerSecond: 0 };
}

export function countRow(summary: ClassifySummary, r: ImageResult): void {
  summary.images++;
  if (r.status !== 'ok' || r.label === null) {
    summary.failed++;
    return;
  }
  summary.ok++;
  if (r.uncertain) summary.uncertain++;
  summary.byLabel[r.label] = (summary.byLabel[r.label] ?? 0) + 1;
}

/** The tally of `counted` with this run's wall time and rate (files classified by this run). */
export function withTiming(
  counted: ClassifySummary,
  seconds: number,
  classifiedNow: number,
): ClassifySummary {
  return {
    ...counted,
    byLabel: { ...counted.byLabel },
    seconds,
    imagesPerSecond: seconds > 0 ? classifiedNow / seconds : 0,
  };
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, or line break. */
function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? String(value) : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header line of results.csv (with its line break): file, status, label, top1, p1 .. topK, pK, ms, ... */
export function csvHeader(topK: number): string {
  const header = ['file', 'status', 'label'];
  for (let i = 1; i <= topK; i++) header.push(`top${i}`, `p${i}`);
  header.push('ms', 'overlay', 'sorted_to', 'error_reason', 'error');
  return `${header.join(',')}\r\n`;
}

/** One line of results.csv (with its line break). */
export function csvLine(r: ImageResult, topK: number): string {
  const row: (string | number | null | undefined)[] = [r.file, r.status, r.label];
  for (let i = 0; i < topK; i++) {
    const t = r.top[i];
    row.push(t?.label, t === undefined ? undefined : Number(t.probability.toFixed(6)));
  }
  row.push(Number(r.ms.toFixed(2)), r.overlay, r.sortedTo, r.error?.reason, r.error?.message);
  return `${row.map(csvField).join(',')}\r\n`;
}

/** results.csv: file, status, label, top1, p1 .. topK, pK, ms, overlay, sorted_to, error_reason, error. */
export function resultsCsv(results: ClassifyResults): string {
  const k = results.settings.topK;
  return csvHeader(k) + results.results.map((r) => csvLine(r, k)).join('');
}

/** Writes the whole set as results.json at `path`, atomically (the app's export). */
export async function writeResultsJson(path: string, results: ClassifyResults): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(results, null, 1)}\n`);
}

/**
 * The results.json in `outDir` (written whole by versions before results.jsonl), or null when there is
 * none. Throws ResultsError when it is damaged.
 */
export async function readResults(outDir: string): Promise<ClassifyResults | null> {
  const path = join(outDir, RESULTS_JSON);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ResultsError(`The earlier results ${path} cannot be read (${(e as Error).message}).`);
  }
  try {
    const results = JSON.parse(text) as ClassifyResults;
    if (results.format !== RESULTS_FORMAT || !Array.isArray(results.results)) throw new Error('format');
    return results;
  } catch {
    throw new ResultsError(
      `The earlier results ${path} are damaged, so --resume cannot use them. Remove the file or choose another output folder.`,
    );
  }
}
