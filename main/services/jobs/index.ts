// The public surface of the jobs module: training jobs in worker threads, the inference worker, and
// classification, export and comparison tasks in their own workers. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.
export { runTask, TaskError, type RunningTask, type TaskWorkerFactory } from './background-task.js';
export {
  CLASSIFY_JOB_FORMAT,
  ClassifyJobConflictError,
  ClassifyJobs,
  JOB_FILE,
  type ClassifyJobOrder,
  type ClassifyJobRecord,
  type ClassifyJobStatus,
  type ClassifyJobsOptions,
} from './classify-jobs.js';
export {
  COMPARE_JOB_FILE,
  COMPARE_JOB_FORMAT,
  CompareJobConflictError,
  CompareJobs,
  type CompareJobOrder,
  type CompareJobRecord,
  type CompareJobsOptions,
} from './compare-jobs.js';
export { InferenceClient } from './inference-client.js';
export {
  TaskJobConflictError,
  TaskJobRegistry,
  type TaskJobRecord,
  type TaskJobStatus,
} from './task-job-registry.js';
export { InferenceError } from '../classify/inference-error.js';
export { RUNNING_FROM_SOURCE, startWorker, type WorkerModule } from './start-worker.js';
export {
  JobConflictError,
  TrainingJobs,
  type JobEvent,
  type JobProgress,
  type TrainingJobsOptions,
} from './training-jobs.js';
export type {
  AttentionAnswer,
  ClassifyTaskOptions,
  TaskOrder,
  TaskOutcome,
  TrainingJobOrder,
} from './worker-protocol.js';
