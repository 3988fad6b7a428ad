// The registry of folder classifications (a TaskJobRegistry, task-job-registry.ts): each runs in a task
// worker (background-task.ts) and writes into its own folder under the workspace (job.json,
// results.jsonl, results.csv, summary.json, heatmaps/). Its live progress is held in the record and
// announced through `onChange` (at most a few times a second). One classification at a time: it uses
// every core. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.
import type { ClassifyProgress as ServiceProgress } from '../classify/classify-options.js';
import type { ClassifySummary } from '../classify/results.js';
import {
  TaskJobConflictError,
  TaskJobRegistry,
  type LiveTaskJob,
  type TaskJobEnd,
  type TaskJobsOptions,
  type TaskJobStatus,
  type TaskListeners,
} from './task-job-registry.js';
import type { ClassifyTaskOptions, TaskOrder, TaskOutcome } from './worker-protocol.js';

export const CLASSIFY_JOB_FORMAT = 'attnvgg-classify-job/1';
export { JOB_FILE } from './job-record.js';
/** How often a running job flushes its rows and rewrites summary.json while it runs (seconds). */
const SAVE_EVERY_SECONDS = 2;

export type ClassifyJobStatus = TaskJobStatus;

export interface ClassifyJobRecord {
  format: typeof CLASSIFY_JOB_FORMAT;
  id: string;
  status: ClassifyJobStatus;
  modelId: string;
  modelPath: string;
  classes: string[];
  folder: string;
  outDir: string;
  options: ClassifyTaskOptions;
  startedAt: string;
  updatedAt: string;
  progress: {
    done: number;
    total: number;
    failed: number;
    imagesPerSecond: number;
    etaSeconds: number | null;
  };
  summary?: Omit<ClassifySummary, 'imagesPerSecond'>;
  message?: string;
}

export interface ClassifyJobOrder {
  id: string;
  modelId: string;
  modelPath: string;
  classes: string[];
  folder: string;
  options: ClassifyTaskOptions;
}

export class ClassifyJobConflictError extends TaskJobConflictError {
  override name = 'ClassifyJobConflictError';
}

export type ClassifyJobsOptions = TaskJobsOptions<ClassifyJobRecord> & {
  /** Where a device `auto` keeps its verdict (the workspace). */
  deviceCacheDir?: string;
};

type Live = LiveTaskJob<ClassifyJobRecord>;

function progressOf(p: ServiceProgress): ClassifyJobRecord['progress'] {
  return {
    done: p.done,
    total: p.total,
    failed: p.failed,
    imagesPerSecond: p.imagesPerSecond,
    etaSeconds: Number.isFinite(p.etaSeconds) ? p.etaSeconds : null,
  };
}

export class ClassifyJobs extends TaskJobRegistry<ClassifyJobOrder, ClassifyJobRecord, 'classified'> {
  private readonly deviceCacheDir: string | undefined;

  constructor(options: ClassifyJobsOptions) {
    super(options, {
      format: CLASSIFY_JOB_FORMAT,
      outcome: 'classified',
      stopTimeoutMs: 10_000,
      Conflict: ClassifyJobConflictError,
      busy: 'Another folder is being classified',
      recordName: 'The job record',
    });
    this.deviceCacheDir = options.deviceCacheDir;
  }

  protected newRecord(order: ClassifyJobOrder, outDir: string, now: Date): ClassifyJobRecord {
    return {
      format: CLASSIFY_JOB_FORMAT,
      ...order,
      status: 'running',
      outDir,
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      progress: { done: 0, total: 0, failed: 0, imagesPerSecond: 0, etaSeconds: null },
    };
  }

  protected taskOrder(order: ClassifyJobOrder, outDir: string): TaskOrder {
    return {
      kind: 'classify',
      modelPath: order.modelPath,
      inputs: [order.folder],
      outDir,
      options: order.options,
      ...(this.deviceCacheDir ? { deviceCacheDir: this.deviceCacheDir } : {}),
      saveEverySeconds: SAVE_EVERY_SECONDS,
    };
  }

  protected follow(live: Live): TaskListeners {
    return {
      onProgress: (progress) => {
        if (!this.live.has(live.record.id)) return;
        live.record.progress = progressOf(progress);
        live.record.updatedAt = new Date().toISOString();
        this.announce(live, progress.done === progress.total);
      },
    };
  }

  protected endOf(live: Live, outcome: Extract<TaskOutcome, { type: 'classified' }>): TaskJobEnd {
    const { record } = live;
    const { imagesPerSecond: _rate, ...summary } = outcome.summary;
    record.summary = summary;
    return {
      status: outcome.status,
      message:
        outcome.status === 'cancelled'
          ? `Cancelled after ${record.progress.done} of ${record.progress.total} files; the results so far are kept.`
          : `Classified ${summary.ok} of ${summary.images} files in ${summary.seconds.toFixed(1)} s${summary.failed ? `; ${summary.failed} could not be used` : ''}.`,
    };
  }

  protected leftRunning(record: ClassifyJobRecord): ClassifyJobRecord {
    return {
      ...record,
      status: 'cancelled',
      message:
        'The app was closed while this folder was being classified; the results saved so far are kept.',
    };
  }
}
