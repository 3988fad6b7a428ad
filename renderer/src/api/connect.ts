// Picks the transport: the desktop bridge when the preload put one on window, else the WebSocket of the
// browser-mode server that served this page (the access token comes from the page's address).
import { createApiClient, type ApiClient } from '../../../main/api/api-client.js';
import { desktopBridge } from './desktop-bridge.js';
import { ipcTransport } from './ipc-transport.js';
import { websocketTransport } from './websocket-transport.js';

export function connectApi(onConnectionChange: (connected: boolean) => void): ApiClient {
  const bridge = desktopBridge();
  if (bridge) {
    onConnectionChange(true);
    return createApiClient(ipcTransport(bridge));
  }
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const url = `ws://${location.host}/api?token=${encodeURIComponent(token)}`;
  return createApiClient(websocketTransport({ url, onConnectionChange }));
}
