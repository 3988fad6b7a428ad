// The public surface of the jobs module: training jobs in worker threads and the inference worker.
// Must not import electron or anything from main/electron, main/server, main/cli or renderer.
export { InferenceClient, InferenceError } from './inference-client.js';
export { RUNNING_FROM_SOURCE, startWorker, type WorkerModule } from './start-worker.js';
export {
  JobConflictError,
  TrainingJobs,
  type JobEvent,
  type JobProgress,
  type TrainingJobsOptions,
} from './training-jobs.js';
export type { AttentionAnswer, TrainingJobOrder } from './worker-protocol.js';
