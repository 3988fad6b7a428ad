// The public surface of the server module: the API backend shared with main/electron, and the browser
// mode (HTTP + WebSocket on 127.0.0.1). Must not import electron or renderer.
export { createApiBackend, type ApiBackend, type ApiBackendOptions } from './api-backend.js';
export { defaultUserDataDir, defaultWorkspaceDir, PRODUCT_NAME } from './default-workspace.js';
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
export { Workspace, WorkspaceError } from './workspace.js';
