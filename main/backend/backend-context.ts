// What every API handler works with: the workspace, the training jobs, the inference worker, the
// classification jobs, the comparisons, the pretrained backbones, the desktop's "show in folder" when there is one, and the function that pushes
// events to every connected UI. Must not import electron or renderer.
import type { ApiEvent } from '../api/index.js';
import type { BackboneLibrary } from '../services/backbone/backbone-library.js';
import type {
  ClassifyJobs,
  CompareJobs,
  InferenceClient,
  TaskWorkerFactory,
  TrainingJobs,
} from '../services/jobs/index.js';
import type { Workspace } from './workspace.js';

export interface BackendContext {
  workspace: Workspace;
  jobs: TrainingJobs;
  inference: InferenceClient;
  classify: ClassifyJobs;
  /** Comparisons of attention against the plain model, one at a time, in a task worker. */
  compare: CompareJobs;
  /** The pretrained backbones the user added or downloaded (<workspace>/backbones). */
  backbones: BackboneLibrary;
  shell: 'electron' | 'browser';
  /** The desktop's file manager, opened on a file (Electron's shell.showItemInFolder); absent in a browser. */
  showItemInFolder?: (path: string) => void;
  /** Replaces the task worker factory for exports (tests). */
  createTaskWorker?: TaskWorkerFactory;
  emit(event: ApiEvent): void;
}
