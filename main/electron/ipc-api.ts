// The API over Electron IPC: binds ipc-guard.ts's checks (our app:// page's main frame only, known methods,
// plain bounded payloads valid against the contract) to ipcMain, answering through the same backend as
// the browser mode; pushes every backend event to every window. The checks live in ipc-guard.ts, which
// does not import Electron, so Node tests exercise them. The only folder that may import 'electron' is
// main/electron.
import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { ApiReply } from '../api/index.js';
import type { ApiBackend } from '../backend/index.js';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from './ipc-channels.js';
import { createIpcGuard } from './ipc-guard.js';

export function serveApiOverIpc(backend: ApiBackend): () => void {
  const guard = createIpcGuard({ call: (method, payload) => backend.call(method, payload) });
  ipcMain.handle(
    INVOKE_CHANNEL,
    (event: IpcMainInvokeEvent, method: unknown, payload: unknown): Promise<ApiReply> =>
      guard(event.senderFrame, method, payload),
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
