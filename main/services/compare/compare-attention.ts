// "Does attention help on my data?": trains the attention model and the plain VGG16_bn head (attention
// off) on the same folder, split, seed, preset and budget, one after the other, through the training
// service's public API (startTraining, run folders); then evaluates both on the same images, runs
// McNemar's paired test, exports both to ONNX and times them, explains a sample of pictures with both
// (attention maps vs Grad-CAM), plays the pointing game where the dataset has boxes, and writes
// compare.json (checked against compare-report.ts) and a self-contained compare.html, atomically.
// Progress comes as CompareEvents; a TrainingControl stops it at the next step boundary.
// Must not import electron or anything from main/electron, main/server, main/cli or renderer.
//
//   <outDir>/attention/, <outDir>/plain/   the two run folders (resumable with `attnvgg resume`)
//   <outDir>/models/{attention,plain}.onnx + .json   the exported models
//   <outDir>/explanations/*.png           pictures and overlays shown in the report
//   <outDir>/compare.json, compare.html   the report

import { access, mkdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { countParameters } from '../../../models/core/spec.js';
import { selectBackend, type BackendName } from '../../../models/tfjs/backend.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { APP_VERSION } from '../app-version.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import { scanDataset } from '../datasets/scan-dataset.js';
import { exportRun, type ExportResult } from '../export/export-run.js';
import type { ObjectBox } from '../boxes/box-types.js';
import { boxesOfClass, findDatasetBoxes } from '../boxes/find-boxes.js';
import { boxesToInput } from '../boxes/map-box.js';
import { writeFileAtomic, writeJsonAtomic } from '../storage/atomic-write.js';
import { evaluateModel, type EvaluationReport } from '../training/evaluate-model.js';
import { loadRunModel, type RunModel } from '../training/load-run-model.js';
import { readRunRecord, runPath } from '../training/run-folder.js';
import { resolveConfig, type PresetName, type TrainingConfig } from '../training/training-config.js';
import type { RunStatus, TrainingEvent } from '../training/training-events.js';
import { startTraining, TrainingControl } from '../training/training-run.js';
import { renderCompareHtml } from './compare-html.js';
import {
  COMPARE_FORMAT,
  parseCompareReport,
  type CompareBudget,
  type CompareModel,
  type CompareReport,
  type ModelSummary,
} from './compare-report.js';
import { pairedPointingGame, renderExplanations, sampleForExplanations, type ModelPair } from './explain.js';
import { timeInference } from './inference-timing.js';
import { openPlainGradCam } from './plain-grad-cam.js';
import { classDifferences, pairedTest, pairPredictions, verdictOf } from './paired-results.js';

export const COMPARE_FILES = {
  report: 'compare.json',
  html: 'compare.html',
  models: 'models',
  explanations: 'explanations',
} as const;

export interface CompareOptions {
  /** Training settings both runs share (attention is set per run; the dataset is the folder). */
  training?: Partial<Omit<TrainingConfig, 'dataset' | 'attention'>>;
  preset?: PresetName;
  /**
   * Wall-clock seconds of training each model gets (from its run's start, validation included). Each run
   * stops at the first step boundary after it; the epochs setting still plans the schedule and caps the
   * run. Without it, both runs train for the configured epochs.
   */
  timeLimitSeconds?: number;
  backend?: BackendName;
  /** The training engine, as startTraining takes it (default: its automatic choice). */
  engine?: Parameters<typeof startTraining>[1]['engine'];
  /** The device both runs train on, and inference is timed on (cpu, webgpu, dml, cuda, auto). */
  device?: string;
  /** Where `auto` keeps its verdict (the workspace). */
  deviceCacheDir?: string;
  /** Pictures explained side by side in the report (default 8). */
  explainImages?: number;
  /** Pixel size the explanation pictures are drawn at (default max(128, S)). */
  explainSize?: number;
  /** Evaluation pictures timed for inference speed (default 512; all of them at most). */
  inferenceImages?: number;
  /** Inference batch (default 32), threads (default: the cores) and alternating rounds (default 3). */
  inferenceBatch?: number;
  inferenceThreads?: number;
  inferenceRounds?: number;
  /** Significance level of the verdict (default 0.05). */
  alpha?: number;
}

export interface CompareRunOptions {
  outDir: string;
  /** request('cancel' | 'pause'): stops at the next step boundary (or between phases); no report. */
  control?: TrainingControl;
  onEvent?: (event: CompareEvent) => void;
}

export type ComparePhase =
  'evaluating' | 'exporting' | 'timing-inference' | 'explaining' | 'pointing-game' | 'writing-report';

export type CompareEvent =
  | {
      type: 'compare-started';
      outDir: string;
      dataset: string;
      budget: CompareBudget;
      models: CompareModel[];
    }
  /** A run begins; `index` is 0 for the first model, 1 for the second. */
  | { type: 'model-started'; model: CompareModel; index: number; runDir: string }
  /** Every event of the run's own training loop, tagged with its model. */
  | { type: 'training'; model: CompareModel; event: TrainingEvent }
  | { type: 'budget-reached'; model: CompareModel; seconds: number; epoch: number; step: number }
  | { type: 'model-finished'; model: CompareModel; status: RunStatus; accuracy: number | null }
  | { type: 'phase'; phase: ComparePhase; model?: CompareModel }
  | { type: 'warning'; message: string }
  | {
      type: 'finished';
      /** 'failed': the error is also thrown to the caller, with the same message. */
      status: CompareStatus | 'failed';
      message: string;
      reportPath?: string;
      htmlPath?: string;
      verdict?: CompareReport['verdict'];
    };

export type CompareStatus = 'completed' | 'cancelled';

export interface CompareResult {
  status: CompareStatus;
  outDir: string;
  report?: CompareReport;
  reportPath?: string;
  htmlPath?: string;
}

export class CompareError extends Error {
  override name = 'CompareError';
}

class Cancelled extends Error {}

interface TrainedModel {
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

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function trainModel(
  which: CompareModel,
  index: number,
  dataset: string,
  options: CompareOptions,
  run: CompareRunOptions,
  emit: (e: CompareEvent) => void,
  batchSize: number,
): Promise<TrainedModel> {
  const runDir = join(run.outDir, which);
  const internal = new TrainingControl();
  const limit = options.timeLimitSeconds;
  let started = 0;
  let trainImages = 0;
  let budgetReached = false;
  const t: TrainedModel = {
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
  emit({ type: 'model-started', model: which, index, runDir });
  const onEvent = (event: TrainingEvent): void => {
    if (event.type === 'started') {
      started = performance.now();
      trainImages = event.trainImages;
      t.backend = event.backend;
    } else if (event.type === 'step') {
      // The loop reports images/s of each step; its images are the batch, fewer in an epoch's last one.
      const images = Math.max(1, Math.min(batchSize, trainImages - (event.step - 1) * batchSize));
      t.steps += 1;
      t.images += images;
      t.trainSeconds += images / event.imagesPerSecond;
    } else if (event.type === 'epoch') t.epochs = event.epoch + 1;
    else if (event.type === 'evaluated') t.accuracy = event.accuracy;
    emit({ type: 'training', model: which, event });
    if (event.type !== 'step') return;
    // The loop checks its control right after emitting a step event: a request here stops at this step.
    const userStop = run.control?.stopRequested;
    if (userStop) internal.request(userStop);
    else if (limit !== undefined && !budgetReached && (performance.now() - started) / 1000 >= limit) {
      budgetReached = true;
      internal.request('cancel');
      emit({
        type: 'budget-reached',
        model: which,
        seconds: (performance.now() - started) / 1000,
        epoch: event.epoch,
        step: event.step,
      });
    }
  };
  const result = await startTraining(
    { ...options.training, attention: which === 'attention', dataset },
    {
      runDir,
      control: internal,
      onEvent,
      preset: options.preset,
      backend: options.backend,
      engine: options.engine,
      device: options.device,
      deviceCacheDir: options.deviceCacheDir,
    },
  );
  t.wallSeconds = started > 0 ? (performance.now() - started) / 1000 : 0;
  t.status = result.status;
  if (result.status === 'cancelled' || result.status === 'paused') {
    if (!budgetReached) throw new Cancelled();
    t.stoppedBy = 'time-limit';
  } else if (result.status === 'stopped-early') t.stoppedBy = 'early-stopping';
  return t;
}

/** The split the training loop evaluates on: test when there is one, else validation, else training. */
function evaluationItems(items: readonly DatasetItem[]): { split: string; items: DatasetItem[] } {
  for (const split of ['test', 'val', 'train'] as const) {
    const list = items.filter((i) => i.split === split);
    if (list.length > 0) return { split, items: list };
  }
  return { split: 'test', items: [] };
}

/**
 * The run's evaluation.json; a run stopped by the time limit has none, so its model (the weights export
 * would use: best epoch, else the last checkpoint) is evaluated here on the same split, and the report
 * written into the run folder as the loop would have.
 */
async function evaluationOf(
  runDir: string,
  runModel: RunModel,
  evalSet: { split: string; items: DatasetItem[] },
): Promise<EvaluationReport> {
  try {
    const report = JSON.parse(await readFile(runPath(runDir, 'evaluation'), 'utf8')) as EvaluationReport;
    if (report.format === 'attnvgg-evaluation/1') return report;
  } catch {
    // not written: the run was stopped by the time limit
  }
  const { record } = runModel;
  const model = AttentionVgg.fromWeights(record.spec, runModel.weights);
  try {
    const { report } = await evaluateModel(model, evalSet.items, {
      classes: record.classes,
      split: evalSet.split,
      inputSize: record.spec.inputSize,
      batchSize: Math.max(32, record.config.batchSize),
      mean: record.config.mean,
      std: record.config.std,
      keepMisclassifiedMaps: 0,
    });
    await writeJsonAtomic(runPath(runDir, 'evaluation'), report);
    return report;
  } finally {
    model.dispose();
  }
}

/**
 * Boxes of the evaluated pictures in input pixels (size x size, the resize policy applied: boxes/map-box.ts),
 * only those of each picture's own class, or null when no picture has one.
 */
async function boxesOf(
  folder: string,
  items: readonly DatasetItem[],
  size: number,
): Promise<{ boxes: Record<string, ObjectBox[]>; size: number } | null> {
  const found = await findDatasetBoxes(folder, items);
  const boxes: Record<string, ObjectBox[]> = {};
  for (const item of items) {
    const list = found.boxes.get(item.relativePath);
    if (!list) continue;
    const own = boxesToInput(boxesOfClass(list, item.label), {
      width: item.width,
      height: item.height,
      size,
    });
    if (own.length > 0) boxes[item.relativePath] = own.map((b) => b.box);
  }
  return Object.keys(boxes).length > 0 ? { boxes, size } : null;
}

function summaryOf(
  outDir: string,
  trained: TrainedModel,
  runModel: RunModel,
  evaluation: EvaluationReport,
  inference: ModelSummary['inference'],
): ModelSummary {
  const { spec } = runModel.record;
  const m = evaluation.metrics;
  return {
    runDir: relative(outDir, trained.runDir),
    status: trained.status,
    attention: spec.attention,
    spec: { ...spec },
    parameters: {
      total: countParameters(spec),
      trainable: countParameters(spec, (p) => p.trainable),
    },
    evaluation: {
      split: evaluation.split,
      images: m.total,
      correct: evaluation.predictions.filter((p) => p.correct).length,
      accuracy: m.accuracy,
      accuracyInterval: m.accuracyInterval,
      macroF1: m.macroF1,
      loss: Number.isFinite(evaluation.loss) ? evaluation.loss : null,
      perClass: m.perClass,
      confusion: m.confusion,
      weights: runModel.source,
    },
    training: {
      stoppedBy: trained.stoppedBy,
      epochsCompleted: trained.epochs,
      steps: trained.steps,
      images: trained.images,
      trainSeconds: trained.trainSeconds,
      wallSeconds: trained.wallSeconds,
      imagesPerSecond: trained.trainSeconds > 0 ? trained.images / trained.trainSeconds : 0,
      backend: trained.backend,
    },
    inference,
  };
}

/**
 * Runs the whole comparison into `run.outDir` (created; refused if it already holds one). Resolves with
 * status 'cancelled' (no report) when run.control asks to stop; throws CompareError, TrainingError,
 * ConfigError and the like with plain-words messages.
 */
export async function compareAttention(
  folder: string,
  options: CompareOptions,
  run: CompareRunOptions,
): Promise<CompareResult> {
  const outDir = resolve(run.outDir);
  const dataset = resolve(folder);
  const emit = (event: CompareEvent): void => run.onEvent?.(event);
  if (options.timeLimitSeconds !== undefined && !(options.timeLimitSeconds > 0))
    throw new CompareError(
      `The time limit must be a positive number of seconds, got ${options.timeLimitSeconds}.`,
    );
  for (const name of ['attention', 'plain', COMPARE_FILES.report])
    if (await exists(join(outDir, name)))
      throw new CompareError(`${outDir} already holds a comparison (${name}); choose another folder.`);
  await mkdir(outDir, { recursive: true });
  const ctx: CompareRunOptions = { ...run, outDir };
  const stopRequested = (): boolean => Boolean(run.control?.stopRequested);
  const checkStop = (): void => {
    if (stopRequested()) throw new Cancelled();
  };
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    emit({ type: 'warning', message });
  };

  // Checks the settings before anything trains, and gives the planned epochs for the first event.
  const planned = resolveConfig({ ...options.training, dataset }, options.preset);
  try {
    const models: CompareModel[] = ['attention', 'plain'];
    const trained: TrainedModel[] = [];
    let budget: CompareBudget | null = null;
    for (const [index, which] of models.entries()) {
      if (index === 0) {
        emit({
          type: 'compare-started',
          outDir,
          dataset,
          budget:
            options.timeLimitSeconds !== undefined
              ? { kind: 'time', seconds: options.timeLimitSeconds, epochs: planned.epochs }
              : { kind: 'epochs', epochs: planned.epochs },
          models,
        });
      }
      checkStop();
      const t = await trainModel(which, index, dataset, options, ctx, emit, planned.batchSize);
      trained.push(t);
      emit({ type: 'model-finished', model: which, status: t.status, accuracy: t.accuracy });
    }

    emit({ type: 'phase', phase: 'evaluating' });
    // Evaluating a run stopped by the time limit, the attention model's maps in the explanations and the
    // pointing game run the models in TensorFlow.js, whichever engine trained them; Grad-CAM of the plain
    // model runs on onnxruntime, on the device its run trained on (plain-grad-cam.ts).
    await selectBackend(options.backend ? { prefer: options.backend } : {});
    const records = await Promise.all(trained.map((t) => readRunRecord(t.runDir)));
    const config = records[0].config;
    budget =
      options.timeLimitSeconds !== undefined
        ? { kind: 'time', seconds: options.timeLimitSeconds, epochs: config.epochs }
        : { kind: 'epochs', epochs: config.epochs };
    const scan = await scanDataset(dataset, { valFraction: config.valFraction, seed: config.seed });
    const evalSet = evaluationItems(scan.items);
    const runModels = await Promise.all(trained.map((t) => loadRunModel(t.runDir)));
    const evaluations: EvaluationReport[] = [];
    for (const [i, t] of trained.entries()) {
      checkStop();
      evaluations.push(await evaluationOf(t.runDir, runModels[i], evalSet));
    }
    const [attEval, plainEval] = evaluations;
    if (attEval.split !== plainEval.split)
      throw new CompareError(
        `The two runs were evaluated on different splits (${attEval.split}, ${plainEval.split}); the comparison needs the same images.`,
      );
    const table = pairPredictions(attEval, plainEval);
    if (table.unpaired > 0)
      warn(
        `${table.unpaired} images were evaluated by only one of the models and are left out of the paired test.`,
      );
    const test = pairedTest(table);
    const verdict = verdictOf(table, test, options.alpha ?? 0.05);
    for (const t of trained)
      if (t.stoppedBy === 'time-limit' && t.epochs === 0)
        warn(
          `The ${t.which} model did not finish one epoch within the time limit; it is evaluated as it stood.`,
        );

    emit({ type: 'phase', phase: 'exporting' });
    const modelsDir = join(outDir, COMPARE_FILES.models);
    const exported: ExportResult[] = [];
    for (const t of trained) {
      checkStop();
      exported.push(await exportRun(t.runDir, join(modelsDir, `${t.which}.onnx`), { overwrite: true }));
    }

    emit({ type: 'phase', phase: 'timing-inference' });
    const evaluated = new Set(attEval.predictions.map((p) => p.path));
    const evalItems = evalSet.items.filter((i) => evaluated.has(i.path));
    const timedItems = evalItems.slice(0, Math.max(1, options.inferenceImages ?? 512));
    const timing = await timeInference(
      exported.map((e) => e.modelPath),
      timedItems,
      {
        inputSize: config.inputSize,
        mean: config.mean,
        std: config.std,
        batch: options.inferenceBatch ?? 32,
        threads: options.inferenceThreads,
        device: runModels[0].record.device,
        rounds: options.inferenceRounds ?? 3,
        shouldStop: stopRequested,
      },
    );
    checkStop();

    const plainGradCam = await openPlainGradCam(
      runModels[1].record.spec,
      runModels[1].weights,
      runModels[1].record.device ?? 'cpu',
      warn,
    );
    const pair: ModelPair = {
      attention: AttentionVgg.fromWeights(runModels[0].record.spec, runModels[0].weights),
      plain: plainGradCam,
      classes: records[0].classes,
      inputSize: config.inputSize,
      mean: config.mean,
      std: config.std,
    };
    let explanations;
    let pointing: CompareReport['pointing'] = null;
    const displaySize = options.explainSize ?? Math.max(128, config.inputSize);
    try {
      emit({ type: 'phase', phase: 'explaining' });
      explanations = await renderExplanations(
        pair,
        sampleForExplanations(evalItems, options.explainImages ?? 8),
        displaySize,
      );
      checkStop();
      const boxes = await boxesOf(dataset, evalItems, config.inputSize);
      if (boxes) {
        emit({ type: 'phase', phase: 'pointing-game' });
        const p = await pairedPointingGame(pair, evalItems, boxes.boxes, boxes.size);
        const own = attEval.localisation;
        pointing = {
          split: evalSet.split,
          ...p,
          ...(own ? { attention: { images: own.images, levels: own.levels, combined: own.combined } } : {}),
        };
      }
    } finally {
      pair.attention.dispose();
      await plainGradCam.dispose();
    }
    checkStop();

    emit({ type: 'phase', phase: 'writing-report' });
    const explanationsDir = join(outDir, COMPARE_FILES.explanations);
    await mkdir(explanationsDir, { recursive: true });
    const pngs = new Map<string, Uint8Array>();
    const explained = [];
    for (const [i, e] of explanations.entries()) {
      const files = {
        picture: `${COMPARE_FILES.explanations}/${i}-picture.png`,
        attention: `${COMPARE_FILES.explanations}/${i}-attention.png`,
        plain: `${COMPARE_FILES.explanations}/${i}-plain-gradcam.png`,
      };
      pngs.set(files.picture, e.picture);
      pngs.set(files.attention, e.attentionOverlay);
      pngs.set(files.plain, e.gradCamOverlay);
      explained.push({
        relativePath: e.item.relativePath,
        label: e.item.label,
        picture: files.picture,
        attention: {
          predicted: e.attentionPredicted,
          confidence: e.attentionConfidence,
          overlay: files.attention,
        },
        plain: { predicted: e.plainPredicted, confidence: e.plainConfidence, overlay: files.plain },
      });
    }
    for (const [file, png] of pngs) await writeFileAtomic(join(outDir, file), png);

    const summaries = trained.map((t, i) =>
      summaryOf(outDir, t, runModels[i], evaluations[i], {
        modelFile: relative(outDir, exported[i].modelPath),
        onnxBytes: exported[i].bytes,
        images: timing.images,
        batch: timing.batch,
        threads: timing.threads,
        rounds: timing.rounds,
        imagesPerSecond: timing.imagesPerSecond[i],
        roundImagesPerSecond: timing.roundImagesPerSecond[i],
      }),
    );
    const { dataset: _dataset, attention: _attention, ...shared } = config;
    const report = parseCompareReport({
      format: COMPARE_FORMAT,
      createdAt: new Date().toISOString(),
      appVersion: APP_VERSION,
      dataset,
      classes: records[0].classes,
      settings: { preset: options.preset ?? null, budget, training: shared },
      models: { attention: summaries[0], plain: summaries[1] },
      paired: { split: evalSet.split, ...table, mcnemar: test },
      verdict,
      perClass: classDifferences(attEval.metrics.perClass, plainEval.metrics.perClass),
      explanations: { size: displaySize, images: explained },
      pointing,
      warnings,
    } satisfies CompareReport);
    const reportPath = join(outDir, COMPARE_FILES.report);
    const htmlPath = join(outDir, COMPARE_FILES.html);
    await writeJsonAtomic(reportPath, report);
    // The page embeds JPEGs (quality 90): the PNGs of cluttered pictures would make it about 1 MB.
    const embedded = new Map<string, Uint8Array>();
    for (const [file, png] of pngs)
      embedded.set(
        file,
        new Uint8Array(await sharp(png).jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer()),
      );
    await writeFileAtomic(htmlPath, renderCompareHtml(report, embedded));
    emit({ type: 'finished', status: 'completed', message: verdict.text, reportPath, htmlPath, verdict });
    return { status: 'completed', outDir, report, reportPath, htmlPath };
  } catch (error) {
    if (error instanceof Cancelled) {
      const message =
        'The comparison was stopped; no report was written. The run folders keep their checkpoints.';
      emit({ type: 'finished', status: 'cancelled', message });
      return { status: 'cancelled', outDir };
    }
    emit({ type: 'finished', status: 'failed', message: (error as Error).message });
    throw error;
  }
}
