// API handlers for "Does attention help on my data?": start a comparison of the attention model against
// the plain VGG16_bn head on a dataset of the workspace (in a task worker; progress as 'compare' and
// 'compare-job' events), cancel it, list the comparisons, read one with its report and both models'
// training history, and hand a browser the self-contained HTML report (only the compare.html of a
// comparison of this workspace, found by its id: no path comes from the request). What they share with
// the classification's handlers is task-job-handling.ts. Must not import electron or renderer.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiError,
  type ApiHandlers,
  type CompareDetails,
  type CompareJob,
  type TrainingSettings,
} from '../../api/index.js';
// compare-report.ts only (zod): the service's index would load TensorFlow.js into this thread.
import { parseCompareReport, type CompareReport } from '../../services/compare/compare-report.js';
import type { CompareJobRecord } from '../../services/jobs/index.js';
import type { TrainingConfig } from '../../services/training/training-config.js';
import type { BackendContext } from '../backend-context.js';
import { checkAllowedFile } from '../path-guard.js';
import { readRunDetails } from '../run-summaries.js';
import { refuseWhileHeavyJobRuns } from './heavy-jobs.js';
import { taskJobHandling, withoutFormat } from './task-job-handling.js';
import { requireTrainableDataset, resolveRequestedConfig } from './training-request.js';

type CompareHandlers = Pick<
  ApiHandlers,
  'compare.start' | 'compare.cancel' | 'compare.list' | 'compare.get' | 'compare.html'
>;

/** The API's view of a comparison's record (the record minus its file format tag). */
export const compareJobOf: (record: CompareJobRecord) => CompareJob = withoutFormat;

type History = CompareDetails['history']['attention'];

/** A model's step and epoch metrics from its run folder (empty before the run has written any). */
async function historyOf(runDir: string): Promise<History> {
  try {
    const details = await readRunDetails(runDir, { active: false, datasets: [] });
    return { steps: details.steps, epochs: details.epochs };
  } catch {
    return { steps: [], epochs: [] };
  }
}

async function readReport(path: string | null, folder: string): Promise<CompareReport | null> {
  if (!path) return null;
  // The record names the file; it must lie in the comparison's own folder.
  path = await checkAllowedFile(path, [folder]);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return parseCompareReport(JSON.parse(text));
  } catch (error) {
    throw new ApiError('failed', `The report ${path} cannot be read: ${(error as Error).message}`);
  }
}

export function compareHandlers(context: BackendContext): CompareHandlers {
  const { workspace, compare } = context;

  const jobs = taskJobHandling(compare, {
    toJob: compareJobOf,
    gone: 'That comparison is no longer in the workspace.',
  });

  return {
    'compare.start': async ({ datasetId, preset, settings, timeLimitMinutes, explainImages }) => {
      const entry = await requireTrainableDataset(workspace, datasetId);
      const chosen: TrainingSettings = settings ?? {};
      const training = chosen as Partial<Omit<TrainingConfig, 'dataset' | 'attention'>>;
      const config = resolveRequestedConfig({ ...training, dataset: entry.path }, preset);
      refuseWhileHeavyJobRuns(context, 'compare');
      const timeLimitSeconds = timeLimitMinutes !== undefined ? timeLimitMinutes * 60 : undefined;
      return jobs.start({
        id: workspace.newCompareId(entry.name),
        datasetId,
        datasetName: entry.name,
        dataset: entry.path,
        preset: preset ?? null,
        settings: chosen,
        budget:
          timeLimitSeconds !== undefined
            ? { kind: 'time', seconds: timeLimitSeconds, epochs: config.epochs }
            : { kind: 'epochs', epochs: config.epochs },
        options: {
          training,
          ...(preset ? { preset } : {}),
          ...(timeLimitSeconds !== undefined ? { timeLimitSeconds } : {}),
          ...(explainImages !== undefined ? { explainImages } : {}),
        },
      });
    },

    'compare.cancel': ({ compareId }) => jobs.cancel(compareId),

    'compare.list': () => jobs.list(),

    'compare.get': async ({ compareId }) => {
      const job = await jobs.requireJob(compareId);
      const [report, attention, plain] = await Promise.all([
        job.status === 'completed'
          ? readReport(job.reportPath, compare.jobDir(compareId))
          : Promise.resolve(null),
        // The service's layout: <outDir>/attention and <outDir>/plain are the two run folders.
        historyOf(join(job.outDir, 'attention')),
        historyOf(join(job.outDir, 'plain')),
      ]);
      return { job: compareJobOf(job), report, history: { attention, plain } };
    },

    'compare.html': async ({ compareId }) => {
      const job = await jobs.requireJob(compareId);
      if (job.status !== 'completed' || !job.htmlPath)
        throw new ApiError('not-available', 'The report is written when the comparison has finished.');
      // The record names the page; only a file inside the comparison's own folder is answered.
      const path = await checkAllowedFile(job.htmlPath, [compare.jobDir(compareId)]);
      try {
        return { path, html: await readFile(path, 'utf8') };
      } catch {
        throw new ApiError('not-available', `The report page ${path} is not there any more.`);
      }
    },
  };
}
