// The registry of comparisons (attention-VGG against the plain VGG16_bn head, main/services/compare):
// each runs in a task worker (background-task.ts), off the main thread, into its own folder under the
// workspace (job.json beside the comparison's run folders, models and report). job.json is written when
// the comparison starts and when it ends; its live progress (which model trains, its epoch and step, the
// phase after training) is held here and announced through `onChange` at most a few times a second,
// while every service event goes to `onEvent` (the UI draws both models' loss and accuracy from them).
// One comparison at a time: it trains on every core. Must not import electron or anything from
// main/electron, main/server, main/cli or renderer.
import { COMPARE_PHASES, type CompareJob, type CompareModelProgress } from '../../api/compare-schemas.js';
import type { CompareEvent, CompareOptions } from '../compare/index.js';
import { runTask, TaskError, type RunningTask } from './background-task.js';
import {
  announceDue,
  JOB_FILE,
  readJobRecord,
  writeEndedJobRecord,
  writeJobRecord,
  TaskJobRegistry,
  type LiveTaskJob,
  type TaskJobsOptions,
} from './job-record.js';

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

export class CompareJobConflictError extends Error {
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

export class CompareJobs extends TaskJobRegistry<CompareJobRecord, Live> {
  private readonly options: CompareJobsOptions;

  constructor(options: CompareJobsOptions) {
    super(options.rootDir, 30_000);
    this.options = options;
  }

  /** Starts a comparison; throws CompareJobConflictError while another one runs. */
  async start(order: CompareJobOrder, now = new Date()): Promise<CompareJobRecord> {
    const outDir = await this.openJobDir(
      order.id,
      () =>
        new CompareJobConflictError(
          'Another comparison is running and uses every core: wait for it or cancel it first.',
        ),
    );
    const epochs = order.budget.epochs;
    const record: CompareJobRecord = {
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
    await writeJobRecord(outDir, record);
    const live: Live = {
      record,
      task: undefined as unknown as RunningTask,
      ended: Promise.resolve(),
      lastAnnounced: 0,
      startedAt: { attention: 0, plain: 0 },
    };
    this.live.set(order.id, live);
    try {
      live.task = runTask(
        { kind: 'compare', folder: order.dataset, outDir, options: order.options },
        () => undefined,
        this.options.createWorker,
        (event) => this.onCompareEvent(live, event),
      );
    } catch (error) {
      this.live.delete(order.id);
      throw error;
    }
    live.ended = live.task.done.then(
      (outcome) => {
        if (outcome.type !== 'compared')
          return this.finish(live, 'failed', 'Unexpected answer from the worker.');
        if (outcome.status === 'cancelled')
          return this.finish(
            live,
            'cancelled',
            'The comparison was stopped; no report was written. The run folders keep their checkpoints.',
          );
        record.reportPath = outcome.reportPath ?? null;
        record.htmlPath = outcome.htmlPath ?? null;
        return this.finish(live, 'completed', outcome.verdict ?? 'The comparison has finished.');
      },
      (error: unknown) =>
        this.finish(live, 'failed', error instanceof TaskError ? error.message : String(error)),
    );
    this.options.onChange({ ...record });
    return { ...record };
  }

  protected read(id: string): Promise<CompareJobRecord | null> {
    return readJobRecord<CompareJobRecord>(this.jobDir(id), { format: COMPARE_JOB_FORMAT, id }, (record) => ({
      ...record,
      status: 'cancelled',
      model: null,
      phase: null,
      message:
        'The app was closed while this comparison ran; no report was written. The run folders keep their checkpoints.',
    }));
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
    this.options.onEvent(record.id, event);
    if (announceDue(live, urgent)) this.options.onChange(structuredClone(record));
  }

  /** Both models scan the same folder, so they say the same things: each warning is kept once. */
  private warn(record: CompareJobRecord, message: string): void {
    if (!record.warnings.includes(message)) record.warnings.push(message);
  }

  private async finish(live: Live, status: CompareJob['status'], message: string): Promise<void> {
    const { record } = live;
    record.status = status;
    record.message = message;
    record.model = null;
    record.phase = null;
    if (status === 'completed') record.fraction = 1;
    record.updatedAt = new Date().toISOString();
    await writeEndedJobRecord(record.outDir, record, "The comparison's record");
    this.live.delete(record.id);
    this.options.onChange(structuredClone(record));
  }
}
