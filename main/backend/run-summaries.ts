// Reads a run folder into what the UI shows: the run's summary for lists and its metrics history for
// charts. Caches what it derives from metrics.jsonl by file size and time, so listing many runs stays
// cheap. Must not import electron or renderer.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { DatasetEntry, EpochPoint, RunDetails, RunSummary, StepPoint } from '../api/index.js';
import { readMetrics, readRunRecord, runPath, type RunRecord } from '../services/training/run-folder.js';
import type { TrainingEvent } from '../services/training/training-events.js';
import type { JobProgress } from '../services/jobs/index.js';

/** Step points kept for a chart; longer histories are thinned evenly (the last point always stays). */
export const MAX_STEP_POINTS = 2000;

interface MetricsDigest {
  key: string;
  steps: StepPoint[];
  epochs: EpochPoint[];
  warnings: string[];
  skippedFiles: number;
  bestValAccuracy?: number;
  testAccuracy?: number;
  lastStep?: Extract<TrainingEvent, { type: 'step' }>;
  epochsTotal?: number;
  /** How the run's feature caches store values, when it built any. */
  featureCachePrecision?: 'float16' | 'float32';
}

const digests = new Map<string, MetricsDigest>();

async function digestMetrics(runDir: string): Promise<MetricsDigest> {
  const info = await stat(runPath(runDir, 'metrics')).catch(() => null);
  const key = info ? `${info.size}:${info.mtimeMs}` : 'none';
  const cached = digests.get(runDir);
  if (cached?.key === key) return cached;
  const events = await readMetrics(runDir);
  const digest: MetricsDigest = { key, steps: [], epochs: [], warnings: [], skippedFiles: 0 };
  let globalStep = 0;
  for (const e of events) {
    if (e.type === 'step') {
      globalStep = e.globalStep;
      // Lines are appended concurrently, so the newest step is the highest, not the last line.
      if (!digest.lastStep || e.globalStep >= digest.lastStep.globalStep) digest.lastStep = e;
      digest.steps.push({
        globalStep: e.globalStep,
        epoch: e.epoch,
        loss: e.loss,
        accuracy: e.accuracy,
        imagesPerSecond: e.imagesPerSecond,
      });
    } else if (e.type === 'epoch') {
      digest.epochsTotal = e.epochs;
      digest.epochs.push({
        epoch: e.epoch,
        globalStep,
        trainLoss: e.trainLoss,
        trainAccuracy: e.trainAccuracy,
        valLoss: e.valLoss,
        valAccuracy: e.valAccuracy,
      });
      digest.bestValAccuracy = Math.max(digest.bestValAccuracy ?? 0, e.valAccuracy);
    } else if (e.type === 'started') digest.epochsTotal = e.epochs;
    else if (e.type === 'warning') digest.warnings.push(e.message);
    else if (e.type === 'skipped-file') digest.skippedFiles += 1;
    else if (e.type === 'evaluated') digest.testAccuracy = e.accuracy;
    // Logs written before caching events named the precision are float16's.
    else if (e.type === 'caching') digest.featureCachePrecision = e.precision ?? 'float16';
  }
  // A resumed run logs the steps after its checkpoint again: keep the latest value of each step.
  const byStep = new Map(digest.steps.map((s) => [s.globalStep, s]));
  digest.steps = thin(
    [...byStep.values()].sort((a, b) => a.globalStep - b.globalStep),
    MAX_STEP_POINTS,
  );
  const byEpoch = new Map(digest.epochs.map((p) => [p.epoch, p]));
  digest.epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  digests.set(runDir, digest);
  return digest;
}

export function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const out: T[] = [];
  const stride = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * stride)]);
  return out;
}

export interface SummaryExtras {
  active: boolean;
  progress?: JobProgress;
  datasets: DatasetEntry[];
}

export function summaryOf(
  record: RunRecord,
  digest: MetricsDigest | null,
  extras: SummaryExtras,
): RunSummary {
  const dataset = extras.datasets.find((d) => d.path === record.config.dataset);
  const last = digest?.lastStep;
  const progress = extras.progress
    ? { ...extras.progress }
    : last
      ? {
          epoch: last.epoch,
          epochs: digest?.epochsTotal ?? record.config.epochs,
          step: last.step,
          stepsPerEpoch: last.stepsPerEpoch,
          globalStep: last.globalStep,
        }
      : undefined;
  return {
    id: record.id,
    status: record.status,
    active: extras.active,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    dataset: record.config.dataset,
    datasetName: dataset?.name ?? basename(record.config.dataset),
    classes: record.classes,
    settings: {
      inputSize: record.config.inputSize,
      width: record.config.width,
      attention: record.config.attention,
      epochs: record.config.epochs,
      batchSize: record.config.batchSize,
      optimizer: record.config.optimizer,
      lr: record.config.lr,
      ...(record.config.compatibility ? { compatibility: record.config.compatibility } : {}),
      ...(digest?.featureCachePrecision ? { featureCachePrecision: digest.featureCachePrecision } : {}),
    },
    backend: record.backend,
    ...(record.device ? { device: record.device } : {}),
    ...(record.adapter ? { adapter: record.adapter } : {}),
    ...(record.backbone ? { backbone: basename(record.backbone.file) } : {}),
    ...(record.message ? { message: record.message } : {}),
    ...(digest?.bestValAccuracy !== undefined ? { bestValAccuracy: digest.bestValAccuracy } : {}),
    ...(digest?.testAccuracy !== undefined ? { testAccuracy: digest.testAccuracy } : {}),
    ...(progress ? { progress } : {}),
  };
}

export async function readRunSummary(runDir: string, extras: SummaryExtras): Promise<RunSummary> {
  const record = await readRunRecord(runDir);
  return summaryOf(record, await digestMetrics(runDir), extras);
}

export async function readRunDetails(runDir: string, extras: SummaryExtras): Promise<RunDetails> {
  const record = await readRunRecord(runDir);
  const digest = await digestMetrics(runDir);
  return {
    summary: summaryOf(record, digest, extras),
    config: { ...record.config } as Record<string, unknown>,
    steps: digest.steps,
    epochs: digest.epochs,
    warnings: digest.warnings.slice(0, 100),
    skippedFiles: digest.skippedFiles,
    folder: runDir,
  };
}
