// Picks the transport: the desktop bridge when the preload put one on window, else the WebSocket of the
// browser-mode server that served this page (the access token comes from the page's address fragment,
// see access-token.ts, and is sent on the WebSocket's upgrade only).
import { createApiClient, type ApiClient } from '../../../main/api/api-client.js';
import { takeAccessToken } from './access-token.js';
import { desktopBridge } from './desktop-bridge.js';
import { ipcTransport } from './ipc-transport.js';
import { websocketTransport } from './websocket-transport.js';

export function connectApi(onConnectionChange: (connected: boolean) => void): ApiClient {
  const bridge = desktopBridge();
  if (bridge) {
    onConnectionChange(true);
    return createApiClient(ipcTransport(bridge));
  }
  const token = takeAccessToken();
  const url = `ws://${location.host}/api?token=${encodeURIComponent(token)}`;
  return createApiClient(websocketTransport({ url, onConnectionChange }));
}
