// Runs an exported model on batches, after checking the file with our own reader when the sidecar's
// expectations are given (check-model.ts, through open-session.ts), either in a worker thread (default: onnxruntime-node's run() blocks
// its thread, so the main thread stays free to decode pictures and write results while a batch runs) or
// on the calling thread (for benchmarks of the runtime alone). Both go through models/onnx/session.ts.
// Under tsx (a development checkout, the tests) the worker loads the TypeScript source through tsx's API;
// from dist/ it loads the compiled .js. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { InferenceError } from './inference-error.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { NamedArray } from '../../../models/core/weights.js';
import type { Device } from '../../../models/onnx/device.js';
import { ModelFileError, type ModelExpectations } from './check-model.js';
import type { WorkerReply, WorkerRequest, WorkerSettings } from './inference-protocol.js';
import { openCheckedSession } from './open-session.js';

export interface InferenceOptions {
  /** onnxruntime intra-op threads (default: the number of cores). */
  threads?: number;
  /** Run in a worker thread (default true). */
  worker?: boolean;
  /** The onnxruntime device (models/onnx/device.ts; default cpu). */
  device?: Device;
  /**
   * What the model's sidecar promises (check-model.ts expectationsOf). When given, the file is read and
   * checked by our own reader first and refused with a ModelFileError in plain words; the runtime then
   * loads the checked bytes. Classification always passes it.
   */
  expect?: ModelExpectations;
}

export interface InferenceResult {
  outputs: Record<string, NamedArray>;
  /** Time inside onnxruntime's run, in ms. */
  ms: number;
}

export interface InferenceRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly threads: number;
  /** Time spent reading and checking the file before the runtime loaded it, ms (null: not checked). */
  readonly checkMs: number | null;
  /** Runs one NCHW float32 batch. In worker mode `input.data`'s buffer is transferred (unusable after). */
  run(input: NamedArray, outputs?: readonly string[]): Promise<InferenceResult>;
  close(): Promise<void>;
}

/** Opens `modelPath` for inference (see InferenceOptions). Throws InferenceError or ModelFileError. */
export async function openInference(
  modelPath: string,
  options: InferenceOptions = {},
): Promise<InferenceRunner> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new InferenceError(`The number of threads must be a whole number of at least 1, got ${threads}.`);
  return options.worker === false
    ? openInProcess(modelPath, threads, options.expect, options.device)
    : openInWorker(modelPath, threads, options.expect, options.device);
}

async function openInProcess(
  modelPath: string,
  threads: number,
  expect: ModelExpectations | undefined,
  device: Device | undefined,
): Promise<InferenceRunner> {
  let opened;
  try {
    opened = await openCheckedSession(modelPath, threads, expect, device);
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new InferenceError((e as Error).message);
  }
  const s = opened.session;
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    threads,
    checkMs: opened.checkMs,
    async run(input, outputs) {
      const started = performance.now();
      try {
        const out = await s.run(input, outputs ? { outputs } : {});
        return { outputs: out, ms: performance.now() - started };
      } catch (e) {
        throw new InferenceError((e as Error).message);
      }
    },
    close: () => s.release(),
  };
}

function startWorker(settings: WorkerSettings): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts'))
    return new Worker(new URL('./inference-worker.js', here), { workerData: settings });
  // A development checkout run through tsx: worker threads do not inherit tsx's loader, so the worker
  // imports tsx's API itself and loads the TypeScript source with it.
  const source = new URL('./inference-worker.ts', here).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(source)}, ${JSON.stringify(here)}));`;
  return new Worker(code, { eval: true, workerData: settings });
}

async function openInWorker(
  modelPath: string,
  threads: number,
  expect: ModelExpectations | undefined,
  device: Device | undefined,
): Promise<InferenceRunner> {
  const worker = startWorker({
    modelPath,
    threads,
    ...(expect ? { expect } : {}),
    ...(device ? { device } : {}),
  });
  const pending = new Map<number, { resolve: (r: InferenceResult) => void; reject: (e: Error) => void }>();
  let failure: Error | null = null;
  let nextId = 0;
  const failAll = (error: Error): void => {
    failure ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  const ready = new Promise<{ inputNames: string[]; outputNames: string[]; checkMs: number | null }>(
    (resolve, reject) => {
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') resolve(reply);
        else if (reply.type === 'open-failed')
          reject(
            reply.problem
              ? new ModelFileError(reply.problem, reply.message)
              : new InferenceError(reply.message),
          );
        else {
          const p = pending.get(reply.id);
          pending.delete(reply.id);
          if (!p) return;
          if (reply.type === 'error') p.reject(new InferenceError(reply.message));
          else
            p.resolve({
              outputs: Object.fromEntries(
                reply.outputs.map((o) => [o.name, { shape: o.shape, data: o.data }]),
              ),
              ms: reply.ms,
            });
        }
      });
      worker.on('error', (e) => {
        const error = new InferenceError(`The inference worker failed: ${e.message}`);
        reject(error);
        failAll(error);
      });
      worker.on('exit', (code) => {
        const error = new InferenceError(`The inference worker stopped (exit code ${code}).`);
        reject(error);
        failAll(error);
      });
    },
  );
  let names;
  try {
    names = await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  let closed = false;
  return {
    inputNames: names.inputNames,
    outputNames: names.outputNames,
    threads,
    checkMs: names.checkMs,
    run(input, outputs) {
      if (closed) return Promise.reject(new InferenceError('The model was already closed.'));
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      const request: WorkerRequest = {
        type: 'run',
        id,
        shape: [...input.shape],
        data: input.data,
        outputs: [...(outputs ?? names.outputNames)],
      };
      return new Promise<InferenceResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage(request, [input.data.buffer as ArrayBuffer]);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' } satisfies WorkerRequest);
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
