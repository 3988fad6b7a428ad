// The API transport of the browser mode: one WebSocket to the local server (token in the query), calls
// matched to answers by id, events fanned out, and a reconnect with back-off when the socket drops
// (calls made meanwhile wait for it).
import type { ApiReply, ApiTransport } from '../../../main/api/api-client.js';

type Pending = { resolve: (reply: ApiReply) => void };

export interface WebSocketTransportOptions {
  url: string;
  onConnectionChange?: (connected: boolean) => void;
}

export function websocketTransport(options: WebSocketTransportOptions): ApiTransport {
  const listeners = new Set<(event: unknown) => void>();
  const pending = new Map<number, Pending>();
  const queue: string[] = [];
  let nextId = 1;
  let socket: WebSocket | null = null;
  let retryMs = 250;

  const fail = (id: number, message: string): void => {
    pending.get(id)?.resolve({ ok: false, error: { code: 'failed', message } });
    pending.delete(id);
  };

  const connect = (): void => {
    const ws = new WebSocket(options.url);
    socket = ws;
    ws.onopen = () => {
      retryMs = 250;
      options.onConnectionChange?.(true);
      for (const text of queue.splice(0)) ws.send(text);
    };
    ws.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as { id?: number; reply?: ApiReply; event?: unknown };
      if (data.event !== undefined) for (const listener of listeners) listener(data.event);
      else if (typeof data.id === 'number' && data.reply) {
        pending.get(data.id)?.resolve(data.reply);
        pending.delete(data.id);
      }
    };
    ws.onclose = () => {
      options.onConnectionChange?.(false);
      for (const id of [...pending.keys()])
        fail(id, 'The connection to the app was lost; try again in a moment.');
      socket = null;
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  };
  connect();

  return {
    name: 'websocket',
    send(method, payload) {
      const id = nextId++;
      const text = JSON.stringify({ id, method, payload });
      return new Promise<ApiReply>((resolve) => {
        pending.set(id, { resolve });
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(text);
        else queue.push(text);
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
