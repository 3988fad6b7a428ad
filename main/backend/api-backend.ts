// The Node side of the API, whatever the transport: opens the workspace, owns the training jobs and the
// inference worker, answers calls (validated by the contract) and fans events out to every subscriber.
// main/server's WebSocket and main/electron's IPC both sit on one of these. Must not import electron
// or renderer.
import {
  dispatchApiCall,
  type ApiEvent,
  type ApiEventListener,
  type ApiHandlers,
  type ApiReply,
  type DispatchOptions,
} from '../api/index.js';
import {
  ClassifyJobs,
  CompareJobs,
  InferenceClient,
  TrainingJobs,
  type JobEvent,
} from '../services/jobs/index.js';
import { BackboneLibrary } from '../services/backbone/backbone-library.js';
import type { BackendContext } from './backend-context.js';
import { appHandlers } from './handlers/app-handlers.js';
import { backboneHandlers } from './handlers/backbone-handlers.js';
import { classifyHandlers, jobOf } from './handlers/classify-handlers.js';
import { compareHandlers, compareJobOf } from './handlers/compare-handlers.js';
import { datasetHandlers } from './handlers/datasets-handlers.js';
import { evaluationHandlers } from './handlers/evaluation-handlers.js';
import { fileHandlers } from './handlers/files-handlers.js';
import { modelHandlers } from './handlers/models-handlers.js';
import { trainingHandlers } from './handlers/training-handlers.js';
import { Workspace } from './workspace.js';

export interface ApiBackendOptions {
  workspaceDir: string;
  shell: 'electron' | 'browser';
  /** Validate answers against the contract too (tests). */
  checkResponses?: boolean;
  /** The desktop's "show in folder" (main/electron passes Electron's shell.showItemInFolder). */
  showItemInFolder?: (path: string) => void;
}

export interface ApiBackend {
  readonly workspace: Workspace;
  readonly handlers: ApiHandlers;
  call(method: unknown, payload: unknown): Promise<ApiReply>;
  subscribe(listener: ApiEventListener): () => void;
  /** Pauses training (keeping a checkpoint), cancels classifications and comparisons, stops the workers. */
  close(): Promise<void>;
}

export async function createApiBackend(options: ApiBackendOptions): Promise<ApiBackend> {
  const workspace = await Workspace.open(options.workspaceDir);
  const listeners = new Set<ApiEventListener>();
  const emit = (event: ApiEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // One broken subscriber (a closed socket) must not stop the others.
      }
    }
  };
  let training: ReturnType<typeof trainingHandlers> | null = null;
  const announce = (runId: string): void => {
    void training
      ?.summary(runId)
      .then((run) => emit({ type: 'run', run }))
      .catch(() => undefined);
  };
  const jobs = new TrainingJobs({
    deviceCacheDir: workspace.root,
    onEvent: (event: JobEvent) => {
      if (event.type === 'training') {
        emit({ type: 'training', runId: event.runId, event: event.event });
        if (event.event.type === 'started' || event.event.type === 'epoch') announce(event.runId);
      } else announce(event.runId);
    },
  });
  const inference = new InferenceClient();
  const classify = new ClassifyJobs({
    rootDir: workspace.classificationsDir,
    deviceCacheDir: workspace.root,
    onChange: (job) => emit({ type: 'classify', job: jobOf(job) }),
  });
  const compare = new CompareJobs({
    rootDir: workspace.comparisonsDir,
    onChange: (job) => emit({ type: 'compare-job', job: compareJobOf(job) }),
    onEvent: (compareId, event) => emit({ type: 'compare', compareId, event }),
  });
  const context: BackendContext = {
    workspace,
    jobs,
    inference,
    classify,
    compare,
    backbones: new BackboneLibrary(workspace.root),
    shell: options.shell,
    emit,
    ...(options.showItemInFolder ? { showItemInFolder: options.showItemInFolder } : {}),
  };
  training = trainingHandlers(context);
  const { summary: _summary, ...trainingApi } = training;
  const handlers: ApiHandlers = {
    ...appHandlers(context),
    ...datasetHandlers(context),
    ...trainingApi,
    ...evaluationHandlers(context),
    ...modelHandlers(context),
    ...backboneHandlers(context),
    ...classifyHandlers(context),
    ...compareHandlers(context),
    ...fileHandlers(context),
  };
  const dispatchOptions: DispatchOptions = { checkResponses: options.checkResponses ?? false };
  return {
    workspace,
    handlers,
    call: (method, payload) => dispatchApiCall(handlers, method, payload, dispatchOptions),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await jobs.stopAll();
      await classify.stopAll();
      await compare.stopAll();
      await inference.close();
      listeners.clear();
    },
  };
}
