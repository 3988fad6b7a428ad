// The API over Electron IPC: answers the window's invoke calls through the same backend as the browser
// mode (validated by the contract there), after checking the call comes from our own page; pushes every
// backend event to every window. The only folder that may import 'electron' is main/electron.
import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { pathToFileURL } from 'node:url';
import type { ApiReply } from '../api/index.js';
import type { ApiBackend } from '../server/index.js';
import { EVENT_CHANNEL, INVOKE_CHANNEL, METHOD_PATTERN } from './ipc-channels.js';

/** True when the call comes from a page inside the built renderer folder (never from other content). */
export function fromOwnPage(senderUrl: string | undefined, rendererDir: string): boolean {
  if (!senderUrl) return false;
  const root = pathToFileURL(rendererDir).href.replace(/\/?$/, '/');
  return senderUrl.startsWith(root);
}

export function serveApiOverIpc(backend: ApiBackend, rendererDir: string): () => void {
  ipcMain.handle(
    INVOKE_CHANNEL,
    async (event: IpcMainInvokeEvent, method: unknown, payload: unknown): Promise<ApiReply> => {
      if (!fromOwnPage(event.senderFrame?.url, rendererDir))
        return {
          ok: false,
          error: { code: 'refused', message: "Calls are accepted only from the app's own page." },
        };
      if (typeof method !== 'string' || !METHOD_PATTERN.test(method))
        return {
          ok: false,
          error: { code: 'bad-request', message: `Unknown API method "${String(method)}".` },
        };
      return backend.call(method, payload);
    },
  );
  const unsubscribe = backend.subscribe((event) => {
    for (const window of BrowserWindow.getAllWindows())
      if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, event);
  });
  return () => {
    unsubscribe();
    ipcMain.removeHandler(INVOKE_CHANNEL);
  };
}
