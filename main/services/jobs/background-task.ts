// Runs one task (a folder classification, a model export or a comparison) in its own worker thread and follows it:
// progress messages go to a callback, the outcome resolves a promise, and a failure rejects it with the
// worker's own message in plain words. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.
import type { Worker } from 'node:worker_threads';
import type { ClassifyProgress } from '../classify/classify-folder.js';
import type { CompareEvent } from '../compare/index.js';
import { startWorker } from './start-worker.js';
import type { TaskCommand, TaskMessage, TaskOrder, TaskOutcome } from './worker-protocol.js';

export class TaskError extends Error {
  override name = 'TaskError';
}

export interface RunningTask {
  /**
   * Asks a classification to stop after its batch in progress, a comparison at its next training step
   * (an export cannot be stopped).
   */
  cancel(): void;
  /** Ends the worker at once (closing the app). */
  terminate(): Promise<void>;
  /** The outcome; rejects with a TaskError whose message is meant for the user. */
  readonly done: Promise<TaskOutcome>;
}

export type TaskWorkerFactory = (order: TaskOrder) => Worker;

export function runTask(
  order: TaskOrder,
  onProgress: (progress: ClassifyProgress) => void = () => undefined,
  createWorker: TaskWorkerFactory = (o) => startWorker('task-worker', o),
  /** A comparison's progress events. */
  onCompareEvent: (event: CompareEvent) => void = () => undefined,
): RunningTask {
  const worker = createWorker(order);
  let outcome: TaskOutcome | null = null;
  let failure: string | null = null;
  const done = new Promise<TaskOutcome>((resolve, reject) => {
    worker.on('message', (message: TaskMessage) => {
      if (message.type === 'progress') onProgress(message.progress);
      else if (message.type === 'compare-event') onCompareEvent(message.event);
      else if (message.type === 'outcome') outcome = message.outcome;
      else failure = message.message;
    });
    worker.on('error', (error) => {
      failure ??= `The ${order.kind} worker failed: ${error.message}`;
    });
    worker.on('exit', (code) => {
      if (outcome) resolve(outcome);
      else
        reject(
          new TaskError(
            failure ?? `The ${order.kind} worker stopped before it finished (exit code ${code}).`,
          ),
        );
    });
  });
  return {
    cancel() {
      worker.postMessage({ type: 'cancel' } satisfies TaskCommand);
    },
    async terminate() {
      await worker.terminate();
    },
    done,
  };
}
