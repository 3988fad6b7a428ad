// API handlers for training: start a run in a worker, pause, resume, cancel, and the runs of the
// workspace with their metrics history. Must not import electron or renderer.
import { basename } from 'node:path';
import { ApiError, type ApiHandlers, type RunSummary, type TrainingSettings } from '../../api/index.js';
import { JobConflictError } from '../../services/jobs/index.js';
import { PRESET_NAMES, resolveConfig, type TrainingConfig } from '../../services/training/training-config.js';
import { readRunRecord, writeRunRecord } from '../../services/training/run-folder.js';
import type { BackendContext } from '../backend-context.js';
import { readRunDetails, readRunSummary } from '../run-summaries.js';
import { refuseWhileHeavyJobRuns } from './heavy-jobs.js';
import { backboneSettings, requireTrainableDataset, resolveRequestedConfig } from './training-request.js';

type TrainingHandlers = Pick<
  ApiHandlers,
  | 'training.start'
  | 'training.presets'
  | 'training.pause'
  | 'training.resume'
  | 'training.cancel'
  | 'training.runs'
  | 'training.run'
>;

/** A run whose worker has started but has not written run.json yet. */
interface PendingRun {
  config: TrainingConfig;
  datasetName: string;
  createdAt: string;
}

export interface TrainingHandlersWithSummaries extends TrainingHandlers {
  /** The summary of one run (also used for the 'run' events). */
  summary(runId: string): Promise<RunSummary>;
}

/** What the runs list shows of a run whose worker has not written run.json (yet, or ever). */
function pendingRunSummary(runId: string, early: PendingRun, active: boolean, error: unknown): RunSummary {
  return {
    id: runId,
    status: active ? 'created' : 'failed',
    active,
    createdAt: early.createdAt,
    updatedAt: early.createdAt,
    dataset: early.config.dataset,
    datasetName: early.datasetName,
    classes: [],
    settings: {
      inputSize: early.config.inputSize,
      width: early.config.width,
      attention: early.config.attention,
      epochs: early.config.epochs,
      batchSize: early.config.batchSize,
      optimizer: early.config.optimizer,
      lr: early.config.lr,
    },
    backend: '',
    ...(early.config.backbone ? { backbone: basename(early.config.backbone) } : {}),
    ...(active ? {} : { message: (error as Error).message }),
  };
}

/** Every preset's settings (with or without a pretrained backbone), for the Train screen. */
function presetTable(backbone: boolean) {
  return PRESET_NAMES.map((preset) => {
    // The dataset and the file are placeholders: only the preset's values are read.
    const c = resolveConfig({ dataset: '-', ...(backbone ? { backbone: '-' } : {}) }, preset);
    return {
      preset,
      inputSize: c.inputSize,
      width: c.width,
      epochs: c.epochs,
      batchSize: c.batchSize,
      optimizer: c.optimizer,
      lr: c.lr,
      schedule: c.schedule,
      freezeBlocks: c.freezeBlocks,
      earlyStoppingPatience: c.earlyStoppingPatience,
      normalisation: c.normalisation,
      seed: c.seed,
    };
  });
}

/** A run left 'running' (or paused) by an app that was closed: record that it will not go on. */
async function cancelStoppedRun(runDir: string, runId: string): Promise<void> {
  const record = await readRunRecord(runDir).catch(() => null);
  if (!record) throw new ApiError('not-found', `There is no run "${runId}" in this workspace.`);
  if (record.status === 'running' || record.status === 'created' || record.status === 'paused') {
    record.status = 'cancelled';
    record.message = 'Cancelled; the last checkpoint is kept and the run can still be resumed.';
    await writeRunRecord(runDir, record);
  }
}

/** Refuses a run that does not exist or has finished: only those can resume. */
async function checkResumable(runDir: string, runId: string): Promise<void> {
  const record = await readRunRecord(runDir).catch(() => null);
  if (!record) throw new ApiError('not-found', `There is no run "${runId}" in this workspace.`);
  if (record.status === 'completed' || record.status === 'stopped-early')
    throw new ApiError('conflict', 'That run has finished; start a new run to train more.');
}

/** Starts a job, with a job conflict (another run training) as the API's 'conflict'. */
function launch(start: () => void): void {
  try {
    start();
  } catch (error) {
    if (error instanceof JobConflictError) throw new ApiError('conflict', error.message);
    throw error;
  }
}

export function trainingHandlers(context: BackendContext): TrainingHandlersWithSummaries {
  const { workspace, jobs } = context;
  const pending = new Map<string, PendingRun>();

  const extras = async (runId: string) => ({
    active: jobs.isActive(runId),
    progress: jobs.progress(runId),
    datasets: await workspace.datasets(),
  });

  async function summary(runId: string): Promise<RunSummary> {
    try {
      const result = await readRunSummary(workspace.runDir(runId), await extras(runId));
      pending.delete(runId);
      return result;
    } catch (error) {
      const early = pending.get(runId);
      if (!early) throw new ApiError('not-found', `There is no run "${runId}" in this workspace.`);
      if (!jobs.isActive(runId)) pending.delete(runId);
      return pendingRunSummary(runId, early, jobs.isActive(runId), error);
    }
  }

  return {
    summary,

    'training.presets': async ({ backbone }) => presetTable(Boolean(backbone)),

    'training.start': async ({ datasetId, preset, settings, backboneId, device }) => {
      const entry = await requireTrainableDataset(workspace, datasetId);
      const partial: Partial<TrainingConfig> & { dataset: string } = {
        ...(settings as TrainingSettings as Partial<TrainingConfig>),
        dataset: entry.path,
        ...(backboneId ? await backboneSettings(context, backboneId) : {}),
      };
      const config = resolveRequestedConfig(partial, preset);
      refuseWhileHeavyJobRuns(context, 'training');
      const runId = workspace.newRunId(entry.name);
      pending.set(runId, { config, datasetName: entry.name, createdAt: new Date().toISOString() });
      try {
        launch(() => jobs.start(runId, workspace.runDir(runId), partial, preset, device));
      } catch (error) {
        pending.delete(runId);
        throw error;
      }
      return summary(runId);
    },

    'training.pause': async ({ runId }) => {
      if (!jobs.requestStop(runId, 'pause'))
        throw new ApiError('conflict', 'That run is not training now, so there is nothing to pause.');
      return summary(runId);
    },

    'training.cancel': async ({ runId }) => {
      if (!jobs.requestStop(runId, 'cancel')) await cancelStoppedRun(workspace.runDir(runId), runId);
      return summary(runId);
    },

    'training.resume': async ({ runId, device }) => {
      if (jobs.isActive(runId)) throw new ApiError('conflict', 'That run is already training.');
      const runDir = workspace.runDir(runId);
      await checkResumable(runDir, runId);
      refuseWhileHeavyJobRuns(context, 'training');
      launch(() => jobs.resume(runId, runDir, device));
      return summary(runId);
    },

    'training.runs': async () => {
      const ids = new Set([...(await workspace.runIds()), ...pending.keys()]);
      const runs = await Promise.all([...ids].map((id) => summary(id).catch(() => null)));
      return runs
        .filter((r): r is RunSummary => r !== null)
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },

    'training.run': async ({ runId }) => {
      try {
        return await readRunDetails(workspace.runDir(runId), await extras(runId));
      } catch {
        const early = await summary(runId);
        return {
          summary: early,
          config: {},
          steps: [],
          epochs: [],
          warnings: [],
          skippedFiles: 0,
          folder: workspace.runDir(runId),
        };
      }
    },
  };
}
