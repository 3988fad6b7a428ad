// The body of the inference worker thread (started by inference-runner.ts): checks and opens the model
// (open-session.ts: our own reader first, then models/onnx/session.ts) and runs the batches it is sent, one at a time. onnxruntime-node's run() blocks
// the thread it is called on, so running it here leaves the main thread free to decode the next batch and
// write the previous one's results meanwhile. Buffers travel both ways as transferred ArrayBuffers (no
// copies). Does nothing when imported outside a worker. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import { parentPort, workerData } from 'node:worker_threads';
import type { OnnxSession } from '../../../models/onnx/session.js';
import { ModelFileError } from './check-model.js';
import type { WorkerReply, WorkerRequest, WorkerSettings } from './inference-protocol.js';
import { openCheckedSession } from './open-session.js';

async function serve(port: NonNullable<typeof parentPort>, settings: WorkerSettings): Promise<void> {
  let session: OnnxSession;
  let checkMs: number | null;
  try {
    ({ session, checkMs } = await openCheckedSession(
      settings.modelPath,
      settings.threads,
      settings.expect,
      settings.device,
    ));
  } catch (e) {
    port.postMessage({
      type: 'open-failed',
      message: (e as Error).message,
      ...(e instanceof ModelFileError ? { problem: e.problem } : {}),
    } satisfies WorkerReply);
    return;
  }
  port.postMessage({
    type: 'ready',
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    checkMs,
  } satisfies WorkerReply);
  // Requests are served strictly in order: a second batch waits for the first.
  let queue = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    queue = queue.then(async () => {
      if (request.type === 'close') {
        await session.release();
        port.close();
        return;
      }
      try {
        const started = performance.now();
        const out = await session.run(
          { shape: request.shape, data: request.data },
          { outputs: request.outputs },
        );
        const ms = performance.now() - started;
        const outputs = Object.entries(out).map(([name, a]) => ({ name, shape: a.shape, data: a.data }));
        port.postMessage(
          { type: 'result', id: request.id, outputs, ms } satisfies WorkerReply,
          outputs.map((o) => o.data.buffer as ArrayBuffer),
        );
      } catch (e) {
        port.postMessage({
          type: 'error',
          id: request.id,
          message: (e as Error).message,
        } satisfies WorkerReply);
      }
    });
  });
}

if (parentPort) void serve(parentPort, workerData as WorkerSettings);
