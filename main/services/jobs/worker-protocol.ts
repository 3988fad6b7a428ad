// The messages between the main thread and the training and inference workers. Plain data only (they
// cross postMessage). Must not import electron or anything from main/electron, main/server, main/cli or
// renderer.
import type { BackendReport } from '../../../models/tfjs/backend.js';
import type { PresetName, TrainingConfig } from '../training/training-config.js';
import type { TrainingEvent, RunStatus } from '../training/training-events.js';

/** What a training worker is asked to do (its workerData). */
export type TrainingJobOrder =
  | {
      kind: 'start';
      runDir: string;
      settings: Partial<TrainingConfig> & { dataset: string };
      preset?: PresetName;
    }
  | { kind: 'resume'; runDir: string };

export type TrainingWorkerCommand = { type: 'control'; kind: 'pause' | 'cancel' };

export type TrainingWorkerMessage =
  | { type: 'event'; event: TrainingEvent }
  | { type: 'done'; status: RunStatus; message: string }
  | { type: 'error'; message: string };

export type InferenceRequest =
  | { id: number; type: 'backend' }
  | { id: number; type: 'attention'; runDir: string; path: string; displaySize: number };

export interface AttentionAnswer {
  inputSize: number;
  imageSize: number;
  /** PNG bytes of the picture as the model sees it, at imageSize. */
  png: Uint8Array;
  maps: { level: number; width: number; height: number; values: number[] }[];
  classes: string[];
  probabilities: number[];
}

export type InferenceReply =
  | { id: number; ok: true; type: 'backend'; report: BackendReport }
  | { id: number; ok: true; type: 'attention'; answer: AttentionAnswer }
  | { id: number; ok: false; message: string };
