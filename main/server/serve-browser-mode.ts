// Browser mode in one call: opens the workspace's API backend and starts the loopback server that serves
// the built renderer and the API. Used by `attnvgg serve`, `npm start` without Electron, and the tests.
// Must not import electron or renderer.
import { createApiBackend, type ApiBackend } from '../backend/api-backend.js';
import { defaultWorkspaceDir } from '../backend/default-workspace.js';
import { startServer, type RunningServer } from './http-server.js';
import { findRendererDir, RENDERER_MISSING } from './renderer-files.js';

export interface BrowserModeOptions {
  port?: number;
  workspaceDir?: string;
  /** Defaults to the built renderer in dist/renderer. */
  staticDir?: string;
  token?: string;
  checkResponses?: boolean;
}

export interface BrowserMode {
  backend: ApiBackend;
  server: RunningServer;
  close(): Promise<void>;
}

export class BrowserModeError extends Error {
  override name = 'BrowserModeError';
}

export async function serveBrowserMode(options: BrowserModeOptions = {}): Promise<BrowserMode> {
  const staticDir = options.staticDir ?? findRendererDir();
  if (!staticDir) throw new BrowserModeError(RENDERER_MISSING);
  const backend = await createApiBackend({
    workspaceDir: options.workspaceDir ?? defaultWorkspaceDir(),
    shell: 'browser',
    checkResponses: options.checkResponses ?? false,
  });
  let server: RunningServer;
  try {
    server = await startServer({
      backend,
      staticDir,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
    });
  } catch (error) {
    await backend.close();
    throw error;
  }
  return {
    backend,
    server,
    async close() {
      await server.close();
      await backend.close();
    },
  };
}
