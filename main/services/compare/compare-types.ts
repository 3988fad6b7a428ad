// The words of the comparison (compare-attention.ts): its options, the folder it writes, its progress
// events, its result and its error. Kept apart so that the phases it is built from can use them without
// importing the driver; compare-attention.ts exports them all. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import type { BackendName } from '../../../models/tfjs/backend.js';
import type { PresetName, TrainingConfig } from '../training/training-config.js';
import type { RunStatus, TrainingEvent } from '../training/training-events.js';
import type { startTraining, TrainingControl } from '../training/training-run.js';
import type { CompareBudget, CompareModel, CompareReport } from './compare-report.js';

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
