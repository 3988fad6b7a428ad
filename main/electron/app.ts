// The desktop app's main process: opens the workspace's API backend (the same one the browser mode
// uses, with the system's "show in folder" for files), serves it to the window over IPC, serves the
// pages from app:// (the built renderer folder only), opens the window, and on quit pauses any training
// with a checkpoint. `--workspace DIR` overrides the workspace (default: <userData>/workspace).
// The only folder that may import 'electron' is main/electron.
import { app, BrowserWindow, dialog, shell } from 'electron';
import { join, resolve } from 'node:path';
import { createApiBackend, type ApiBackend } from '../backend/index.js';
import { findRendererDir, RENDERER_MISSING } from '../server/index.js';
import { lockDownWebContents, openAppWindow, registerAppScheme, serveAppScheme } from './app-window.js';
import { serveApiOverIpc } from './ipc-api.js';

function workspaceArgument(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--workspace');
  if (i >= 0 && argv[i + 1]) return resolve(argv[i + 1]);
  const inline = argv.find((a) => a.startsWith('--workspace='));
  return inline ? resolve(inline.slice('--workspace='.length)) : undefined;
}

async function main(): Promise<void> {
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  registerAppScheme(); // before ready, as Electron requires
  await app.whenReady();
  lockDownWebContents();
  const rendererDir = findRendererDir();
  if (!rendererDir) {
    dialog.showErrorBox('Attention VGG', RENDERER_MISSING);
    app.quit();
    return;
  }
  let backend: ApiBackend;
  try {
    backend = await createApiBackend({
      workspaceDir: workspaceArgument(process.argv) ?? join(app.getPath('userData'), 'workspace'),
      shell: 'electron',
      // "Open" on a file in the window (through the IPC API) shows it in the system's file manager.
      showItemInFolder: (path) => shell.showItemInFolder(path),
    });
  } catch (error) {
    dialog.showErrorBox('Attention VGG', (error as Error).message);
    app.quit();
    return;
  }
  serveAppScheme(rendererDir);
  serveApiOverIpc(backend);
  await openAppWindow();

  app.on('second-instance', () => {
    const [window] = BrowserWindow.getAllWindows();
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void openAppWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    void backend.close().finally(() => app.quit());
  });
}

void main();
