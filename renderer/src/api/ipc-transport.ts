// The API transport of the desktop window: calls go through the preload's small bridge to Electron IPC.
import type { ApiTransport } from '../../../main/api/api-client.js';
import type { DesktopBridge } from './desktop-bridge.js';

export function ipcTransport(bridge: DesktopBridge): ApiTransport {
  return {
    name: 'ipc',
    send: (method, payload) => bridge.invoke(method, payload),
    subscribe: (listener) => bridge.onEvent(listener),
  };
}
