// The main thread's side of the inference worker: starts it on first use, matches answers to requests,
// and restarts it after a crash. Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.
import type { Worker } from 'node:worker_threads';
import type { BackendReport } from '../../../models/tfjs/backend.js';
import { InferenceError } from '../classify/inference-error.js';
import { startWorker } from './start-worker.js';
import type { AttentionAnswer, DeviceReport, InferenceReply, InferenceRequest } from './worker-protocol.js';

type Pending = { resolve: (reply: InferenceReply) => void; reject: (error: Error) => void };
type RequestBody = InferenceRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;

export class InferenceClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  /** The TensorFlow.js backend the worker loaded, and the engine a new training run would use. */
  async computeReport(): Promise<{
    backend: BackendReport;
    trainingEngine: { engine: string; reasons: string[] };
    device: DeviceReport;
  }> {
    const reply = await this.request({ type: 'backend' });
    if (reply.ok && reply.type === 'backend')
      return { backend: reply.report, trainingEngine: reply.trainingEngine, device: reply.device };
    throw new InferenceError(reply.ok ? 'Unexpected answer from the inference worker.' : reply.message);
  }

  async attentionMaps(runDir: string, path: string, displaySize: number): Promise<AttentionAnswer> {
    const reply = await this.request({ type: 'attention', runDir, path, displaySize });
    if (reply.ok && reply.type === 'attention') return reply.answer;
    throw new InferenceError(reply.ok ? 'Unexpected answer from the inference worker.' : reply.message);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private request(body: RequestBody): Promise<InferenceReply> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...body, id } as InferenceRequest);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker('inference-worker', null);
    worker.unref();
    worker.on('message', (reply: InferenceReply) => {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      pending?.resolve(reply);
    });
    const fail = (message: string): void => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(new InferenceError(message));
      this.pending.clear();
    };
    worker.on('error', (error) => fail(`The inference worker failed: ${error.message}`));
    worker.on('exit', (code) => fail(`The inference worker stopped (exit code ${code}).`));
    this.worker = worker;
    return worker;
  }
}
