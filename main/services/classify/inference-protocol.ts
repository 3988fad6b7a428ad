// The messages between inference-runner.ts (main thread) and inference-worker.ts (worker thread).
// Types only; must not import electron or anything from main/electron, main/server, main/cli or renderer.

export interface WorkerSettings {
  modelPath: string;
  threads: number;
}

export type WorkerRequest =
  { type: 'run'; id: number; shape: number[]; data: Float32Array; outputs: string[] } | { type: 'close' };

export type WorkerReply =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'open-failed'; message: string }
  | {
      type: 'result';
      id: number;
      outputs: { name: string; shape: number[]; data: Float32Array }[];
      /** Time inside onnxruntime's run, in ms. */
      ms: number;
    }
  | { type: 'error'; id: number; message: string };
