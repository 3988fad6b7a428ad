// The registry of folder classifications: each runs in a task worker (background-task.ts) and writes
// into its own folder under the workspace (job.json, results.jsonl, results.csv, summary.json,
// heatmaps/). The record in job.json is written when the job starts and when it ends; its live progress
// is held here and announced through `onChange` (at most a few times a second). One classification at a
// time: it uses every core. Must not import electron or anything from main/electron, main/server,
// main/cli or renderer.
import type { ClassifyProgress as ServiceProgress } from '../classify/classify-folder.js';
import type { ClassifySummary } from '../classify/results.js';
import { runTask, TaskError } from './background-task.js';
import {
  announceDue,
  readJobRecord,
  writeEndedJobRecord,
  writeJobRecord,
  TaskJobRegistry,
  type LiveTaskJob,
  type TaskJobsOptions,
} from './job-record.js';
import type { ClassifyTaskOptions } from './worker-protocol.js';

export const CLASSIFY_JOB_FORMAT = 'attnvgg-classify-job/1';
export { JOB_FILE } from './job-record.js';
/** How often a running job flushes its rows and rewrites summary.json while it runs (seconds). */
const SAVE_EVERY_SECONDS = 2;

export type ClassifyJobStatus = 'running' | 'completed' | 'cancelled' | 'failed';

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

export class ClassifyJobConflictError extends Error {
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

export class ClassifyJobs extends TaskJobRegistry<ClassifyJobRecord, Live> {
  private readonly options: ClassifyJobsOptions;

  constructor(options: ClassifyJobsOptions) {
    super(options.rootDir, 10_000);
    this.options = options;
  }

  /** Starts a job; throws ClassifyJobConflictError while another one runs. */
  async start(order: ClassifyJobOrder, now = new Date()): Promise<ClassifyJobRecord> {
    const outDir = await this.openJobDir(
      order.id,
      () =>
        new ClassifyJobConflictError(
          'Another folder is being classified and uses every core: wait for it or cancel it first.',
        ),
    );
    const record: ClassifyJobRecord = {
      format: CLASSIFY_JOB_FORMAT,
      ...order,
      status: 'running',
      outDir,
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      progress: { done: 0, total: 0, failed: 0, imagesPerSecond: 0, etaSeconds: null },
    };
    await writeJobRecord(outDir, record);
    const task = runTask(
      {
        kind: 'classify',
        modelPath: order.modelPath,
        inputs: [order.folder],
        outDir,
        options: order.options,
        ...(this.options.deviceCacheDir ? { deviceCacheDir: this.options.deviceCacheDir } : {}),
        saveEverySeconds: SAVE_EVERY_SECONDS,
      },
      (progress) => this.onProgress(order.id, progress),
      this.options.createWorker,
    );
    const live: Live = { record, task, ended: Promise.resolve(), lastAnnounced: 0 };
    live.ended = task.done.then(
      (outcome) => {
        if (outcome.type !== 'classified')
          return this.finish(live, 'failed', 'Unexpected answer from the worker.');
        const { imagesPerSecond: _rate, ...summary } = outcome.summary;
        record.summary = summary;
        return this.finish(
          live,
          outcome.status,
          outcome.status === 'cancelled'
            ? `Cancelled after ${record.progress.done} of ${record.progress.total} files; the results so far are kept.`
            : `Classified ${summary.ok} of ${summary.images} files in ${summary.seconds.toFixed(1)} s${summary.failed ? `; ${summary.failed} could not be used` : ''}.`,
        );
      },
      (error: unknown) =>
        this.finish(live, 'failed', error instanceof TaskError ? error.message : String(error)),
    );
    this.live.set(order.id, live);
    this.options.onChange({ ...record });
    return { ...record };
  }

  protected read(id: string): Promise<ClassifyJobRecord | null> {
    return readJobRecord<ClassifyJobRecord>(
      this.jobDir(id),
      { format: CLASSIFY_JOB_FORMAT, id },
      (record) => ({
        ...record,
        status: 'cancelled',
        message:
          'The app was closed while this folder was being classified; the results saved so far are kept.',
      }),
    );
  }

  private onProgress(id: string, progress: ServiceProgress): void {
    const live = this.live.get(id);
    if (!live) return;
    live.record.progress = progressOf(progress);
    live.record.updatedAt = new Date().toISOString();
    if (announceDue(live, progress.done === progress.total)) this.options.onChange({ ...live.record });
  }

  private async finish(live: Live, status: ClassifyJobStatus, message: string): Promise<void> {
    const { record } = live;
    record.status = status;
    record.message = message;
    record.updatedAt = new Date().toISOString();
    await writeEndedJobRecord(record.outDir, record, 'The job record');
    this.live.delete(record.id);
    this.options.onChange({ ...record });
  }
}
