// What a training run starts from, worked out before its first step: the device and engine, the
// dataset's scan and split, the model spec, the resume point of a stopped run, the run record, the
// starting weights (seeded, with a pretrained backbone's features) and the opened engine (on images, or
// on cached features for a pretrained backbone with blocks 1..4 or 1..5 frozen). training-run.ts then
// drives the steps. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.

import { dirname } from 'node:path';
import { createRandom } from '../../../models/core/random.js';
import { validateSpec, type ModelSpec } from '../../../models/core/spec.js';
import { initWeights, type Weights } from '../../../models/core/weights.js';
import { APP_VERSION } from '../app-version.js';
import { sha256OfFile } from '../backbone/download.js';
import { loadBackboneWeights } from '../backbone/load-backbone.js';
import type { DatasetItem, DatasetScan } from '../datasets/dataset-types.js';
import { deriveSeed } from '../datasets/derive-seed.js';
import { scanDataset } from '../datasets/scan-dataset.js';
import { resolveDevice, type DeviceResolution } from '../device/resolve-device.js';
import { removeStaleTemporaries } from '../storage/atomic-write.js';
import {
  createHeadTrainingEngine,
  usesFeatureCache,
  type HeadTrainingEngine,
} from './head-training-engine.js';
import { findResumePoint, ResumeError, type ResumePoint } from './resume-point.js';
import { prepareRunFolder, runPath, type RunRecord } from './run-folder.js';
import { featureCachePrecisionOf, type TrainingConfig } from './training-config.js';
import type { EngineSetup, TrainingEngine } from './training-engine-interface.js';
import { chooseTrainingEngine, createTrainingEngine, type EngineChoice } from './training-engine.js';
import { TrainingError, type TrainingRunOptions } from './training-run-types.js';
import type { TrainingEventListener } from './training-events.js';

export interface RunSetup {
  config: TrainingConfig;
  spec: ModelSpec;
  classes: string[];
  scan: DatasetScan;
  train: DatasetItem[];
  val: DatasetItem[];
  test: DatasetItem[];
  stepsPerEpoch: number;
  /** Where a resumed run continues from; null for a new run. */
  checkpoint: ResumePoint | null;
  record: RunRecord;
  /** The weights the engine started from (the checkpoint's, or the seeded ones with the backbone). */
  weights: Weights;
  engine: TrainingEngine;
  /** The engine again when the run trains on cached features, else null. */
  heads: HeadTrainingEngine | null;
  resolution: DeviceResolution;
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

/** A stopped run's resume point, after checking that the dataset still fits it. */
async function resumePointOf(
  previous: RunRecord,
  runDir: string,
  facts: { scan: DatasetScan; classes: string[]; spec: ModelSpec; stepsPerEpoch: number },
  emit: TrainingEventListener,
): Promise<ResumePoint | null> {
  if (previous.classes.join('\n') !== facts.classes.join('\n'))
    throw new TrainingError(
      `The dataset's classes changed since the run started (was: ${previous.classes.join(', ')}; now: ${facts.classes.join(', ')}); start a new run`,
    );
  if (previous.datasetFingerprint !== facts.scan.fingerprint)
    emit({
      type: 'warning',
      message: 'The dataset folder changed since the run started; training continues on its current content.',
    });
  // Each kill -9 during a checkpoint write leaves a checkpoint-sized hidden temporary behind.
  await removeStaleTemporaries(runDir);
  await removeStaleTemporaries(dirname(runPath(runDir, 'lastCheckpoint')));
  return findResumePoint(runDir, facts.spec, facts.stepsPerEpoch, emit).catch((error: unknown) => {
    throw error instanceof ResumeError ? new TrainingError(error.message) : error;
  });
}

/** A new run's weights: seeded, with a pretrained backbone's features.* when one is configured. */
async function startingWeights(config: TrainingConfig, spec: ModelSpec, record: RunRecord): Promise<Weights> {
  const weights = initWeights(spec, createRandom(deriveSeed(config.seed, 'init')));
  if (!config.backbone) return weights;
  // The heads keep their seeded start. Both stream the file: a 528 MB checkpoint is never held whole.
  const [imported, sha256] = await Promise.all([
    loadBackboneWeights(config.backbone, spec),
    sha256OfFile(config.backbone),
  ]);
  for (const [name, a] of imported) if (name.startsWith('features.')) weights.set(name, a);
  record.backbone = { file: config.backbone, sha256 };
  return weights;
}

/**
 * Opens the chosen engine: on cached features for a pretrained backbone with blocks 1..5 or 1..4 frozen
 * (the heads, and block 5 with 4 frozen blocks, train on them), else on images; and records which,
 * where and why in the run record.
 */
async function openEngine(
  config: TrainingConfig,
  setup: EngineSetup,
  choice: EngineChoice,
  resolution: DeviceResolution,
  record: RunRecord,
): Promise<{ engine: TrainingEngine; heads: HeadTrainingEngine | null }> {
  const heads = usesFeatureCache(config) ? await createHeadTrainingEngine(choice, setup) : null;
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
  return { engine, heads };
}

/** Everything a run needs before its first step (see the module comment). */
export async function prepareRun(
  config: TrainingConfig,
  previous: RunRecord | null,
  options: TrainingRunOptions,
  emit: TrainingEventListener,
): Promise<RunSetup> {
  const { runDir } = options;
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
  const checkpoint: ResumePoint | null = previous
    ? await resumePointOf(previous, runDir, { scan, classes, spec, stepsPerEpoch }, emit)
    : null;
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
  const weights = checkpoint?.weights ?? (await startingWeights(config, spec, record));
  const setup: EngineSetup = {
    spec,
    weights,
    optimizer: { name: config.optimizer, momentum: config.momentum, weightDecay: config.weightDecay },
    optimizerState: checkpoint?.optimizer,
    frozenBlocks: config.freezeBlocks,
    labelSmoothing: config.labelSmoothing,
    intraOpThreads: options.onnxThreads,
    device: resolution.device,
    failAtStep: options.failAtStep,
    featurePrecision: featureCachePrecisionOf(config),
  };
  const { engine, heads } = await openEngine(config, setup, choice, resolution, record);
  return {
    config,
    spec,
    classes,
    scan,
    train,
    val,
    test,
    stepsPerEpoch,
    checkpoint,
    record,
    weights,
    engine,
    heads,
    resolution,
  };
}
