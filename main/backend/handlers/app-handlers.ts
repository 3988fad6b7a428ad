// API handler for the app report: versions, workspace, the TensorFlow.js backend as the worker sees it
// and the engine a new training run would use.
// Must not import electron or renderer.
import os from 'node:os';
import type { ApiHandlers } from '../../api/index.js';
import { APP_VERSION } from '../../services/app-version.js';
import type { BackendContext } from '../backend-context.js';

type AppHandlers = Pick<ApiHandlers, 'app.info'>;

export function appHandlers(context: BackendContext): AppHandlers {
  return {
    'app.info': async () => {
      const cpus = os.cpus();
      const base = {
        version: APP_VERSION,
        platform: `${process.platform}-${process.arch}`,
        node: process.version,
        cpus: cpus.length,
        cpu: cpus[0]?.model ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        workspace: context.workspace.root,
        shell: context.shell,
      };
      try {
        return { ...base, ...(await context.inference.computeReport()) };
      } catch (error) {
        return { ...base, backend: null, backendError: (error as Error).message };
      }
    },
  };
}
