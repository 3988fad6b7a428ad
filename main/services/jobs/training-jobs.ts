// The registry of training jobs in the main process: one worker thread per running job, their live
// progress, and pause/cancel requests. It outlives any window or browser tab, so a reloaded UI finds its
// runs still going. One job at a time: training uses every core. Must not import electron or anything
// from main/electron, main/backend, main/server, main/cli or renderer.
import type { Worker } from 'node:worker_threads';
import type { PresetName, TrainingConfig } from '../training/training-config.js';
import type { RunStatus, TrainingEvent } from '../training/training-events.js';
import { readRunRecord, writeRunRecord } from '../training/run-folder.js';
import { stopJobsWithin } from './job-record.js';
import { startWorker } from './start-worker.js';
import type { TrainingJobOrder, TrainingWorkerCommand, TrainingWorkerMessage } from './worker-protocol.js';

export type JobEvent =
  | { type: 'training'; runId: string; event: TrainingEvent }
  | { type: 'ended'; runId: string; status: RunStatus; message: string };

export interface JobProgress {
  epoch: number;
  epochs: number;
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  imagesPerSecond?: number;
  etaSeconds?: number;
}

export class JobConflictError extends Error {
  override name = 'JobConflictError';
}

interface Job {
  runId: string;
  runDir: string;
  worker: Worker;
  progress: JobProgress;
  stopRequested: 'pause' | 'cancel' | null;
  ended: Promise<void>;
  /** The run's own last word, once its 'finished' event came. */
  finished: { status: RunStatus; message: string } | null;
}

export interface TrainingJobsOptions {
  onEvent: (event: JobEvent) => void;
  /** Replaces the worker factory (tests). */
  createWorker?: (order: TrainingJobOrder) => Worker;
  /** Where a device `auto` keeps its verdict (the workspace). */
  deviceCacheDir?: string;
}

export class TrainingJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly onEvent: (event: JobEvent) => void;
  private readonly createWorker: (order: TrainingJobOrder) => Worker;
  private readonly deviceCacheDir: string | undefined;

  constructor(options: TrainingJobsOptions) {
    this.onEvent = options.onEvent;
    this.deviceCacheDir = options.deviceCacheDir;
    this.createWorker = options.createWorker ?? ((order) => startWorker('training-worker', order));
  }

  start(
    runId: string,
    runDir: string,
    settings: Partial<TrainingConfig> & { dataset: string },
    preset?: PresetName,
    device?: string,
  ): void {
    this.launch(runId, {
      kind: 'start',
      runDir,
      settings,
      ...(preset ? { preset } : {}),
      ...this.deviceOf(device),
    });
  }

  /** Resumes on `device`, or on the device the run asked for when it last started. */
  resume(runId: string, runDir: string, device?: string): void {
    this.launch(runId, { kind: 'resume', runDir, ...this.deviceOf(device) });
  }

  private deviceOf(device: string | undefined): { device?: string; deviceCacheDir?: string } {
    return {
      ...(device ? { device } : {}),
      ...(this.deviceCacheDir ? { deviceCacheDir: this.deviceCacheDir } : {}),
    };
  }

  /** Asks the job to stop at its next step boundary; false when no such job runs. */
  requestStop(runId: string, kind: 'pause' | 'cancel'): boolean {
    const job = this.jobs.get(runId);
    if (!job) return false;
    job.stopRequested = kind;
    const command: TrainingWorkerCommand = { type: 'control', kind };
    job.worker.postMessage(command);
    return true;
  }

  isActive(runId: string): boolean {
    return this.jobs.has(runId);
  }

  activeRunIds(): string[] {
    return [...this.jobs.keys()];
  }

  progress(runId: string): JobProgress | undefined {
    return this.jobs.get(runId)?.progress;
  }

  stopRequested(runId: string): 'pause' | 'cancel' | null {
    return this.jobs.get(runId)?.stopRequested ?? null;
  }

  /** Resolves when the job's worker has exited (at once when there is none). */
  async whenEnded(runId: string): Promise<void> {
    await this.jobs.get(runId)?.ended;
  }

  /** Pauses every job (each keeps a checkpoint), waiting up to `timeoutMs` before ending workers hard. */
  async stopAll(timeoutMs = 30_000): Promise<void> {
    const jobs = [...this.jobs.values()];
    for (const job of jobs) this.requestStop(job.runId, 'pause');
    await stopJobsWithin(
      jobs.map((job) => ({ ended: job.ended, terminate: () => job.worker.terminate() })),
      timeoutMs,
    );
  }

  private launch(runId: string, order: TrainingJobOrder): void {
    const running = this.activeRunIds();
    if (running.length > 0)
      throw new JobConflictError(
        `The run "${running[0]}" is training now and uses every core: pause or cancel it first.`,
      );
    const worker = this.createWorker(order);
    let resolveEnded: () => void = () => undefined;
    const job: Job = {
      runId,
      runDir: order.runDir,
      worker,
      progress: { epoch: 0, epochs: 0, step: 0, stepsPerEpoch: 0, globalStep: 0 },
      stopRequested: null,
      ended: new Promise((resolve) => {
        resolveEnded = resolve;
      }),
      finished: null,
    };
    this.jobs.set(runId, job);
    let failure: string | null = null;
    worker.on('message', (message: TrainingWorkerMessage) => {
      if (message.type === 'event') {
        this.onEvent({ type: 'training', runId, event: message.event });
        this.track(job, message.event);
      } else if (message.type === 'error') failure = message.message;
    });
    worker.on('error', (error) => {
      failure = error.message;
    });
    worker.on('exit', (code) => {
      this.jobs.delete(runId);
      void this.settle(
        job,
        failure ?? (code !== 0 ? `The training worker stopped unexpectedly (exit code ${code}).` : null),
      ).finally(resolveEnded);
    });
  }

  private track(job: Job, event: TrainingEvent): void {
    const p = job.progress;
    if (event.type === 'started') {
      p.epochs = event.epochs;
      p.stepsPerEpoch = event.stepsPerEpoch;
      if (event.resumedAt) {
        p.epoch = event.resumedAt.epoch;
        p.step = event.resumedAt.stepInEpoch;
      }
    } else if (event.type === 'step') {
      p.epoch = event.epoch;
      p.step = event.step;
      p.globalStep = event.globalStep;
      p.imagesPerSecond = event.imagesPerSecond;
      p.etaSeconds = event.etaSeconds;
    } else if (event.type === 'epoch') {
      p.epoch = event.epoch + 1;
      p.step = 0;
    } else if (event.type === 'finished') job.finished = { status: event.status, message: event.message };
  }

  /**
   * After the worker exits (so the job no longer counts as active): announces the end, and records a
   * job that died without its 'finished' event as failed.
   */
  private async settle(job: Job, failure: string | null): Promise<void> {
    if (job.finished) {
      this.onEvent({ type: 'ended', runId: job.runId, ...job.finished });
      return;
    }
    const message = failure ?? 'The training worker ended without finishing the run.';
    try {
      const record = await readRunRecord(job.runDir);
      if (record.status === 'running' || record.status === 'created') {
        record.status = 'failed';
        record.message = message;
        await writeRunRecord(job.runDir, record);
      }
    } catch {
      // No run record yet (it failed before writing one): the event below says why.
    }
    this.onEvent({ type: 'ended', runId: job.runId, status: 'failed', message });
  }
}
