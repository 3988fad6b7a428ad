// The app window and the rules every web page of the app lives by: the pages come from app:// (the
// built renderer folder only, with the desktop CSP as a header: app-protocol.ts), context isolation and
// the sandbox on, no Node in pages, DevTools only in development (window-options.ts), no navigation
// away, no new windows, no webviews, no permissions, and web links opened in the user's browser only
// for the hosts of external-links.ts. The only folder that may import 'electron' is main/electron.
import { app, BrowserWindow, protocol, session, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import { createAppProtocolHandler } from './app-protocol.js';
import { APP_INDEX_URL, APP_SCHEME, APP_SCHEME_DEFINITION } from './app-scheme.js';
import { externalLinkAllowed } from './external-links.js';
import { appWindowOptions } from './window-options.js';

/** Must run before the app is ready: app:// becomes a standard, secure origin. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_DEFINITION]);
}

/** After ready: app:// answers with the files of `rendererDir` and nothing else. */
export function serveAppScheme(rendererDir: string): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(rendererDir));
}

/** A web address the page tried to open or navigate to goes to the user's browser, if it is allowed. */
function openIfAllowed(url: string): void {
  if (externalLinkAllowed(url)) void shell.openExternal(url);
}

/** Locks down every web contents the app creates, and the default session. */
export function lockDownWebContents(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => {
      event.preventDefault();
      openIfAllowed(event.url);
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      openIfAllowed(url);
      return { action: 'deny' };
    });
  });
}

export async function openAppWindow(): Promise<BrowserWindow> {
  const preload = fileURLToPath(new URL('./preload.cjs', import.meta.url));
  const window = new BrowserWindow(appWindowOptions({ preload, packaged: app.isPackaged }));
  window.once('ready-to-show', () => window.show());
  await window.loadURL(APP_INDEX_URL);
  return window;
}
