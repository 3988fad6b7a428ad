// A classification job's results as the API shows them: read once per version of its files (results.jsonl
// + summary.json, or an older job's results.json), paged through with a filter, and copied with their
// overlays into a folder the user picks. Must not import electron or renderer.
import { access, copyFile, cp, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import {
  ApiError,
  type ApiParsedRequest,
  type ClassifyExport,
  type ClassifyResultsPage,
  type ClassifyRow,
  type ClassifyRowFilter,
} from '../../api/index.js';
import {
  HEATMAPS_FOLDER,
  RESULTS_CSV,
  RESULTS_JSON,
  RESULTS_JSONL,
  SUMMARY_JSON,
  loadResults,
  writeResultsJson,
  type ClassifyResults,
} from '../../services/classify/index.js';
import type { ClassifyJobRecord } from '../../services/jobs/index.js';

const DEFAULT_PAGE = 100;

/** A job's results (results.jsonl + summary.json, or an older job's results.json), read once per version. */
const resultsCache = new Map<string, { key: string; results: ClassifyResults }>();

export async function readJobResults(outDir: string): Promise<ClassifyResults | null> {
  const versions = await Promise.all(
    [SUMMARY_JSON, RESULTS_JSONL, RESULTS_JSON].map((name) => stat(join(outDir, name)).catch(() => null)),
  );
  if (versions.every((v) => v === null)) return null;
  const key = versions.map((v) => (v ? `${v.size}:${v.mtimeMs}` : '-')).join('|');
  const cached = resultsCache.get(outDir);
  if (cached?.key === key) return cached.results;
  let results: ClassifyResults | null;
  try {
    results = await loadResults(outDir);
    if (results && !Array.isArray(results.results)) throw new Error('format');
  } catch {
    throw new ApiError('failed', `The results in ${outDir} are damaged; classify the folder again.`);
  }
  if (!results) return null;
  resultsCache.set(outDir, { key, results });
  return results;
}

function matches(r: ClassifyResults['results'][number], show: ClassifyRowFilter, label?: string): boolean {
  if (label !== undefined && r.label !== label) return false;
  if (show === 'ok') return r.status === 'ok';
  if (show === 'problems') return r.status === 'failed';
  if (show === 'uncertain') return r.status === 'ok' && r.uncertain;
  return true;
}

/** The picture's path below the classified folder, '/' separators (the full path when it is elsewhere). */
function shownName(folder: string, path: string): string {
  const rel = relative(folder, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** One page of the job's rows that match the request's filter, and how many match in all. */
export async function resultsPage(
  job: ClassifyJobRecord,
  { jobId, show, label, offset, limit }: ApiParsedRequest<'classify.results'>,
): Promise<ClassifyResultsPage> {
  const results = await readJobResults(job.outDir);
  const start = offset ?? 0;
  const rows: ClassifyRow[] = [];
  let total = 0;
  const end = start + (limit ?? DEFAULT_PAGE);
  (results?.results ?? []).forEach((r, index) => {
    if (!matches(r, show ?? 'all', label)) return;
    if (total >= start && total < end)
      rows.push({
        index,
        path: r.path,
        file: shownName(job.folder, r.path),
        status: r.status,
        label: r.label,
        uncertain: r.uncertain,
        top: r.top,
        overlay: r.overlay ? join(job.outDir, ...r.overlay.split('/')) : null,
        ...(r.error ? { error: r.error } : {}),
      });
    total++;
  });
  return {
    jobId,
    total,
    offset: start,
    rows,
    partial: job.status === 'running' || !(results?.complete ?? false),
    skipped: results?.skipped.length ?? 0,
  };
}

/** Refuses to replace results files already in `target` unless asked to. */
async function refuseTaken(paths: readonly string[]): Promise<void> {
  const taken = [];
  for (const p of paths) if (await exists(p)) taken.push(p);
  if (taken.length > 0)
    throw new ApiError(
      'conflict',
      `${taken.join(', ')} already ${taken.length === 1 ? 'exists' : 'exist'} there: choose another folder, or replace ${taken.length === 1 ? 'it' : 'them'}.`,
    );
}

/** Copies the ended job's results.csv, its results as one results.json, and its overlays into `target`. */
export async function exportJobResults(
  job: ClassifyJobRecord,
  target: string,
  overwrite: boolean | undefined,
): Promise<ClassifyExport> {
  const csv = join(target, RESULTS_CSV);
  const json = join(target, RESULTS_JSON);
  const heatmaps = join(target, HEATMAPS_FOLDER);
  if (!overwrite) await refuseTaken([csv, json, heatmaps]);
  const results = await readJobResults(job.outDir);
  if (!results)
    throw new ApiError(
      'not-available',
      'This classification has no results to export (it ended before the first batch).',
    );
  try {
    await copyFile(join(job.outDir, RESULTS_CSV), csv);
    await writeResultsJson(json, results);
    const overlays = results.results.filter((r) => r.overlay).length;
    if (overlays > 0) await cp(join(job.outDir, HEATMAPS_FOLDER), heatmaps, { recursive: true, force: true });
    return { folder: target, csv, json, overlays };
  } catch (error) {
    throw new ApiError('failed', `Could not write the results into ${target}: ${(error as Error).message}`);
  }
}
