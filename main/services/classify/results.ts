// The results of a classification run: one row per file (top-k labels and probabilities, time, the
// heat-map files, or the reason the file could not be used), written as results.json (everything,
// machine-readable) and results.csv (one line per file, for spreadsheets), both atomically (temporary
// file, fsync, rename) so a reader or a run killed at any moment sees a whole file. results.json is what
// `--resume` reads back. Must not import electron or anything from main/electron, main/server, main/cli
// or renderer.

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

export function summarise(
  results: readonly ImageResult[],
  seconds: number,
  classifiedNow: number,
): ClassifySummary {
  const byLabel: Record<string, number> = {};
  let ok = 0;
  let uncertain = 0;
  for (const r of results) {
    if (r.status !== 'ok' || r.label === null) continue;
    ok++;
    if (r.uncertain) uncertain++;
    byLabel[r.label] = (byLabel[r.label] ?? 0) + 1;
  }
  return {
    images: results.length,
    ok,
    failed: results.length - ok,
    uncertain,
    byLabel,
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

/** results.csv: file, status, label, top1, p1 .. topK, pK, ms, overlay, error_reason, error. */
export function resultsCsv(results: ClassifyResults): string {
  const k = results.settings.topK;
  const header = ['file', 'status', 'label'];
  for (let i = 1; i <= k; i++) header.push(`top${i}`, `p${i}`);
  header.push('ms', 'overlay', 'sorted_to', 'error_reason', 'error');
  const lines = [header.join(',')];
  for (const r of results.results) {
    const row: (string | number | null | undefined)[] = [r.file, r.status, r.label];
    for (let i = 0; i < k; i++) {
      const t = r.top[i];
      row.push(t?.label, t === undefined ? undefined : Number(t.probability.toFixed(6)));
    }
    row.push(Number(r.ms.toFixed(2)), r.overlay, r.sortedTo, r.error?.reason, r.error?.message);
    lines.push(row.map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Writes results.json and results.csv into `outDir`, each atomically. */
export async function writeResults(outDir: string, results: ClassifyResults): Promise<void> {
  await writeFileAtomic(join(outDir, RESULTS_JSON), `${JSON.stringify(results, null, 1)}\n`);
  await writeFileAtomic(join(outDir, RESULTS_CSV), resultsCsv(results));
}

/** The results.json in `outDir`, or null when there is none. Throws ResultsError when it is damaged. */
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
