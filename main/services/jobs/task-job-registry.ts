// One registry for every kind of job that runs in a task worker (classify-jobs.ts, compare-jobs.ts),
// typed by the job's order (its parameters), its record and the worker's outcome (its result): one folder
// a job under the registry's root with its record in job.json (written when the job starts and when it
// ends), one job at a time (each uses every core), the jobs running in this session with their live
// record, cancel, listing, the end of a job written and announced, and stopping them all when the app
// closes. A kind says only what differs: its record, its worker's order, how it follows the worker and
// what its outcome means. Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClassifyProgress } from '../classify/classify-options.js';
import type { CompareEvent } from '../compare/index.js';
import { runTask, TaskError, type RunningTask, type TaskWorkerFactory } from './background-task.js';
import {
  announceDue,
  listJobRecords,
  readJobRecord,
  stopJobsWithin,
  writeEndedJobRecord,
  writeJobRecord,
  type JobRecordBase,
} from './job-record.js';
import type { TaskOrder, TaskOutcome } from './worker-protocol.js';

/** A job is refused while another of its registry runs; each kind has its own subclass. */
export class TaskJobConflictError extends Error {
  override name = 'TaskJobConflictError';
}

/** Where a task job stands. */
export type TaskJobStatus = 'running' | 'completed' | 'cancelled' | 'failed';

/** The fields every task job's record has. */
export interface TaskJobRecord extends JobRecordBase {
  status: TaskJobStatus;
  /** The job's folder. */
  outDir: string;
  updatedAt: string;
}

/** What a TaskJobRegistry is made with. */
export interface TaskJobsOptions<R> {
  /** The folder holding one sub-folder per job. */
  rootDir: string;
  /** Called with a copy of the record when a job starts, progresses (throttled) and ends. */
  onChange: (job: R) => void;
  /** Replaces the worker factory (tests). */
  createWorker?: TaskWorkerFactory;
}

/** What a kind of job is, for its registry. */
export interface TaskJobKind<R extends TaskJobRecord, T extends TaskOutcome['type']> {
  /** The format tag of its job.json. */
  format: R['format'];
  /** The type of the outcome its worker answers a job that ran with. */
  outcome: T;
  /** How long stopAll waits for a job before ending its worker hard. */
  stopTimeoutMs: number;
  /** The error that refuses a second job while one runs ... */
  Conflict: new (message: string) => TaskJobConflictError;
  /** ... saying what runs ("Another comparison is running"). */
  busy: string;
  /** The record as a message names it when it could not be saved ("The job record"). */
  recordName: string;
}

/** A job of a TaskJobRegistry while it runs in this session. */
export interface LiveTaskJob<R> {
  record: R;
  task: RunningTask;
  /** Resolves when the job has ended and its record is written. */
  ended: Promise<void>;
  lastAnnounced: number;
}

/** What a job's worker reports while it runs. */
export interface TaskListeners {
  onProgress?: (progress: ClassifyProgress) => void;
  onCompareEvent?: (event: CompareEvent) => void;
}

/** How a job ended, as its record says. */
export interface TaskJobEnd {
  status: Exclude<TaskJobStatus, 'running'>;
  message: string;
}

/**
 * The registry of one kind of task job. `O` is what starting a job takes (with its id), `R` its record,
 * `T` the type of the outcome its worker answers with, `L` what is held of a running job.
 */
export abstract class TaskJobRegistry<
  O extends { id: string },
  R extends TaskJobRecord,
  T extends TaskOutcome['type'],
  L extends LiveTaskJob<R> = LiveTaskJob<R>,
> {
  protected readonly live = new Map<string, L>();

  constructor(
    protected readonly options: TaskJobsOptions<R>,
    private readonly kind: TaskJobKind<R, T>,
  ) {}

  jobDir(id: string): string {
    return join(this.options.rootDir, id);
  }

  /** The ids of the jobs running now (at most one). */
  runningIds(): string[] {
    return [...this.live.keys()];
  }

  isRunning(id: string): boolean {
    return this.live.has(id);
  }

  /** Asks a running job to stop; false when it does not run. */
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

  async get(id: string): Promise<R | null> {
    const live = this.live.get(id);
    if (live) return structuredClone(live.record);
    return readJobRecord<R>(this.jobDir(id), { format: this.kind.format, id }, (record) =>
      this.leftRunning(record),
    );
  }

  /** Every job of the workspace, newest first. */
  list(): Promise<R[]> {
    return listJobRecords(this.options.rootDir, (id) => this.get(id));
  }

  /** Cancels every running job and waits for them to end (closing the app). */
  async stopAll(timeoutMs = this.kind.stopTimeoutMs): Promise<void> {
    const jobs = [...this.live.values()];
    for (const job of jobs) job.task.cancel();
    await stopJobsWithin(
      jobs.map((job) => ({ ended: job.ended, terminate: () => job.task.terminate() })),
      timeoutMs,
    );
  }

  /** Starts a job in its own worker; throws the kind's TaskJobConflictError while another one runs. */
  async start(order: O, now = new Date()): Promise<R> {
    if (this.live.size > 0)
      throw new this.kind.Conflict(`${this.kind.busy} and uses every core: wait for it or cancel it first.`);
    const outDir = this.jobDir(order.id);
    await mkdir(outDir, { recursive: true });
    const record = this.newRecord(order, outDir, now);
    await writeJobRecord(outDir, record);
    const live = this.newLive(record);
    this.live.set(order.id, live);
    try {
      const listeners = this.follow(live);
      live.task = runTask(
        this.taskOrder(order, outDir),
        listeners.onProgress,
        this.options.createWorker,
        listeners.onCompareEvent,
      );
    } catch (error) {
      this.live.delete(order.id);
      throw error;
    }
    live.ended = live.task.done.then(
      (outcome) =>
        outcome.type === this.kind.outcome
          ? this.finish(live, this.endOf(live, outcome as Extract<TaskOutcome, { type: T }>))
          : this.finish(live, { status: 'failed', message: 'Unexpected answer from the worker.' }),
      (error: unknown) =>
        this.finish(live, {
          status: 'failed',
          message: error instanceof TaskError ? error.message : String(error),
        }),
    );
    this.options.onChange({ ...record });
    return { ...record };
  }

  /** Announces a copy of the job's live record: at once when `urgent`, else at most a few times a second. */
  protected announce(live: L, urgent: boolean): void {
    if (announceDue(live, urgent)) this.options.onChange(structuredClone(live.record));
  }

  /** What is held of a job while it runs (its task is set right after). */
  protected newLive(record: R): L {
    return {
      record,
      task: undefined as unknown as RunningTask,
      ended: Promise.resolve(),
      lastAnnounced: 0,
    } as L;
  }

  /** Writes the job's end into its record and job.json, and announces it. */
  private async finish(live: L, end: TaskJobEnd): Promise<void> {
    const { record } = live;
    record.status = end.status;
    record.message = end.message;
    this.afterEnd(record);
    record.updatedAt = new Date().toISOString();
    await writeEndedJobRecord(record.outDir, record, this.kind.recordName);
    this.live.delete(record.id);
    this.options.onChange(structuredClone(record));
  }

  /** A new job's record, as written when it starts. */
  protected abstract newRecord(order: O, outDir: string, now: Date): R;

  /** What the job's worker is asked to do. */
  protected abstract taskOrder(order: O, outDir: string): TaskOrder;

  /** Follows the worker's reports into the live record. */
  protected abstract follow(live: L): TaskListeners;

  /** How the job ended, from its worker's outcome (the record takes what the outcome adds). */
  protected abstract endOf(live: L, outcome: Extract<TaskOutcome, { type: T }>): TaskJobEnd;

  /** Clears what only a running job has, once it has ended with `record.status`. */
  protected afterEnd(_record: R): void {}

  /** How the record of a job left running by a closed or crashed app reads back. */
  protected abstract leftRunning(record: R): R;
}
