// The registry of comparisons (attention-VGG against the plain VGG16_bn head, main/services/compare):
// each runs in a task worker (background-task.ts), off the main thread, into its own folder under the
// workspace (job.json beside the comparison's run folders, models and report). job.json is written when
// the comparison starts and when it ends; its live progress (which model trains, its epoch and step, the
// phase after training) is held here and announced through `onChange` at most a few times a second,
// while every service event goes to `onEvent` (the UI draws both models' loss and accuracy from them).
// One comparison at a time: it trains on every core. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.
import { COMPARE_PHASES, type CompareJob, type CompareModelProgress } from '../../api/compare-schemas.js';
import type { CompareEvent, CompareOptions } from '../compare/index.js';
import { JOB_FILE } from './job-record.js';
import {
  TaskJobConflictError,
  TaskJobRegistry,
  type LiveTaskJob,
  type TaskJobEnd,
  type TaskJobsOptions,
  type TaskListeners,
} from './task-job-registry.js';
import type { TaskOrder, TaskOutcome } from './worker-protocol.js';

export const COMPARE_JOB_FORMAT = 'attnvgg-compare-job/1';
export const COMPARE_JOB_FILE = JOB_FILE;
/** The share of the progress bar the two trainings take; the phases after them take the rest. */
const TRAINING_SHARE = 0.95;

export type CompareJobRecord = CompareJob & { format: typeof COMPARE_JOB_FORMAT };

export interface CompareJobOrder {
  id: string;
  datasetId: string;
  datasetName: string;
  /** The dataset's folder. */
  dataset: string;
  preset: CompareJob['preset'];
  /** What the user chose (shown again with the job). */
  settings: CompareJob['settings'];
  /** The budget as planned (the resolved epochs; the time limit). */
  budget: CompareJob['budget'];
  /** What the comparison service is given. */
  options: CompareOptions;
}

export class CompareJobConflictError extends TaskJobConflictError {
  override name = 'CompareJobConflictError';
}

export interface CompareJobsOptions extends TaskJobsOptions<CompareJobRecord> {
  /** Every event of the comparison service (the UI draws both models' loss and accuracy from them). */
  onEvent: (compareId: string, event: CompareEvent) => void;
}

interface Live extends LiveTaskJob<CompareJobRecord> {
  /** performance.now() when each model's run started, for the time-limit share of the progress. */
  startedAt: { attention: number; plain: number };
}

function waiting(epochs: number): CompareModelProgress {
  return { state: 'waiting', epoch: 0, epochs, step: 0, stepsPerEpoch: 0, accuracy: null };
}

/** How far one model's training has gone, 0..1: by steps, or by time under a time limit. */
function modelFraction(p: CompareModelProgress, budget: CompareJob['budget']): number {
  if (p.state === 'finished') return 1;
  if (p.state === 'waiting') return 0;
  const bySteps = p.stepsPerEpoch > 0 ? (p.epoch + p.step / p.stepsPerEpoch) / Math.max(1, p.epochs) : 0;
  const byTime = budget.kind === 'time' ? (p.elapsedSeconds ?? 0) / budget.seconds : 0;
  return Math.min(1, Math.max(bySteps, byTime));
}

export class CompareJobs extends TaskJobRegistry<CompareJobOrder, CompareJobRecord, 'compared', Live> {
  private readonly onEvent: CompareJobsOptions['onEvent'];

  constructor(options: CompareJobsOptions) {
    super(options, {
      format: COMPARE_JOB_FORMAT,
      outcome: 'compared',
      stopTimeoutMs: 30_000,
      Conflict: CompareJobConflictError,
      busy: 'Another comparison is running',
      recordName: "The comparison's record",
    });
    this.onEvent = options.onEvent;
  }

  protected newRecord(order: CompareJobOrder, outDir: string, now: Date): CompareJobRecord {
    const epochs = order.budget.epochs;
    return {
      format: COMPARE_JOB_FORMAT,
      id: order.id,
      status: 'running',
      datasetId: order.datasetId,
      datasetName: order.datasetName,
      dataset: order.dataset,
      preset: order.preset,
      settings: order.settings,
      budget: order.budget,
      outDir,
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      model: null,
      phase: null,
      models: { attention: waiting(epochs), plain: waiting(epochs) },
      fraction: 0,
      htmlPath: null,
      reportPath: null,
      warnings: [],
    };
  }

  protected override newLive(record: CompareJobRecord): Live {
    return { ...super.newLive(record), startedAt: { attention: 0, plain: 0 } };
  }

  protected taskOrder(order: CompareJobOrder, outDir: string): TaskOrder {
    return { kind: 'compare', folder: order.dataset, outDir, options: order.options };
  }

  protected follow(live: Live): TaskListeners {
    return { onCompareEvent: (event) => this.onCompareEvent(live, event) };
  }

  protected endOf(live: Live, outcome: Extract<TaskOutcome, { type: 'compared' }>): TaskJobEnd {
    if (outcome.status === 'cancelled')
      return {
        status: 'cancelled',
        message: 'The comparison was stopped; no report was written. The run folders keep their checkpoints.',
      };
    live.record.reportPath = outcome.reportPath ?? null;
    live.record.htmlPath = outcome.htmlPath ?? null;
    return { status: 'completed', message: outcome.verdict ?? 'The comparison has finished.' };
  }

  protected leftRunning(record: CompareJobRecord): CompareJobRecord {
    return {
      ...record,
      status: 'cancelled',
      model: null,
      phase: null,
      message:
        'The app was closed while this comparison ran; no report was written. The run folders keep their checkpoints.',
    };
  }

  protected override afterEnd(record: CompareJobRecord): void {
    record.model = null;
    record.phase = null;
    if (record.status === 'completed') record.fraction = 1;
  }

  private onCompareEvent(live: Live, event: CompareEvent): void {
    const { record } = live;
    let urgent = true;
    if (event.type === 'compare-started') record.budget = event.budget;
    else if (event.type === 'model-started') {
      record.model = event.model;
      record.models[event.model].state = 'training';
      live.startedAt[event.model] = performance.now();
    } else if (event.type === 'training') {
      const p = record.models[event.model];
      const e = event.event;
      if (e.type === 'started') {
        p.epochs = e.epochs;
        p.stepsPerEpoch = e.stepsPerEpoch;
        live.startedAt[event.model] = performance.now();
      } else if (e.type === 'step') {
        p.epoch = e.epoch;
        p.step = e.step;
        p.stepsPerEpoch = e.stepsPerEpoch;
        p.imagesPerSecond = e.imagesPerSecond;
        urgent = false;
      } else if (e.type === 'epoch') {
        p.epoch = e.epoch + 1;
        p.step = 0;
      } else if (e.type === 'evaluated') p.accuracy = e.accuracy;
      else if (e.type === 'warning') this.warn(record, e.message);
      else if (e.type !== 'finished') urgent = false;
      p.elapsedSeconds = (performance.now() - live.startedAt[event.model]) / 1000;
    } else if (event.type === 'model-finished') {
      const p = record.models[event.model];
      p.state = 'finished';
      p.status = event.status;
      p.accuracy = event.accuracy;
      if (record.model === event.model) record.model = null;
    } else if (event.type === 'phase') {
      record.model = null;
      record.phase = event.phase;
    } else if (event.type === 'warning') this.warn(record, event.message);
    // Training is most of the time: each model 47.5 %, the steps after training the last 5 %.
    const training =
      (modelFraction(record.models.attention, record.budget) +
        modelFraction(record.models.plain, record.budget)) /
      2;
    const after = record.phase ? (COMPARE_PHASES.indexOf(record.phase) + 1) / COMPARE_PHASES.length : 0;
    record.fraction = TRAINING_SHARE * training + (1 - TRAINING_SHARE) * after;
    record.updatedAt = new Date().toISOString();
    this.onEvent(record.id, event);
    this.announce(live, urgent);
  }

  /** Both models scan the same folder, so they say the same things: each warning is kept once. */
  private warn(record: CompareJobRecord, message: string): void {
    if (!record.warnings.includes(message)) record.warnings.push(message);
  }
}
