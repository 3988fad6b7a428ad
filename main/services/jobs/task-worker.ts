// The task worker (worker_threads): runs one classification of a folder, one model export, one check of
// a backbone file or one comparison (attention vs plain, main/services/compare) given in workerData, off the main thread, so
// the browser-mode server and the Electron main process never block on decoding, onnxruntime, training
// or ONNX serialisation. Posts progress, then its outcome or an error in plain words, then exits; a
// 'cancel' message stops a classification after the batch in progress (its results so far are saved)
// and a comparison at its next training step. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.
import { parentPort, workerData } from 'node:worker_threads';
import { classifyFolder } from '../classify/classify-folder.js';
import { resolveDevice } from '../device/resolve-device.js';
import { exportRun } from '../export/export-run.js';
import type { TaskCommand, TaskMessage, TaskOrder, TaskOutcome } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('task-worker.ts runs only as a worker thread');

const order = workerData as TaskOrder;
const controller = new AbortController();
/** A comparison's control (it stops at its next training step, or between its phases after training). */
let compareControl: { request(kind: 'cancel'): void } | null = null;
let cancelled = false;
const post = (message: TaskMessage): void => port.postMessage(message);

port.on('message', (message: TaskCommand) => {
  if (message.type !== 'cancel') return;
  cancelled = true;
  controller.abort();
  compareControl?.request('cancel');
});

async function run(): Promise<TaskOutcome> {
  if (order.kind === 'classify') {
    const { device } = await resolveDevice({ device: order.options.device, cacheDir: order.deviceCacheDir });
    const outcome = await classifyFolder(order.modelPath, order.inputs, order.outDir, {
      ...order.options,
      device,
      saveEverySeconds: order.saveEverySeconds,
      signal: controller.signal,
      onProgress: (progress) => post({ type: 'progress', progress }),
    });
    return { type: 'classified', status: outcome.status, summary: outcome.summary.summary };
  }
  if (order.kind === 'compare') {
    // Loaded here, not above: a classification or an export need not load TensorFlow.js.
    const [{ compareAttention }, { TrainingControl }] = await Promise.all([
      import('../compare/index.js'),
      import('../training/training-run.js'),
    ]);
    const control = new TrainingControl();
    compareControl = control;
    if (cancelled) control.request('cancel');
    const result = await compareAttention(order.folder, order.options, {
      outDir: order.outDir,
      control,
      onEvent: (event) => post({ type: 'compare-event', event }),
    });
    return {
      type: 'compared',
      status: result.status,
      ...(result.reportPath ? { reportPath: result.reportPath } : {}),
      ...(result.htmlPath ? { htmlPath: result.htmlPath } : {}),
      ...(result.report ? { verdict: result.report.verdict.text } : {}),
    };
  }
  if (order.kind === 'check-backbone') {
    const { checkBackbone } = await import('../backbone/load-backbone.js');
    return { type: 'backbone-checked', report: await checkBackbone(order.file) };
  }
  const result = await exportRun(order.runDir, order.modelPath, { overwrite: order.overwrite });
  return { type: 'exported', ...result };
}

run().then(
  (outcome) => {
    post({ type: 'outcome', outcome });
    port.close();
  },
  (error: unknown) => {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    port.close();
  },
);
