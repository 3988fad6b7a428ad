// The training worker (worker_threads): runs one training job given in workerData, posts every
// TrainingEvent to the main thread, and stops at the next step boundary on a pause or cancel message,
// leaving a checkpoint to resume from. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.
import { parentPort, workerData } from 'node:worker_threads';
import { resumeTraining, startTraining, TrainingControl } from '../training/training-run.js';
import type { TrainingEvent } from '../training/training-events.js';
import type { TrainingJobOrder, TrainingWorkerCommand, TrainingWorkerMessage } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('training-worker.ts runs only as a worker thread');

const order = workerData as TrainingJobOrder;
const control = new TrainingControl();
const post = (message: TrainingWorkerMessage): void => port.postMessage(message);

port.on('message', (message: TrainingWorkerCommand) => {
  if (message.type === 'control') control.request(message.kind);
});

async function run(): Promise<void> {
  const onEvent = (event: TrainingEvent): void => post({ type: 'event', event });
  const options = {
    runDir: order.runDir,
    control,
    onEvent,
    device: order.device,
    deviceCacheDir: order.deviceCacheDir,
  };
  const result =
    order.kind === 'start'
      ? await startTraining(order.settings, { ...options, preset: order.preset })
      : await resumeTraining(options);
  post({ type: 'done', status: result.status, message: result.record.message ?? '' });
}

run().then(
  () => port.close(),
  (error: unknown) => {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    port.close();
  },
);
