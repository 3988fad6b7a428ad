// API handlers for classifying a folder with an exported model: start a job (a task worker; progress as
// 'classify' events), cancel it, list the jobs, page through its result rows, and copy its results files
// and overlays into a folder the user picks. Must not import electron or renderer.
import { access, copyFile, cp, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import {
  ApiError,
  type ApiHandlers,
  type ClassifyJob,
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
import { ClassifyJobConflictError, type ClassifyJobRecord } from '../../services/jobs/index.js';
import type { BackendContext } from '../backend-context.js';
import { requireFolder } from './datasets-handlers.js';
import { refuseWhileHeavyJobRuns } from './heavy-jobs.js';
import { listModels } from './models-handlers.js';

type ClassifyHandlers = Pick<
  ApiHandlers,
  'classify.start' | 'classify.cancel' | 'classify.jobs' | 'classify.results' | 'classify.export'
>;

const DEFAULT_PAGE = 100;

/** The API's view of a job record (the record minus its file format tag). */
export function jobOf(record: ClassifyJobRecord): ClassifyJob {
  const { format: _format, ...job } = record;
  return job;
}

/** A job's results (results.jsonl + summary.json, or an older job's results.json), read once per version. */
const resultsCache = new Map<string, { key: string; results: ClassifyResults }>();

async function readJobResults(outDir: string): Promise<ClassifyResults | null> {
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

export function classifyHandlers(context: BackendContext): ClassifyHandlers {
  const { workspace, classify } = context;

  const requireJob = async (jobId: string): Promise<ClassifyJobRecord> => {
    const job = await classify.get(jobId);
    if (!job) throw new ApiError('not-found', 'That classification is no longer in the workspace.');
    return job;
  };

  return {
    'classify.start': async ({ modelId, folder, options }) => {
      const model = (await listModels(workspace)).find((m) => m.entry.id === modelId);
      if (!model)
        throw new ApiError(
          'not-found',
          'That model is no longer in the workspace: export a run on the Models screen, then choose it here.',
        );
      const root = await requireFolder(folder);
      const chosen = options ?? {
        heatmaps: true,
        level: 'combined',
        colormap: 'turbo',
        opacity: 0.5,
        threshold: 0,
      };
      if (chosen.heatmaps && model.sidecar.outputs.attention.length === 0)
        throw new ApiError(
          'bad-request',
          'This model was trained without attention, so it has no maps to draw: switch heat-maps off.',
        );
      refuseWhileHeavyJobRuns(context, 'classify');
      try {
        const record = await classify.start({
          id: workspace.newClassifyJobId(root),
          modelId,
          modelPath: model.entry.path,
          classes: model.entry.classes,
          folder: root,
          options: chosen,
        });
        return jobOf(record);
      } catch (error) {
        if (error instanceof ClassifyJobConflictError) throw new ApiError('conflict', error.message);
        throw error;
      }
    },

    'classify.cancel': async ({ jobId }) => {
      const job = await requireJob(jobId);
      if (!classify.cancel(jobId)) return jobOf(job);
      return jobOf((await classify.get(jobId)) ?? job);
    },

    'classify.jobs': async () => (await classify.list()).map(jobOf),

    'classify.results': async ({ jobId, show, label, offset, limit }) => {
      const job = await requireJob(jobId);
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
    },

    'classify.export': async ({ jobId, folder, overwrite }) => {
      const job = await requireJob(jobId);
      if (classify.isRunning(jobId))
        throw new ApiError('conflict', 'That folder is still being classified: export when it has finished.');
      const target = await requireFolder(folder);
      if (target === job.outDir) throw new ApiError('bad-request', 'Choose a folder outside the workspace.');
      const csv = join(target, RESULTS_CSV);
      const json = join(target, RESULTS_JSON);
      const heatmaps = join(target, HEATMAPS_FOLDER);
      if (!overwrite) {
        const taken = [];
        for (const p of [csv, json, heatmaps]) if (await exists(p)) taken.push(p);
        if (taken.length > 0)
          throw new ApiError(
            'conflict',
            `${taken.join(', ')} already ${taken.length === 1 ? 'exists' : 'exist'} there: choose another folder, or replace ${taken.length === 1 ? 'it' : 'them'}.`,
          );
      }
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
        if (overlays > 0)
          await cp(join(job.outDir, HEATMAPS_FOLDER), heatmaps, { recursive: true, force: true });
        return { folder: target, csv, json, overlays };
      } catch (error) {
        throw new ApiError(
          'failed',
          `Could not write the results into ${target}: ${(error as Error).message}`,
        );
      }
    },
  };
}
