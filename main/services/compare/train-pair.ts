// The first phase of a comparison (compare-attention.ts): trains the attention model and then the plain
// one, through the training service's public API (startTraining, run folders <outDir>/attention and
// <outDir>/plain), and tallies what each trained. Each run stops at the first step boundary past the time
// limit (when one is set), or when the user asks the comparison to stop. Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import { join } from 'node:path';
import type { TrainingConfig } from '../training/training-config.js';
import type { RunStatus, TrainingEvent } from '../training/training-events.js';
import { startTraining, TrainingControl } from '../training/training-run.js';
import type { CompareBudget, CompareModel, ModelSummary } from './compare-report.js';
import type { CompareSession } from './compare-session.js';

export interface TrainedModel {
  which: CompareModel;
  runDir: string;
  status: RunStatus;
  stoppedBy: ModelSummary['training']['stoppedBy'];
  steps: number;
  images: number;
  epochs: number;
  trainSeconds: number;
  wallSeconds: number;
  backend: string;
  /** Accuracy of the run's own final evaluation (null when the time limit stopped it before). */
  accuracy: number | null;
}

/** The budget each model gets: the time limit when there is one, else the epochs. */
export function budgetOf(timeLimitSeconds: number | undefined, epochs: number): CompareBudget {
  return timeLimitSeconds !== undefined
    ? { kind: 'time', seconds: timeLimitSeconds, epochs }
    : { kind: 'epochs', epochs };
}

/** Trains both models, attention first; `planned` is the resolved configuration both share. */
export async function trainBoth(session: CompareSession, planned: TrainingConfig): Promise<TrainedModel[]> {
  const models: CompareModel[] = ['attention', 'plain'];
  const trained: TrainedModel[] = [];
  for (const [index, which] of models.entries()) {
    if (index === 0) {
      session.emit({
        type: 'compare-started',
        outDir: session.outDir,
        dataset: session.dataset,
        budget: budgetOf(session.options.timeLimitSeconds, planned.epochs),
        models,
      });
    }
    session.checkStop();
    const t = await trainModel(session, which, index, planned.batchSize);
    trained.push(t);
    session.emit({ type: 'model-finished', model: which, status: t.status, accuracy: t.accuracy });
  }
  return trained;
}

async function trainModel(
  session: CompareSession,
  which: CompareModel,
  index: number,
  batchSize: number,
): Promise<TrainedModel> {
  const { options, dataset } = session;
  const runDir = join(session.outDir, which);
  const watch = new RunWatch(session, which, runDir, batchSize);
  session.emit({ type: 'model-started', model: which, index, runDir });
  const result = await startTraining(
    { ...options.training, attention: which === 'attention', dataset },
    {
      runDir,
      control: watch.control,
      onEvent: watch.onEvent,
      preset: options.preset,
      backend: options.backend,
      engine: options.engine,
      device: options.device,
      deviceCacheDir: options.deviceCacheDir,
    },
  );
  return watch.finish(result.status);
}

/**
 * Follows one run's training events: passes them on tagged with the model, tallies what it trained, and
 * stops it at the user's request or at the time limit.
 */
class RunWatch {
  readonly control = new TrainingControl();
  private readonly tally: TrainedModel;
  private started = 0;
  private trainImages = 0;
  private budgetReached = false;

  constructor(
    private readonly session: CompareSession,
    which: CompareModel,
    runDir: string,
    private readonly batchSize: number,
  ) {
    this.tally = {
      which,
      runDir,
      status: 'created',
      stoppedBy: 'epochs',
      steps: 0,
      images: 0,
      epochs: 0,
      trainSeconds: 0,
      wallSeconds: 0,
      backend: '',
      accuracy: null,
    };
  }

  readonly onEvent = (event: TrainingEvent): void => {
    this.record(event);
    this.session.emit({ type: 'training', model: this.tally.which, event });
    if (event.type === 'step') this.stopIfDue(event);
  };

  /** The tally once the run has returned; ends the comparison when the user stopped the run. */
  finish(status: RunStatus): TrainedModel {
    const t = this.tally;
    t.wallSeconds = this.started > 0 ? this.seconds() : 0;
    t.status = status;
    if (status === 'cancelled' || status === 'paused') {
      if (!this.budgetReached) this.session.stop();
      t.stoppedBy = 'time-limit';
    } else if (status === 'stopped-early') t.stoppedBy = 'early-stopping';
    return t;
  }

  private record(event: TrainingEvent): void {
    const t = this.tally;
    if (event.type === 'started') {
      this.started = performance.now();
      this.trainImages = event.trainImages;
      t.backend = event.backend;
    } else if (event.type === 'step') {
      // The loop reports images/s of each step; its images are the batch, fewer in an epoch's last one.
      const { batchSize } = this;
      const images = Math.max(1, Math.min(batchSize, this.trainImages - (event.step - 1) * batchSize));
      t.steps += 1;
      t.images += images;
      t.trainSeconds += images / event.imagesPerSecond;
    } else if (event.type === 'epoch') t.epochs = event.epoch + 1;
    else if (event.type === 'evaluated') t.accuracy = event.accuracy;
  }

  /** The loop checks its control right after emitting a step event: a request here stops at this step. */
  private stopIfDue(event: Extract<TrainingEvent, { type: 'step' }>): void {
    const userStop = this.session.control?.stopRequested;
    const limit = this.session.options.timeLimitSeconds;
    if (userStop) this.control.request(userStop);
    else if (limit !== undefined && !this.budgetReached && this.seconds() >= limit) {
      this.budgetReached = true;
      this.control.request('cancel');
      this.session.emit({
        type: 'budget-reached',
        model: this.tally.which,
        seconds: this.seconds(),
        epoch: event.epoch,
        step: event.step,
      });
    }
  }

  /** Seconds since the run started training. */
  private seconds(): number {
    return (performance.now() - this.started) / 1000;
  }
}
