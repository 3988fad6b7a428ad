// API handlers for classifying a folder with an exported model: start a job (a task worker; progress as
// 'classify' events), cancel it, list the jobs, page through its result rows, and copy its results files
// and overlays into a folder the user picks (classify-job-results.ts). What they share with the
// comparison's handlers is task-job-handling.ts. Must not import electron or renderer.
import { ApiError, type ApiHandlers, type ClassifyJob } from '../../api/index.js';
import type { ClassifyJobRecord } from '../../services/jobs/index.js';
import type { BackendContext } from '../backend-context.js';
import { exportJobResults, resultsPage } from './classify-job-results.js';
import { requireFolder } from './datasets-handlers.js';
import { refuseWhileHeavyJobRuns } from './heavy-jobs.js';
import { listModels } from './models-handlers.js';
import { taskJobHandling, withoutFormat } from './task-job-handling.js';

type ClassifyHandlers = Pick<
  ApiHandlers,
  'classify.start' | 'classify.cancel' | 'classify.jobs' | 'classify.results' | 'classify.export'
>;

/** The API's view of a job record (the record minus its file format tag). */
export const jobOf: (record: ClassifyJobRecord) => ClassifyJob = withoutFormat;

export function classifyHandlers(context: BackendContext): ClassifyHandlers {
  const { workspace, classify } = context;
  const jobs = taskJobHandling(classify, {
    toJob: jobOf,
    gone: 'That classification is no longer in the workspace.',
  });

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
      return jobs.start({
        id: workspace.newClassifyJobId(root),
        modelId,
        modelPath: model.entry.path,
        classes: model.entry.classes,
        folder: root,
        options: chosen,
      });
    },

    'classify.cancel': ({ jobId }) => jobs.cancel(jobId),

    'classify.jobs': () => jobs.list(),

    'classify.results': async (request) => resultsPage(await jobs.requireJob(request.jobId), request),

    'classify.export': async ({ jobId, folder, overwrite }) => {
      const job = await jobs.requireJob(jobId);
      if (classify.isRunning(jobId))
        throw new ApiError('conflict', 'That folder is still being classified: export when it has finished.');
      const target = await requireFolder(folder);
      if (target === job.outDir) throw new ApiError('bad-request', 'Choose a folder outside the workspace.');
      return exportJobResults(job, target, overwrite);
    },
  };
}
