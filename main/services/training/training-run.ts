// The training loop of a run folder: start a new run or resume a stopped one from its last complete
// checkpoint (resume-point.ts: or from the best one, with a warning, when the last is damaged). Emits
// TrainingEvents, writes metrics, checkpoints (atomically) and the final evaluation.
// Stops cleanly at a step boundary when asked (pause or cancel), leaving a checkpoint to resume from.
// The arithmetic (steps, weights, optimiser state, evaluation) goes through a TrainingEngine
// (training-engine.ts: TensorFlow.js or onnxruntime); checkpoints are the same for both.
// Must not import electron or anything from main/electron, main/server, main/cli or renderer.

import { createRandom } from '../../../models/core/random.js';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decodeSafetensors, encodeSafetensors } from '../../../models/core/safetensors.js';
import { validateSpec, type ModelSpec } from '../../../models/core/spec.js';
import { initWeights, type Weights } from '../../../models/core/weights.js';
import type { BackendName } from '../../../models/tfjs/backend.js';
import type { StepHyper } from '../../../models/train/optimizer.js';
import { scheduleAt } from '../../../models/train/schedule.js';
import { createBatchStream, epochOrder } from '../datasets/batch-stream.js';
import { createDecodeCache } from '../datasets/decode-cache.js';
import type { DatasetItem, DatasetScan } from '../datasets/dataset-types.js';
import { deriveSeed } from '../datasets/derive-seed.js';
import { findDatasetBoxes } from '../boxes/find-boxes.js';
import { scanDataset } from '../datasets/scan-dataset.js';
import { removeStaleTemporaries, writeFileAtomic, writeJsonAtomic } from '../storage/atomic-write.js';
import { APP_VERSION } from '../app-version.js';
import { sha256OfFile } from '../backbone/download.js';
import { resolveDevice } from '../device/resolve-device.js';
import { loadBackboneWeights } from '../backbone/load-backbone.js';
import { buildFeatureCache, splitMemoryBudget, type FeatureCache } from '../transfer/feature-cache.js';
import {
  createHeadTrainingEngine,
  usesFeatureCache,
  type HeadTrainingEngine,
} from './head-training-engine.js';
import { saveCheckpoint, type LoopPosition } from './checkpoint.js';
import { findResumePoint, ResumeError, type ResumePoint } from './resume-point.js';
import {
  appendMetric,
  prepareRunFolder,
  readRunRecord,
  runPath,
  writeRunRecord,
  type RunRecord,
} from './run-folder.js';
import { resolveConfig, type TrainingConfig } from './training-config.js';
import type { RunStatus, TrainingEvent, TrainingEventListener } from './training-events.js';
import {
  chooseTrainingEngine,
  createTrainingEngine,
  type EngineBatch,
  type EngineName,
  type EngineStepResult,
  type TrainingEngine,
} from './training-engine.js';

export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Asks a running loop to stop at the next step boundary. */
export class TrainingControl {
  stopRequested: 'pause' | 'cancel' | null = null;
  request(kind: 'pause' | 'cancel'): void {
    this.stopRequested = kind;
  }
}

export interface TrainingRunOptions {
  runDir: string;
  /** A TensorFlow.js backend to train on (asks for the tfjs engine). */
  backend?: BackendName;
  /** Forces an engine (else ATTNVGG_ENGINE, else the automatic choice of training-engine.ts). */
  engine?: EngineName;
  /** onnxruntime intra-op threads (default: the number of cores); 1 makes runs bitwise repeatable. */
  onnxThreads?: number;
  /**
   * The device asked for: cpu, webgpu, dml, cuda or auto (main/services/device). Absent: ATTNVGG_DEVICE,
   * else what the run asked for when it last started, else cpu.
   */
  device?: string;
  /** Where `auto` keeps its verdict (the workspace); absent: it measures each time. */
  deviceCacheDir?: string;
  /** On a GPU device, also checkpoint when this many seconds passed since the last (default 300). */
  gpuCheckpointSeconds?: number;
  /** Test hook: the onnxruntime trainer fails at this step of this session, as a lost device would. */
  failAtStep?: number;
  control?: TrainingControl;
  onEvent?: TrainingEventListener;
  /** Bytes of decoded images kept between epochs (default 512 MiB). */
  decodeCacheBytes?: number;
}

export interface TrainingResult {
  status: RunStatus;
  runDir: string;
  record: RunRecord;
}

function specOf(config: TrainingConfig, numClasses: number): ModelSpec {
  return validateSpec({
    inputSize: config.inputSize,
    width: config.width,
    numClasses,
    attention: config.attention,
    compatibility: config.compatibility,
    normalisation: config.normalisation,
  });
}

async function scanForTraining(config: TrainingConfig, emit: TrainingEventListener): Promise<DatasetScan> {
  const scan = await scanDataset(config.dataset, { valFraction: config.valFraction, seed: config.seed });
  if (scan.errors.length > 0)
    throw new TrainingError(
      `The dataset cannot be trained on: ${scan.errors.map((e) => e.message).join(' ')}`,
    );
  for (const w of scan.warnings) emit({ type: 'warning', message: w.message });
  for (const p of scan.problems)
    emit({ type: 'skipped-file', path: p.path, reason: p.reason, message: p.message });
  return scan;
}

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
  const { runDir } = options;
  const control = options.control ?? new TrainingControl();
  // Metric lines are appended one after another, in event order (concurrent appends could reorder them).
  let written: Promise<void> = Promise.resolve();
  let skippedLogged = 0;
  const emit: TrainingEventListener = (event: TrainingEvent) => {
    options.onEvent?.(event);
    if (event.type === 'skipped-file' && ++skippedLogged > 10_000) return;
    written = written.then(() => appendMetric(runDir, event)).catch(() => undefined);
  };
  await prepareRunFolder(runDir);
  const resolution = await resolveDevice({
    device: options.device,
    fallback: previous?.deviceRequested ?? 'cpu',
    cacheDir: options.deviceCacheDir,
  });
  const choice = await chooseTrainingEngine({
    engine: options.engine,
    backend: options.backend,
    optimizer: config.optimizer,
    device: resolution.device,
  });
  const scan = await scanForTraining(config, emit);
  const classes = scan.classes.map((c) => c.name);
  const spec = specOf(config, classes.length);
  const train = scan.items.filter((i) => i.split === 'train');
  const val = scan.items.filter((i) => i.split === 'val');
  const test = scan.items.filter((i) => i.split === 'test');
  if (train.length === 0) throw new TrainingError('The dataset has no training images after the split.');
  if (val.length === 0)
    emit({
      type: 'warning',
      message: 'No validation images: accuracy is reported on the training images, which overstates it.',
    });

  const stepsPerEpoch = Math.ceil(train.length / config.batchSize);
  let checkpoint: ResumePoint | null = null;
  if (previous) {
    if (previous.classes.join('\n') !== classes.join('\n'))
      throw new TrainingError(
        `The dataset's classes changed since the run started (was: ${previous.classes.join(', ')}; now: ${classes.join(', ')}); start a new run`,
      );
    if (previous.datasetFingerprint !== scan.fingerprint)
      emit({
        type: 'warning',
        message:
          'The dataset folder changed since the run started; training continues on its current content.',
      });
    // Each kill -9 during a checkpoint write leaves a checkpoint-sized hidden temporary behind.
    await removeStaleTemporaries(runDir);
    await removeStaleTemporaries(dirname(runPath(runDir, 'lastCheckpoint')));
    checkpoint = await findResumePoint(runDir, spec, stepsPerEpoch, emit).catch((error: unknown) => {
      throw error instanceof ResumeError ? new TrainingError(error.message) : error;
    });
  }
  const record: RunRecord = previous ?? {
    format: 'attnvgg-run/1',
    id: runDir.split(/[\\/]/).filter(Boolean).pop() ?? 'run',
    status: 'created',
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    config,
    spec,
    classes,
    datasetFingerprint: scan.fingerprint,
    backend: '',
    appVersion: APP_VERSION,
  };

  let weights = checkpoint?.weights;
  if (!weights) {
    weights = initWeights(spec, createRandom(deriveSeed(config.seed, 'init')));
    if (config.backbone) {
      // A pretrained backbone replaces the initial features.* (the heads keep their seeded start).
      // Both stream the file: a 528 MB checkpoint is never held whole.
      const [imported, sha256] = await Promise.all([
        loadBackboneWeights(config.backbone, spec),
        sha256OfFile(config.backbone),
      ]);
      for (const [name, a] of imported) if (name.startsWith('features.')) weights.set(name, a);
      record.backbone = { file: config.backbone, sha256 };
    }
  }
  const setup = {
    spec,
    weights,
    optimizer: { name: config.optimizer, momentum: config.momentum, weightDecay: config.weightDecay },
    optimizerState: checkpoint?.optimizer,
    frozenBlocks: config.freezeBlocks,
    labelSmoothing: config.labelSmoothing,
    intraOpThreads: options.onnxThreads,
    device: resolution.device,
    failAtStep: options.failAtStep,
  };
  // A pretrained backbone with blocks 1..5 or 1..4 frozen: their outputs are computed once (feature
  // caches) and the chosen engine trains the rest (the heads, and block 5 with 4 frozen blocks) on them;
  // otherwise it trains the full model from these weights.
  const heads: HeadTrainingEngine | null = usesFeatureCache(config)
    ? await createHeadTrainingEngine(choice, setup)
    : null;
  const engine: TrainingEngine = heads ?? (await createTrainingEngine(choice, setup));
  if (heads) choice.reasons.push(heads.reason);
  record.backend = engine.backend;
  record.engine = engine.name;
  record.engineReasons = choice.reasons;
  record.device = engine.device;
  record.deviceRequested = resolution.requested;
  record.deviceReasons =
    engine.device === resolution.device
      ? resolution.reasons
      : [...resolution.reasons, `the ${engine.name} engine runs on the ${engine.device}`];
  if (resolution.adapter) record.adapter = resolution.adapter;
  else delete record.adapter;
  const caches: { train: FeatureCache | null; val: FeatureCache | null } = { train: null, val: null };
  const position: LoopPosition = checkpoint?.position ?? {
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    bestValAccuracy: -1,
    bestEpoch: -1,
    epochsWithoutImprovement: 0,
    trainSeconds: 0,
  };
  const totalSteps = config.epochs * stepsPerEpoch;
  const cache = createDecodeCache({ maxBytes: options.decodeCacheBytes ?? 512 * 1024 * 1024 });
  const evalOptions = {
    classes,
    inputSize: config.inputSize,
    batchSize: Math.max(config.batchSize, 32),
    mean: config.mean,
    std: config.std,
  };
  let lastSave = performance.now();
  const save = async (): Promise<void> => {
    lastSave = performance.now();
    await saveCheckpoint(runPath(runDir, 'lastCheckpoint'), {
      weights: await engine.weights(),
      optimizer: await engine.optimizerState(),
      position: { ...position },
    });
    emit({
      type: 'checkpoint',
      path: runPath(runDir, 'lastCheckpoint'),
      epoch: position.epoch,
      stepInEpoch: position.stepInEpoch,
    });
  };
  const finish = async (status: RunStatus, message: string): Promise<TrainingResult> => {
    record.status = status;
    record.message = message;
    await writeRunRecord(runDir, record);
    emit({ type: 'finished', status, runDir, message });
    await written;
    return { status, runDir, record };
  };

  /**
   * Computes the frozen backbone's features of the training and validation images (rebuilt identically
   * on resume), emitting 'caching' progress. A pause or cancel while caching stops with a checkpoint of
   * the starting weights; returns that result, or null when the caches are ready.
   */
  const buildCaches = async (): Promise<TrainingResult | null> => {
    const backbone: Weights = new Map([...weights].filter(([name]) => name.startsWith('features.')));
    const abort = new AbortController();
    const trainViews = config.augment === false ? 1 : (config.cachedViews ?? 1);
    // Runs recorded before the setting existed have none: they cached in half precision.
    const precision = config.featureCachePrecision ?? 'float16';
    const budgets = splitMemoryBudget(config.featureCacheMemoryBytes, {
      train: train.length * trainViews,
      val: val.length,
    });
    const build = (items: readonly DatasetItem[], split: 'train' | 'val', views: number) => {
      let last = 0;
      return buildFeatureCache(items, {
        spec,
        backbone,
        frozenBlocks: config.freezeBlocks,
        views,
        precision,
        augment: config.augment || undefined,
        seed: config.seed,
        mean: config.mean,
        std: config.std,
        memoryLimitBytes: budgets[split],
        spillDir: join(runDir, 'feature-cache'),
        threads: options.onnxThreads,
        device: resolution.device,
        signal: abort.signal,
        onProgress: ({ done, total }) => {
          if (control.stopRequested) abort.abort();
          const now = performance.now();
          if (done === total || done === 0 || now - last >= 500) {
            last = now;
            emit({ type: 'caching', split, done, total, precision });
          }
        },
        onSkip: (s) =>
          emit({ type: 'skipped-file', path: s.path, reason: s.error.reason, message: s.error.message }),
      });
    };
    try {
      emit({ type: 'caching', split: 'train', done: 0, total: train.length, precision });
      // Without augmentation every view would be the plain picture: one is enough.
      caches.train = await build(train, 'train', trainViews);
      if (val.length > 0) {
        emit({ type: 'caching', split: 'val', done: 0, total: val.length, precision });
        caches.val = await build(val, 'val', 1);
      }
      return null;
    } catch (error) {
      if (!control.stopRequested) throw error;
      await save();
      return finish(
        control.stopRequested === 'pause' ? 'paused' : 'cancelled',
        'Stopped while computing the backbone features; resume computes them again.',
      );
    }
  };

  try {
    record.status = 'running';
    await writeRunRecord(runDir, record);
    emit({
      type: 'started',
      runDir,
      backend: engine.backend,
      engine: engine.name,
      device: engine.device,
      classes,
      trainImages: train.length,
      valImages: val.length,
      epochs: config.epochs,
      stepsPerEpoch,
      ...(checkpoint ? { resumedAt: { epoch: position.epoch, stepInEpoch: position.stepInEpoch } } : {}),
    });
    if (heads) {
      const stopped = await buildCaches();
      if (stopped) return stopped;
    }
    let stoppedEarly = false;
    for (let epoch = position.epoch; epoch < config.epochs && !stoppedEarly; epoch++) {
      const order = epochOrder(train.length, { seed: config.seed, epoch });
      const skip = epoch === position.epoch ? position.stepInEpoch * config.batchSize : 0;
      const items = order.slice(skip).map((i) => train[i]);
      const steps =
        heads && caches.train
          ? cachedSteps(heads, caches.train, {
              epoch,
              batchSize: config.batchSize,
              seed: config.seed,
              skip: epoch === position.epoch ? position.stepInEpoch : 0,
            })
          : imageSteps(
              engine,
              createBatchStream(items, {
                batchSize: config.batchSize,
                inputSize: config.inputSize,
                shuffle: false,
                seed: deriveSeed(config.seed, 'epoch'),
                epoch,
                augment: config.augment,
                mean: config.mean,
                std: config.std,
                cache,
                onSkip: (s) =>
                  emit({
                    type: 'skipped-file',
                    path: s.path,
                    reason: s.error.reason,
                    message: s.error.message,
                  }),
              }),
            );
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let stepSecondsAvg = 0;
      for await (const batch of steps) {
        const started = performance.now();
        const hyper = scheduleAt({ name: config.schedule, lr: config.lr }, position.globalStep, totalSteps);
        const result = await batch
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
        stepSecondsAvg = stepSecondsAvg === 0 ? seconds : 0.9 * stepSecondsAvg + 0.1 * seconds;
        position.globalStep += 1;
        position.stepInEpoch += 1;
        lossSum += result.loss * batch.size;
        correct += result.correct;
        seen += batch.size;
        emit({
          type: 'step',
          epoch,
          step: position.stepInEpoch,
          stepsPerEpoch,
          globalStep: position.globalStep,
          loss: result.loss,
          accuracy: result.correct / batch.size,
          lr: hyper.lr,
          imagesPerSecond: batch.size / seconds,
          etaSeconds: stepSecondsAvg * (totalSteps - position.globalStep),
        });
        if (control.stopRequested) {
          await save();
          const kind = control.stopRequested;
          return await finish(
            kind === 'pause' ? 'paused' : 'cancelled',
            `Stopped at epoch ${epoch + 1}, step ${position.stepInEpoch}; resume continues from there.`,
          );
        }
        // On a GPU the state lives on the device, which can be lost: checkpoint every few minutes too.
        const gpuDue =
          engine.device !== 'cpu' &&
          performance.now() - lastSave >= 1000 * (options.gpuCheckpointSeconds ?? 300);
        if (
          gpuDue ||
          (config.checkpointEverySteps > 0 && position.globalStep % config.checkpointEverySteps === 0)
        )
          await save();
      }
      const valItems = val.length > 0 ? val : train;
      const validation =
        heads && caches.train
          ? await heads.validateCached(caches.val ?? caches.train)
          : await engine
              .evaluate(valItems, { ...evalOptions, split: 'val', keepMisclassifiedMaps: 0 })
              .then(({ report }) => ({ loss: report.loss, accuracy: report.metrics.accuracy }));
      const valAccuracy = validation.accuracy;
      const improved = valAccuracy > position.bestValAccuracy;
      if (improved) {
        position.bestValAccuracy = valAccuracy;
        position.bestEpoch = epoch;
        position.epochsWithoutImprovement = 0;
        await writeFileAtomic(
          runPath(runDir, 'bestCheckpoint'),
          encodeSafetensors(await engine.weights(), { epoch: String(epoch) }),
        );
      } else position.epochsWithoutImprovement += 1;
      emit({
        type: 'epoch',
        epoch,
        epochs: config.epochs,
        trainLoss: lossSum / Math.max(1, seen),
        trainAccuracy: correct / Math.max(1, seen),
        valLoss: validation.loss,
        valAccuracy,
        trainSeconds: position.trainSeconds,
        improved,
      });
      position.epoch = epoch + 1;
      position.stepInEpoch = 0;
      await save();
      if (
        config.earlyStoppingPatience > 0 &&
        position.epochsWithoutImprovement >= config.earlyStoppingPatience
      )
        stoppedEarly = true;
    }

    // The final model is the one with the best validation accuracy.
    const best = await loadBestWeights(runDir);
    const evalSplit = test.length > 0 ? 'test' : val.length > 0 ? 'val' : 'train';
    const evalItems: DatasetItem[] = test.length > 0 ? test : val.length > 0 ? val : train;
    // Pictures with object boxes also get the pointing game (boxes/find-boxes.ts; none: no localisation).
    const boxes = scan.boxes.pictures > 0 ? (await findDatasetBoxes(scan.root, evalItems)).boxes : undefined;
    const { report, maps } = await engine.evaluate(
      evalItems,
      {
        ...evalOptions,
        split: evalSplit,
        keepMisclassifiedMaps: config.keepMisclassifiedMaps,
        ...(boxes && boxes.size > 0 ? { boxes: Object.fromEntries(boxes) } : {}),
      },
      best ?? undefined,
    );
    await writeFileAtomic(runPath(runDir, 'evaluationMaps'), encodeSafetensors(maps));
    await writeJsonAtomic(runPath(runDir, 'evaluation'), report);
    emit({
      type: 'evaluated',
      split: evalSplit,
      accuracy: report.metrics.accuracy,
      images: report.metrics.total,
      path: runPath(runDir, 'evaluation'),
    });
    const status: RunStatus = stoppedEarly ? 'stopped-early' : 'completed';
    return await finish(
      status,
      `${evalSplit} accuracy ${(100 * report.metrics.accuracy).toFixed(1)} % on ${report.metrics.total} images (best epoch ${position.bestEpoch + 1}).`,
    );
  } catch (error) {
    await finish('failed', (error as Error).message).catch(() => undefined);
    throw error;
  } finally {
    await Promise.all([caches.train?.dispose(), caches.val?.dispose()]);
    await engine.dispose();
  }
}

type LoopStep = { size: number; run: (hyper: StepHyper) => Promise<EngineStepResult> };

async function* imageSteps(
  engine: TrainingEngine,
  stream: AsyncIterable<EngineBatch>,
): AsyncGenerator<LoopStep> {
  for await (const batch of stream) yield { size: batch.size, run: (hyper) => engine.step(batch, hyper) };
}

/** One epoch of the cached features' batches, without the first `skip` (already trained before a pause). */
async function* cachedSteps(
  heads: HeadTrainingEngine,
  cache: FeatureCache,
  options: { epoch: number; batchSize: number; seed: number; skip: number },
): AsyncGenerator<LoopStep> {
  let index = 0;
  for await (const batch of cache.epoch(options)) {
    if (index++ < options.skip) continue;
    yield { size: batch.size, run: (hyper) => heads.stepCached(batch, hyper) };
  }
}

async function loadBestWeights(runDir: string): Promise<Weights | null> {
  try {
    return decodeSafetensors(await readFile(runPath(runDir, 'bestCheckpoint'))).tensors;
  } catch {
    return null;
  }
}
