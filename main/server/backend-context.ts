// What every API handler works with: the workspace, the training jobs, the inference worker, the scan
// summaries of this session, and the function that pushes events to every connected UI. Must not
// import electron or renderer.
import type { ApiEvent } from '../api/index.js';
import type { InferenceClient, TrainingJobs } from '../services/jobs/index.js';
import type { Workspace } from './workspace.js';

export interface BackendContext {
  workspace: Workspace;
  jobs: TrainingJobs;
  inference: InferenceClient;
  shell: 'electron' | 'browser';
  emit(event: ApiEvent): void;
}
