// Exports a training run as the file users keep: `<model>.onnx` (models/onnx/export.ts: BatchNorm folded,
// probabilities, logits and the attention maps as outputs) and its sidecar `<model>.json` (sidecar.ts),
// written as a pair that is replaced as a whole (model-pair.ts: the new model under a pending name, then
// the sidecar as the commit point, then the model renamed into place). The sidecar's pre-processing
// is the one training used, so classification (main/services/classify) decodes pictures exactly as
// training did. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { attentionMapSizes } from '../../../models/core/spec.js';
import { exportOnnx } from '../../../models/onnx/export.js';
import {
  ATTENTION_OUTPUTS,
  BATCH_DIM,
  INPUT_NAME,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  OUTPUT_LOGITS,
  OUTPUT_PROBABILITIES,
} from '../../../models/onnx/metadata.js';
import { APP_VERSION } from '../app-version.js';
import { StorageError, writeFileAtomic, writeJsonAtomic } from '../storage/atomic-write.js';
import { loadRunModel } from '../training/load-run-model.js';
import { runPath } from '../training/run-folder.js';
import { completePendingModel, pendingModelPath, removePendingModels } from './model-pair.js';
import { readOnnxHeader } from './onnx-metadata.js';
import {
  MODEL_META,
  SIDECAR_FORMAT,
  sidecarMetadata,
  sidecarPathFor,
  type ModelSidecar,
  type Preprocessing,
} from './sidecar.js';

/**
 * What training did to every picture before normalising it: createBatchStream (datasets/batch-stream.ts)
 * calls decodeImageRgb8 without decode settings, so these are decode-image.ts's defaults. Augmentation
 * (flips, shifts) is training-only and not part of it.
 */
export const TRAINING_DECODE = {
  resize: 'crop',
  kernel: 'lanczos3',
  alphaBackground: [255, 255, 255],
  padColour: [0, 0, 0],
} as const satisfies Omit<Preprocessing, 'size' | 'mean' | 'std'>;

/**
 * The moments of replacing the pair (model-pair.ts): the new model written under its pending name, the
 * sidecar committed, the model renamed into place.
 */
export type ExportStage = 'model-staged' | 'sidecar-committed' | 'model-in-place';

export interface ExportOptions {
  /** Replace an existing model file at the output path (default false: refuse). */
  overwrite?: boolean;
  /** The export time recorded (default now). */
  now?: Date;
  /**
   * For tests: called after each stage of replacing the pair. A throw stands for a failure at that
   * moment (the export stops there, as a crash would); awaiting lets a test act on the disk meanwhile.
   */
  onStage?: (stage: ExportStage) => void | Promise<void>;
}

export interface ExportResult {
  modelPath: string;
  sidecarPath: string;
  sidecar: ModelSidecar;
  /** Size of the ONNX file in bytes. */
  bytes: number;
}

export class ExportError extends Error {
  override name = 'ExportError';
}

interface EvaluationSummary {
  split: string;
  accuracy: number;
  images: number;
}

/** The final evaluation of the run (evaluation.json), when there is a readable one. */
async function readEvaluation(runDir: string): Promise<EvaluationSummary | null> {
  try {
    const report = JSON.parse(await readFile(runPath(runDir, 'evaluation'), 'utf8')) as {
      format?: string;
      split?: unknown;
      metrics?: { accuracy?: unknown; total?: unknown };
    };
    const accuracy = report.metrics?.accuracy;
    const images = report.metrics?.total;
    if (
      report.format !== 'attnvgg-evaluation/1' ||
      typeof accuracy !== 'number' ||
      typeof images !== 'number'
    )
      return null;
    if (!Number.isFinite(accuracy)) return null;
    return { split: String(report.split ?? ''), accuracy, images };
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Writes the run's model (best weights, or the last checkpoint's when no epoch has finished) to `outPath`
 * (must end in .onnx) and its sidecar beside it. Throws ExportError, RunFolderError or OnnxError.
 */
export async function exportRun(
  runDir: string,
  outPath: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const modelPath = resolve(outPath);
  if (extname(modelPath).toLowerCase() !== '.onnx')
    throw new ExportError(`The output must be a file name ending in .onnx, got ${outPath}.`);
  const sidecarPath = sidecarPathFor(modelPath);
  if (!options.overwrite && (await exists(modelPath)))
    throw new ExportError(
      `${modelPath} already exists. Choose another name, or allow overwriting (--force).`,
    );
  const run = await loadRunModel(resolve(runDir));
  const { record } = run;
  const { spec } = record;
  const sizes = attentionMapSizes(spec);
  const preprocessing: Preprocessing = {
    size: spec.inputSize,
    ...TRAINING_DECODE,
    mean: record.config.mean,
    std: record.config.std,
  };
  const sidecar: ModelSidecar = {
    format: SIDECAR_FORMAT,
    modelId: randomUUID(),
    modelFile: basename(modelPath),
    classes: [...record.classes],
    input: {
      name: INPUT_NAME,
      dtype: 'float32',
      layout: 'NCHW',
      channels: 'RGB',
      shape: [BATCH_DIM, 3, spec.inputSize, spec.inputSize],
    },
    preprocessing: {
      size: preprocessing.size,
      resize: preprocessing.resize,
      kernel: preprocessing.kernel,
      alphaBackground: [...preprocessing.alphaBackground],
      padColour: [...preprocessing.padColour],
      mean: [...preprocessing.mean],
      std: [...preprocessing.std],
      formula:
        `decode (EXIF orientation applied), resize to ${spec.inputSize} x ${spec.inputSize} (${preprocessing.resize}: ` +
        'shorter side to S then centre crop; lanczos3), flatten alpha onto alphaBackground, 8-bit sRGB, ' +
        'then x = (pixel / 255 - mean[c]) / std[c] per channel R, G, B; NCHW float32',
    },
    outputs: {
      logits: OUTPUT_LOGITS,
      probabilities: OUTPUT_PROBABILITIES,
      attention: spec.attention
        ? ATTENTION_OUTPUTS.map((name, k) => ({ level: k + 1, name, height: sizes[k], width: sizes[k] }))
        : [],
    },
    spec: { ...spec },
    provenance: {
      runId: record.id,
      runStatus: record.status,
      weights: run.source,
      datasetFingerprint: record.datasetFingerprint,
      trainedWithAppVersion: record.appVersion,
      exportedAt: (options.now ?? new Date()).toISOString(),
      appVersion: APP_VERSION,
      evaluation: run.source === 'best' ? await readEvaluation(runDir) : null,
    },
    onnx: { opset: ONNX_OPSET, irVersion: ONNX_IR_VERSION, bytes: 0 },
  };
  const bytes = exportOnnx(spec, run.weights, sidecarMetadata(sidecar));
  sidecar.onnx.bytes = bytes.length;
  await mkdir(dirname(modelPath), { recursive: true });
  await replacePair(modelPath, sidecarPath, bytes, sidecar, options.onStage);
  return { modelPath, sidecarPath, sidecar, bytes: bytes.length };
}

/** Replaces `<name>.onnx` + `<name>.json` as one (see model-pair.ts for the order and why). */
async function replacePair(
  modelPath: string,
  sidecarPath: string,
  bytes: Uint8Array,
  sidecar: ModelSidecar,
  onStage: ExportOptions['onStage'],
): Promise<void> {
  const pending = pendingModelPath(modelPath, sidecar.modelId);
  // Before the commit, any failure leaves the old pair as it was; the new model is removed.
  try {
    await writeFileAtomic(pending, bytes);
    await onStage?.('model-staged');
    // Earlier interrupted exports' pending models go first, so no reader can move one in later.
    await removePendingModels(modelPath, sidecar.modelId);
    await writeJsonAtomic(sidecarPath, sidecar);
  } catch (error) {
    await rm(pending, { force: true }).catch(() => undefined);
    throw error;
  }
  await onStage?.('sidecar-committed');
  // Committed: from here a reader finishes the move itself if this process stops.
  let moved: boolean;
  try {
    moved = await completePendingModel(modelPath, sidecar.modelId);
  } catch (error) {
    throw new StorageError(modelPath, error);
  }
  // Not moved by us: a reader may have finished the move already, and then the pair is complete.
  if (!moved && !(await hasModelId(modelPath, sidecar.modelId)))
    throw new ExportError(
      `The new model file vanished before it could be moved to ${modelPath}. Export the run again.`,
    );
  await onStage?.('model-in-place');
}

async function hasModelId(modelPath: string, modelId: string): Promise<boolean> {
  try {
    return (await readOnnxHeader(modelPath)).metadata.get(MODEL_META.modelId) === modelId;
  } catch {
    return false;
  }
}
