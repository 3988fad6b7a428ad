// The layout of a run folder and its small JSON files. One place names every file, so the CLI, the UI
// and tests agree. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
//
//   <run>/run.json                      RunRecord: settings, classes, status, provenance
//   <run>/metrics.jsonl                 one TrainingEvent per line (steps, epochs, checkpoints, ...)
//   <run>/checkpoints/last.safetensors  the latest complete checkpoint (resume starts here)
//   <run>/checkpoints/best.safetensors  the weights of the best validation accuracy so far
//   <run>/evaluation.json               EvaluationReport of the final model (machine-readable)
//   <run>/evaluation-maps.safetensors   attention maps of the misclassified images listed in it

import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '../../../models/core/spec.js';
import { writeJsonAtomic } from '../storage/atomic-write.js';
import type { TrainingConfig } from './training-config.js';
import type { Device, DeviceChoice } from '../../../models/onnx/device.js';
import type { EngineName } from './training-engine.js';
import type { RunStatus, TrainingEvent } from './training-events.js';

export const RUN_FILES = {
  record: 'run.json',
  metrics: 'metrics.jsonl',
  lastCheckpoint: join('checkpoints', 'last.safetensors'),
  bestCheckpoint: join('checkpoints', 'best.safetensors'),
  evaluation: 'evaluation.json',
  evaluationMaps: 'evaluation-maps.safetensors',
} as const;

export interface RunRecord {
  format: 'attnvgg-run/1';
  id: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  config: TrainingConfig;
  spec: ModelSpec;
  classes: string[];
  datasetFingerprint: string;
  /** What did the arithmetic when the run last trained: 'onnxruntime' or the TensorFlow.js backend. */
  backend: string;
  /** The engine that last trained the run (absent in runs from before the engines). */
  engine?: EngineName;
  /** Why that engine was chosen (training-engine.ts's EngineChoice.reasons). */
  engineReasons?: string[];
  /** The onnxruntime device that last trained the run (absent in runs from before devices: the CPU). */
  device?: Device;
  /** The device asked for when it last started (cpu, webgpu, dml, cuda or auto); resume asks it again. */
  deviceRequested?: DeviceChoice;
  /** Why that device (main/services/device's DeviceResolution.reasons). */
  deviceReasons?: string[];
  /** The GPU adapter's name, when the provider reports it. */
  adapter?: string;
  appVersion: string;
  /** The pretrained backbone a run started from (config.backbone) and the SHA-256 of that file. */
  backbone?: { file: string; sha256: string };
  message?: string;
}

export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

export function runPath(runDir: string, file: keyof typeof RUN_FILES): string {
  return join(runDir, RUN_FILES[file]);
}

export async function prepareRunFolder(runDir: string): Promise<void> {
  await mkdir(join(runDir, 'checkpoints'), { recursive: true });
}

export async function writeRunRecord(runDir: string, record: RunRecord): Promise<void> {
  await writeJsonAtomic(runPath(runDir, 'record'), { ...record, updatedAt: new Date().toISOString() });
}

export async function readRunRecord(runDir: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(runPath(runDir, 'record'), 'utf8');
  } catch {
    throw new RunFolderError(`${runDir} is not a training run (no ${RUN_FILES.record} in it)`);
  }
  try {
    const record = JSON.parse(text) as RunRecord;
    if (record.format !== 'attnvgg-run/1') throw new Error('unknown format');
    return record;
  } catch {
    throw new RunFolderError(`${runPath(runDir, 'record')} is damaged or not an attnvgg run record`);
  }
}

/** Appends one event; a line is written whole with a single append (a crash loses at most that line). */
export async function appendMetric(runDir: string, event: TrainingEvent): Promise<void> {
  await appendFile(
    runPath(runDir, 'metrics'),
    `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`,
  );
}

/** Reads the metrics log, ignoring a torn last line. */
export async function readMetrics(runDir: string): Promise<TrainingEvent[]> {
  let text = '';
  try {
    text = await readFile(runPath(runDir, 'metrics'), 'utf8');
  } catch {
    return [];
  }
  const out: TrainingEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TrainingEvent);
    } catch {
      // a line cut by a crash
    }
  }
  return out;
}
