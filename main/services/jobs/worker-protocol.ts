// The messages between the main thread and the training, inference and task (classify, export,
// compare, backbone check) workers. Plain data only (they cross postMessage). Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.
import type { DeviceChoice } from '../../../models/onnx/device.js';
import type { BackendReport } from '../../../models/tfjs/backend.js';
import type { PresetName, TrainingConfig } from '../training/training-config.js';
import type { TrainingEvent, RunStatus } from '../training/training-events.js';
import type { ClassifyProgress } from '../classify/classify-folder.js';
import type { ClassifySummary } from '../classify/results.js';
import type { ModelSidecar } from '../export/sidecar.js';
import type { MapLevel } from '../heatmaps/attention-map.js';
import type { ColormapName } from '../heatmaps/colormap.js';
import type { CompareEvent, CompareOptions } from '../compare/index.js';
import type { BackboneReport } from '../backbone/load-backbone.js';

/** What a training worker is asked to do (its workerData). */
export type TrainingJobOrder =
  | {
      kind: 'start';
      runDir: string;
      settings: Partial<TrainingConfig> & { dataset: string };
      preset?: PresetName;
      /** The device asked for (cpu, webgpu, dml, cuda, auto) and where `auto` keeps its verdict. */
      device?: string;
      deviceCacheDir?: string;
    }
  | { kind: 'resume'; runDir: string; device?: string; deviceCacheDir?: string };

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
  | {
      id: number;
      ok: true;
      type: 'backend';
      report: BackendReport;
      /** The engine a new run would train on with the default settings, and why. */
      trainingEngine: { engine: string; reasons: string[] };
      /** The device a new run would use (ATTNVGG_DEVICE or cpu), why, and what this machine offers. */
      device: DeviceReport;
    }
  | { id: number; ok: true; type: 'attention'; answer: AttentionAnswer }
  | { id: number; ok: false; message: string };

export interface DeviceReport {
  requested: string;
  device: string;
  reasons: string[];
  adapter?: string;
  available: { device: string; available: boolean; reason?: string }[];
}

/** The heat-map and label choices of a classification job (see classify/classify-folder.ts). */
export interface ClassifyTaskOptions {
  /** The device asked for (cpu, webgpu, dml, cuda, auto), resolved in the worker. */
  device?: DeviceChoice;
  heatmaps: boolean;
  level: MapLevel;
  colormap: ColormapName;
  opacity: number;
  threshold: number;
}

/** What a task worker (task-worker.ts) is asked to do (its workerData): one job, then it exits. */
export type TaskOrder =
  | {
      kind: 'classify';
      modelPath: string;
      inputs: string[];
      outDir: string;
      options: ClassifyTaskOptions;
      /** Where `auto` keeps its verdict (the workspace). */
      deviceCacheDir?: string;
      /** Flush the rows and rewrite summary.json this often while running (seconds). */
      saveEverySeconds: number;
    }
  | { kind: 'export'; runDir: string; modelPath: string; overwrite: boolean }
  /** The comparison of attention-VGG against the plain head (main/services/compare) into outDir. */
  | { kind: 'compare'; folder: string; outDir: string; options: CompareOptions }
  /** Can this ONNX file be imported as the VGG16_bn backbone (reads and parses up to 2 GiB)? */
  | { kind: 'check-backbone'; file: string };

export type TaskCommand = { type: 'cancel' };

/** The last word of a task worker, when it succeeded. */
export type TaskOutcome =
  | {
      type: 'classified';
      status: 'completed' | 'cancelled';
      summary: ClassifySummary;
    }
  | { type: 'exported'; modelPath: string; sidecarPath: string; sidecar: ModelSidecar; bytes: number }
  | {
      type: 'compared';
      status: 'completed' | 'cancelled';
      reportPath?: string;
      htmlPath?: string;
      /** The verdict in plain words (completed only). */
      verdict?: string;
    }
  | { type: 'backbone-checked'; report: BackboneReport };

export type TaskMessage =
  | { type: 'progress'; progress: ClassifyProgress }
  | { type: 'compare-event'; event: CompareEvent }
  | { type: 'outcome'; outcome: TaskOutcome }
  | { type: 'error'; message: string };
