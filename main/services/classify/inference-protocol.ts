// The messages between inference-runner.ts (main thread) and inference-worker.ts (worker thread).
// Types only (ModelExpectations and ModelFileProblem are plain data); must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { Device } from '../../../models/onnx/device.js';
import type { ModelExpectations, ModelFileProblem } from './check-model.js';

export interface WorkerSettings {
  modelPath: string;
  threads: number;
  /** The onnxruntime device (default cpu). */
  device?: Device;
  /** Check the file against its sidecar with our own reader before the runtime loads it (check-model.ts). */
  expect?: ModelExpectations;
}

export type WorkerRequest =
  { type: 'run'; id: number; shape: number[]; data: Float32Array; outputs: string[] } | { type: 'close' };

export type WorkerReply =
  | { type: 'ready'; inputNames: string[]; outputNames: string[]; checkMs: number | null }
  /** `problem` is set when our own check refused the file (a ModelFileError), unset for runtime failures. */
  | { type: 'open-failed'; message: string; problem?: ModelFileProblem }
  | {
      type: 'result';
      id: number;
      outputs: { name: string; shape: number[]; data: Float32Array }[];
      /** Time inside onnxruntime's run, in ms. */
      ms: number;
    }
  | { type: 'error'; id: number; message: string };
