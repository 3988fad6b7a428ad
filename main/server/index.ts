// The public surface of the browser-mode server: HTTP for the built renderer and a WebSocket for the API
// on 127.0.0.1, over the API backend (main/backend); the Content-Security-Policy of each way the pages
// are served, which the desktop's app:// protocol uses too. Must not import electron or renderer.
export { browserModeContentSecurityPolicy, desktopContentSecurityPolicy } from './content-security-policy.js';
export { LOAD_LIMITS, type LoadLimits } from './load-limits.js';
export { startServer, ServerStartError, type RunningServer, type ServerOptions } from './http-server.js';
export { findRendererDir, RENDERER_MISSING } from './renderer-files.js';
export {
  BrowserModeError,
  serveBrowserMode,
  type BrowserMode,
  type BrowserModeOptions,
} from './serve-browser-mode.js';
