// The registry of folder classifications: each runs in a task worker (background-task.ts) and writes
// into its own folder under the workspace (job.json, results.json, results.csv, heatmaps/). The record
// in job.json is written when the job starts and when it ends; its live progress is held here and
// announced through `onChange` (at most a few times a second). One classification at a time: it uses
// every core. Must not import electron or anything from main/electron, main/server, main/cli or renderer.
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClassifyProgress as ServiceProgress } from '../classify/classify-folder.js';
import type { ClassifySummary } from '../classify/results.js';
import { writeJsonAtomic } from '../storage/atomic-write.js';
import { runTask, TaskError, type RunningTask, type TaskWorkerFactory } from './background-task.js';
import type { ClassifyTaskOptions } from './worker-protocol.js';

export const CLASSIFY_JOB_FORMAT = 'attnvgg-classify-job/1';
export const JOB_FILE = 'job.json';
/** How often a running job rewrites results.json, so its rows show up while it runs. */
const SAVE_EVERY_SECONDS = 2;
const ANNOUNCE_EVERY_MS = 250;

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

export interface ClassifyJobsOptions {
  /** The folder holding one sub-folder per job. */
  rootDir: string;
  onChange: (job: ClassifyJobRecord) => void;
  /** Replaces the worker factory (tests). */
  createWorker?: TaskWorkerFactory;
}

interface Live {
  record: ClassifyJobRecord;
  task: RunningTask;
  ended: Promise<void>;
  lastAnnounced: number;
}

function progressOf(p: ServiceProgress): ClassifyJobRecord['progress'] {
  return {
    done: p.done,
    total: p.total,
    failed: p.failed,
    imagesPerSecond: p.imagesPerSecond,
    etaSeconds: Number.isFinite(p.etaSeconds) ? p.etaSeconds : null,
  };
}

export class ClassifyJobs {
  private readonly live = new Map<string, Live>();
  private readonly options: ClassifyJobsOptions;

  constructor(options: ClassifyJobsOptions) {
    this.options = options;
  }

  jobDir(id: string): string {
    return join(this.options.rootDir, id);
  }

  /** The ids of the classifications running now (at most one). */
  runningIds(): string[] {
    return [...this.live.keys()];
  }

  isRunning(id: string): boolean {
    return this.live.has(id);
  }

  /** Starts a job; throws ClassifyJobConflictError while another one runs. */
  async start(order: ClassifyJobOrder, now = new Date()): Promise<ClassifyJobRecord> {
    const running = [...this.live.keys()];
    if (running.length > 0)
      throw new ClassifyJobConflictError(
        'Another folder is being classified and uses every core: wait for it or cancel it first.',
      );
    const outDir = this.jobDir(order.id);
    await mkdir(outDir, { recursive: true });
    const record: ClassifyJobRecord = {
      format: CLASSIFY_JOB_FORMAT,
      ...order,
      status: 'running',
      outDir,
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      progress: { done: 0, total: 0, failed: 0, imagesPerSecond: 0, etaSeconds: null },
    };
    await writeJsonAtomic(join(outDir, JOB_FILE), record);
    const task = runTask(
      {
        kind: 'classify',
        modelPath: order.modelPath,
        inputs: [order.folder],
        outDir,
        options: order.options,
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

  /** Asks a running job to stop after its batch in progress; false when it does not run. */
  cancel(id: string): boolean {
    const live = this.live.get(id);
    if (!live) return false;
    live.task.cancel();
    return true;
  }

  /** Resolves when the job has ended and its record is written (at once when it does not run). */
  async whenEnded(id: string): Promise<void> {
    await this.live.get(id)?.ended;
  }

  async get(id: string): Promise<ClassifyJobRecord | null> {
    const live = this.live.get(id);
    if (live) return { ...live.record };
    return this.read(id);
  }

  /** Every job of the workspace, newest first. */
  async list(): Promise<ClassifyJobRecord[]> {
    const entries = await readdir(this.options.rootDir, { withFileTypes: true }).catch(() => []);
    const records = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => this.get(e.name)));
    return records
      .filter((r): r is ClassifyJobRecord => r !== null)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** Cancels every running job and waits for them to end (closing the app). */
  async stopAll(timeoutMs = 10_000): Promise<void> {
    const jobs = [...this.live.values()];
    for (const job of jobs) job.task.cancel();
    await Promise.all(
      jobs.map(async (job) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        const outcome = await Promise.race([job.ended.then(() => 'ended' as const), timedOut]);
        clearTimeout(timer);
        if (outcome === 'timeout') await job.task.terminate();
      }),
    );
  }

  private async read(id: string): Promise<ClassifyJobRecord | null> {
    try {
      const record = JSON.parse(await readFile(join(this.jobDir(id), JOB_FILE), 'utf8')) as ClassifyJobRecord;
      if (record.format !== CLASSIFY_JOB_FORMAT || record.id !== id) return null;
      if (record.status === 'running')
        // Not running in this session: the app was closed (or crashed) while it ran.
        return {
          ...record,
          status: 'cancelled',
          message:
            'The app was closed while this folder was being classified; the results saved so far are kept.',
        };
      return record;
    } catch {
      return null;
    }
  }

  private onProgress(id: string, progress: ServiceProgress): void {
    const live = this.live.get(id);
    if (!live) return;
    live.record.progress = progressOf(progress);
    live.record.updatedAt = new Date().toISOString();
    const now = Date.now();
    if (now - live.lastAnnounced >= ANNOUNCE_EVERY_MS || progress.done === progress.total) {
      live.lastAnnounced = now;
      this.options.onChange({ ...live.record });
    }
  }

  private async finish(live: Live, status: ClassifyJobStatus, message: string): Promise<void> {
    const { record } = live;
    record.status = status;
    record.message = message;
    record.updatedAt = new Date().toISOString();
    try {
      await writeJsonAtomic(join(record.outDir, JOB_FILE), record);
    } catch (error) {
      record.message = `${message} (The job record could not be saved: ${(error as Error).message})`;
    }
    this.live.delete(record.id);
    this.options.onChange({ ...record });
  }
}
