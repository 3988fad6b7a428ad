// The app window and the rules every web page of the app lives by: context isolation and the sandbox on,
// no Node in pages, no navigation away, no new windows, no webviews, no permissions, the pages' own
// Content-Security-Policy (renderer/index.html). The only folder that may import 'electron' is main/electron.
import { app, BrowserWindow, session, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const WINDOW_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false,
} as const;

/** Locks down every web contents the app creates, and the default session. */
export function lockDownWebContents(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Links to the web open in the user's browser, never inside the app.
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

export async function openAppWindow(rendererDir: string): Promise<BrowserWindow> {
  const preload = fileURLToPath(new URL('./preload.cjs', import.meta.url));
  const window = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 480,
    minHeight: 360,
    title: 'Attention VGG',
    show: false,
    webPreferences: { ...WINDOW_PREFERENCES, preload },
  });
  window.once('ready-to-show', () => window.show());
  await window.loadFile(join(rendererDir, 'index.html'));
  return window;
}
