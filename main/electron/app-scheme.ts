// The app:// scheme the desktop window loads its pages from, instead of file://: one origin
// (app://attnvgg) that holds only the built renderer folder (app-protocol.ts), so no other local file can
// pose as the app's page, and a page of that origin is the only one the IPC guard answers. Pure data and
// checks; must not import electron at run time (types only), so plain Node tests use it.
import type { CustomScheme } from 'electron';

export const APP_SCHEME = 'app';
export const APP_HOST = 'attnvgg';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** What the window loads. */
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * Registered before the app is ready (protocol.registerSchemesAsPrivileged): a standard, secure origin
 * (relative URLs, ES modules, storage) that may use fetch for its own files, and nothing more: no CSP
 * bypass, no service workers, no CORS from other origins, no extensions.
 */
export const APP_SCHEME_DEFINITION: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: {
    standard: true,
    secure: true,
    supportFetchAPI: true,
    codeCache: true,
    bypassCSP: false,
    allowServiceWorkers: false,
    corsEnabled: false,
    stream: false,
    allowExtensions: false,
  },
};

/** The URL parsed, when it is on the app's own origin (app://attnvgg, no user, password or port). */
export function appUrl(url: string | undefined): URL | null {
  if (typeof url !== 'string' || url === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const own =
    parsed.protocol === `${APP_SCHEME}:` &&
    parsed.host === APP_HOST &&
    parsed.username === '' &&
    parsed.password === '';
  return own ? parsed : null;
}
