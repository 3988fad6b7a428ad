// The public surface of the API backend: the Node side of the API whatever the transport (the desktop's
// IPC in main/electron, the browser mode's WebSocket in main/server), with its workspace and handlers.
// Must not import electron or renderer.
export { createApiBackend, type ApiBackend, type ApiBackendOptions } from './api-backend.js';
export { defaultUserDataDir, defaultWorkspaceDir, PRODUCT_NAME } from './default-workspace.js';
export { Workspace, WorkspaceError } from './workspace.js';
