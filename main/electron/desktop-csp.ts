// The Content-Security-Policy of the desktop window's pages, sent as a response header by the app://
// handler (app-protocol.ts). The window talks to Node over IPC only, so no connection leaves the page:
// unlike browser mode it allows no WebSocket (ws://127.0.0.1:*), and no script that is not a file of
// the built renderer. Pure data; must not import electron (tests read it in plain Node).

/** Directive -> sources. Styles allow 'unsafe-inline' for Svelte's style attributes; images allow data:
 * and blob: for thumbnails, heat-maps and pictures the page makes itself. */
export const DESKTOP_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'worker-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

export const DESKTOP_CSP = Object.entries(DESKTOP_CSP_DIRECTIVES)
  .map(([directive, sources]) => `${directive} ${sources.join(' ')}`)
  .join('; ');
