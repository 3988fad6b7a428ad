// The preload of the app window (sandboxed, so CommonJS and no project imports): exposes ONE small object,
// window.attnvgg, through contextBridge: invoke(method, payload) on an allow-listed channel with the method
// name checked, event subscription, and the path of a dropped file or folder (webUtils.getPathForFile).
// The renderer gets no ipcRenderer, no Node and no Electron object. Channel names repeat ipc-channels.ts.
// A sandboxed preload is a CommonJS script; require is how it reaches Electron's renderer modules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { contextBridge, ipcRenderer, webUtils } = require('electron') as typeof import('electron');

const INVOKE_CHANNEL = 'attnvgg:invoke';
const EVENT_CHANNEL = 'attnvgg:event';
const METHOD_PATTERN = /^[a-z]+\.[a-zA-Z]+$/;

contextBridge.exposeInMainWorld('attnvgg', {
  invoke(method: unknown, payload: unknown): Promise<unknown> {
    if (typeof method !== 'string' || !METHOD_PATTERN.test(method))
      return Promise.resolve({
        ok: false,
        error: { code: 'bad-request', message: `Unknown API method "${String(method)}".` },
      });
    return ipcRenderer.invoke(INVOKE_CHANNEL, method, payload);
  },
  onEvent(listener: (event: unknown) => void): () => void {
    const wrapped = (_event: unknown, data: unknown): void => listener(data);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
    };
  },
  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
});
