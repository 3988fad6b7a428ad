// The options of the app window, kept apart from Electron so plain Node tests check them: context
// isolation and the sandbox on, no Node in pages, no webviews, no insecure content, and DevTools only in
// a development run (never in a packaged build). Types only from electron; must not import it at run time.
import type { BrowserWindowConstructorOptions } from 'electron';

export const WINDOW_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false,
} as const;

export interface AppWindowSettings {
  /** The compiled preload script (preload.cjs). */
  preload: string;
  /** Electron's app.isPackaged: true in an installed build. */
  packaged: boolean;
}

export function appWindowOptions(settings: AppWindowSettings): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 860,
    minWidth: 480,
    minHeight: 360,
    title: 'Attention VGG',
    show: false,
    webPreferences: { ...WINDOW_PREFERENCES, preload: settings.preload, devTools: !settings.packaged },
  };
}
