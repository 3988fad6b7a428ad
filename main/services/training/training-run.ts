// The training loop of a run folder: start a new run or resume a stopped one from its last complete
// checkpoint (resume-point.ts: or from the best one, with a warning, when the last is damaged). Emits
// TrainingEvents, writes metrics, checkpoints (atomically) and the final evaluation.
// Stops cleanly at a step boundary when asked (pause or cancel), leaving a checkpoint to resume from.
// The arithmetic (steps, weights, optimiser state, evaluation) goes through a TrainingEngine
// (training-engine.ts: TensorFlow.js or onnxruntime); checkpoints are the same for both. The phases:
// run-setup.ts (device, engine, dataset, resume point, starting weights), step-sources.ts (the steps of
// an epoch, from images or from cached features), and here the TrainingRun that drives them.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { readFile } from 'node:fs/promises';
import { decodeSafetensors, encodeSafetensors } from '../../../models/core/safetensors.js';
import type { Weights } from '../../../models/core/weights.js';
import { scheduleAt } from '../../../models/train/schedule.js';
import { findDatasetBoxes } from '../boxes/find-boxes.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import { writeFileAtomic, writeJsonAtomic } from '../storage/atomic-write.js';
import { saveCheckpoint, type LoopPosition } from './checkpoint.js';
import { appendMetric, readRunRecord, runPath, writeRunRecord, type RunRecord } from './run-folder.js';
import { prepareRun, type RunSetup } from './run-setup.js';
import {
  cachedStepSource,
  imageStepSource,
  type LoopStep,
  type StepSource,
  type StepSourceContext,
} from './step-sources.js';
import { resolveConfig, type TrainingConfig } from './training-config.js';
import type { RunStatus, TrainingEvent, TrainingEventListener } from './training-events.js';
import {
  TrainingControl,
  TrainingError,
  type TrainingResult,
  type TrainingRunOptions,
} from './training-run-types.js';

export { TrainingControl, TrainingError, type TrainingResult, type TrainingRunOptions };

/** Starts a new run in `options.runDir` (created if needed; an existing run there is refused). */
export async function startTraining(
  partial: Partial<TrainingConfig> & { dataset: string },
  options: TrainingRunOptions & { preset?: Parameters<typeof resolveConfig>[1] },
): Promise<TrainingResult> {
  const config = resolveConfig(partial, options.preset);
  const existing = await readRunRecord(options.runDir).catch(() => null);
  if (existing)
    throw new TrainingError(
      `${options.runDir} already holds a run (status ${existing.status}); resume it or choose another folder`,
    );
  return runLoop(config, null, options);
}

/** Continues a run from its last complete checkpoint. */
export async function resumeTraining(options: TrainingRunOptions): Promise<TrainingResult> {
  const record = await readRunRecord(options.runDir);
  if (record.status === 'completed' || record.status === 'stopped-early')
    throw new TrainingError(
      `The run in ${options.runDir} has already finished (${record.status}); nothing to resume`,
    );
  return runLoop(record.config, record, options);
}

async function runLoop(
  config: TrainingConfig,
  previous: RunRecord | null,
  options: TrainingRunOptions,
): Promise<TrainingResult> {
  const events = runEvents(options);
  const setup = await prepareRun(config, previous, options, events.emit);
  return new TrainingRun(setup, options, events).execute();
}

interface RunEvents {
  emit: TrainingEventListener;
  /** Resolves when every metric line so far is written. */
  written(): Promise<void>;
}

/** The run's event stream: to the listener, and appended to metrics.jsonl in event order. */
function runEvents(options: TrainingRunOptions): RunEvents {
  // Metric lines are appended one after another (concurrent appends could reorder them).
  let written: Promise<void> = Promise.resolve();
  let skippedLogged = 0;
  return {
    emit: (event: TrainingEvent) => {
      options.onEvent?.(event);
      if (event.type === 'skipped-file' && ++skippedLogged > 10_000) return;
      written = written.then(() => appendMetric(options.runDir, event)).catch(() => undefined);
    },
    written: () => written,
  };
}

const FRESH_POSITION: LoopPosition = {
  epoch: 0,
  stepInEpoch: 0,
  globalStep: 0,
  bestValAccuracy: -1,
  bestEpoch: -1,
  epochsWithoutImprovement: 0,
  trainSeconds: 0,
};

interface EpochTally {
  lossSum: number;
  correct: number;
  seen: number;
  stepSecondsAvg: number;
}

/**
 * One run from its prepared setup to a finished record: start (the caches, when the run trains on
 * cached features), epochs of steps with validation, the best weights and early stopping, the final
 * evaluation. A pause or cancel stops at a step boundary with a checkpoint; a failure leaves the record
 * 'failed' with the reason.
 */
class TrainingRun {
  private readonly control: TrainingControl;
  private readonly position: LoopPosition;
  private readonly totalSteps: number;
  private readonly source: StepSource;
  private readonly evalOptions: StepSourceContext['evalOptions'];
  private readonly emit: TrainingEventListener;
  private lastSave = performance.now();

  constructor(
    private readonly setup: RunSetup,
    private readonly options: TrainingRunOptions,
    private readonly events: RunEvents,
  ) {
    const { config } = setup;
    this.emit = events.emit;
    this.control = options.control ?? new TrainingControl();
    this.position = setup.checkpoint?.position ?? { ...FRESH_POSITION };
    this.totalSteps = config.epochs * setup.stepsPerEpoch;
    this.evalOptions = {
      classes: setup.classes,
      inputSize: config.inputSize,
      batchSize: Math.max(config.batchSize, 32),
      mean: config.mean,
      std: config.std,
    };
    const ctx: StepSourceContext = {
      emit: events.emit,
      control: this.control,
      options,
      evalOptions: this.evalOptions,
    };
    this.source = setup.heads ? cachedStepSource(setup, setup.heads, ctx) : imageStepSource(setup, ctx);
  }

  async execute(): Promise<TrainingResult> {
    try {
      await this.start();
      if ((await this.source.prepare()) === 'stopped')
        return await this.stop('Stopped while computing the backbone features; resume computes them again.');
      let stoppedEarly = false;
      for (let epoch = this.position.epoch; epoch < this.setup.config.epochs && !stoppedEarly; epoch++) {
        const outcome = await this.runEpoch(epoch);
        if (outcome === 'stopped')
          return await this.stop(
            `Stopped at epoch ${epoch + 1}, step ${this.position.stepInEpoch}; resume continues from there.`,
          );
        stoppedEarly = outcome === 'early-stop';
      }
      return await this.evaluateBest(stoppedEarly);
    } catch (error) {
      await this.finish('failed', (error as Error).message).catch(() => undefined);
      throw error;
    } finally {
      await this.source.dispose();
      await this.setup.engine.dispose();
    }
  }

  private async start(): Promise<void> {
    const { record, engine, classes, train, val, config, stepsPerEpoch, checkpoint } = this.setup;
    record.status = 'running';
    await writeRunRecord(this.options.runDir, record);
    this.emit({
      type: 'started',
      runDir: this.options.runDir,
      backend: engine.backend,
      engine: engine.name,
      device: engine.device,
      classes,
      trainImages: train.length,
      valImages: val.length,
      epochs: config.epochs,
      stepsPerEpoch,
      ...(checkpoint
        ? { resumedAt: { epoch: this.position.epoch, stepInEpoch: this.position.stepInEpoch } }
        : {}),
    });
  }

  /** The steps of one epoch, its validation and the best weights; 'stopped' on a pause or cancel. */
  private async runEpoch(epoch: number): Promise<'stopped' | 'early-stop' | 'continue'> {
    const { config } = this.setup;
    const tally: EpochTally = { lossSum: 0, correct: 0, seen: 0, stepSecondsAvg: 0 };
    const skip = epoch === this.position.epoch ? this.position.stepInEpoch : 0;
    for await (const step of this.source.steps(epoch, skip)) {
      await this.runStep(step, epoch, tally);
      if (this.control.stopRequested) return 'stopped';
      await this.checkpointIfDue();
    }
    const validation = await this.source.validate();
    const improved = validation.accuracy > this.position.bestValAccuracy;
    if (improved) {
      this.position.bestValAccuracy = validation.accuracy;
      this.position.bestEpoch = epoch;
      this.position.epochsWithoutImprovement = 0;
      await writeFileAtomic(
        runPath(this.options.runDir, 'bestCheckpoint'),
        encodeSafetensors(await this.setup.engine.weights(), { epoch: String(epoch) }),
      );
    } else this.position.epochsWithoutImprovement += 1;
    this.emit({
      type: 'epoch',
      epoch,
      epochs: config.epochs,
      trainLoss: tally.lossSum / Math.max(1, tally.seen),
      trainAccuracy: tally.correct / Math.max(1, tally.seen),
      valLoss: validation.loss,
      valAccuracy: validation.accuracy,
      trainSeconds: this.position.trainSeconds,
      improved,
    });
    this.position.epoch = epoch + 1;
    this.position.stepInEpoch = 0;
    await this.save();
    const patience = config.earlyStoppingPatience;
    return patience > 0 && this.position.epochsWithoutImprovement >= patience ? 'early-stop' : 'continue';
  }

  /** One optimiser step at the scheduled learning rate, with its progress event. */
  private async runStep(step: LoopStep, epoch: number, tally: EpochTally): Promise<void> {
    const { config, engine, stepsPerEpoch } = this.setup;
    const position = this.position;
    const started = performance.now();
    const hyper = scheduleAt({ name: config.schedule, lr: config.lr }, position.globalStep, this.totalSteps);
    const result = await step
      .run({ lr: hyper.lr, momentum: hyper.momentum ?? config.momentum })
      .catch((error: unknown) => {
        if (engine.device === 'cpu') throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new TrainingError(
          `The ${engine.device} device failed at epoch ${epoch + 1}, step ${position.stepInEpoch + 1}: ${reason}. The run stopped; resume continues from its last checkpoint (--device cpu to continue on the CPU).`,
          { cause: error },
        );
      });
    if (!Number.isFinite(result.loss))
      throw new TrainingError(
        `Training diverged (loss ${result.loss}) at epoch ${epoch + 1}: lower the learning rate (now ${config.lr}) and resume or restart.`,
      );
    const seconds = (performance.now() - started) / 1000;
    position.trainSeconds += seconds;
    tally.stepSecondsAvg = tally.stepSecondsAvg === 0 ? seconds : 0.9 * tally.stepSecondsAvg + 0.1 * seconds;
    position.globalStep += 1;
    position.stepInEpoch += 1;
    tally.lossSum += result.loss * step.size;
    tally.correct += result.correct;
    tally.seen += step.size;
    this.emit({
      type: 'step',
      epoch,
      step: position.stepInEpoch,
      stepsPerEpoch,
      globalStep: position.globalStep,
      loss: result.loss,
      accuracy: result.correct / step.size,
      lr: hyper.lr,
      imagesPerSecond: step.size / seconds,
      etaSeconds: tally.stepSecondsAvg * (this.totalSteps - position.globalStep),
    });
  }

  /** Checkpoints every checkpointEverySteps, and on a GPU (whose device can be lost) every few minutes. */
  private async checkpointIfDue(): Promise<void> {
    const { config, engine } = this.setup;
    const gpuDue =
      engine.device !== 'cpu' &&
      performance.now() - this.lastSave >= 1000 * (this.options.gpuCheckpointSeconds ?? 300);
    const everySteps =
      config.checkpointEverySteps > 0 && this.position.globalStep % config.checkpointEverySteps === 0;
    if (gpuDue || everySteps) await this.save();
  }

  /** The final model is the one with the best validation accuracy, evaluated on the test split. */
  private async evaluateBest(stoppedEarly: boolean): Promise<TrainingResult> {
    const { test, val, train, scan, config, engine } = this.setup;
    const runDir = this.options.runDir;
    const best = await loadBestWeights(runDir);
    const evalSplit = test.length > 0 ? 'test' : val.length > 0 ? 'val' : 'train';
    const evalItems: DatasetItem[] = test.length > 0 ? test : val.length > 0 ? val : train;
    // Pictures with object boxes also get the pointing game (boxes/find-boxes.ts; none: no localisation).
    const boxes = scan.boxes.pictures > 0 ? (await findDatasetBoxes(scan.root, evalItems)).boxes : undefined;
    const { report, maps } = await engine.evaluate(
      evalItems,
      {
        ...this.evalOptions,
        split: evalSplit,
        keepMisclassifiedMaps: config.keepMisclassifiedMaps,
        ...(boxes && boxes.size > 0 ? { boxes: Object.fromEntries(boxes) } : {}),
      },
      best ?? undefined,
    );
    await writeFileAtomic(runPath(runDir, 'evaluationMaps'), encodeSafetensors(maps));
    await writeJsonAtomic(runPath(runDir, 'evaluation'), report);
    this.emit({
      type: 'evaluated',
      split: evalSplit,
      accuracy: report.metrics.accuracy,
      images: report.metrics.total,
      path: runPath(runDir, 'evaluation'),
    });
    return this.finish(
      stoppedEarly ? 'stopped-early' : 'completed',
      `${evalSplit} accuracy ${(100 * report.metrics.accuracy).toFixed(1)} % on ${report.metrics.total} images (best epoch ${this.position.bestEpoch + 1}).`,
    );
  }

  private async save(): Promise<void> {
    const { engine } = this.setup;
    this.lastSave = performance.now();
    const path = runPath(this.options.runDir, 'lastCheckpoint');
    await saveCheckpoint(path, {
      weights: await engine.weights(),
      optimizer: await engine.optimizerState(),
      position: { ...this.position },
    });
    this.emit({
      type: 'checkpoint',
      path,
      epoch: this.position.epoch,
      stepInEpoch: this.position.stepInEpoch,
    });
  }

  /** A pause or cancel: a checkpoint to resume from, and the record says which. */
  private async stop(message: string): Promise<TrainingResult> {
    const kind = this.control.stopRequested;
    await this.save();
    return this.finish(kind === 'pause' ? 'paused' : 'cancelled', message);
  }

  private async finish(status: RunStatus, message: string): Promise<TrainingResult> {
    const { record } = this.setup;
    record.status = status;
    record.message = message;
    await writeRunRecord(this.options.runDir, record);
    this.emit({ type: 'finished', status, runDir: this.options.runDir, message });
    await this.events.written();
    return { status, runDir: this.options.runDir, record };
  }
}

async function loadBestWeights(runDir: string): Promise<Weights | null> {
  try {
    return decodeSafetensors(await readFile(runPath(runDir, 'bestCheckpoint'))).tensors;
  } catch {
    return null;
  }
}
