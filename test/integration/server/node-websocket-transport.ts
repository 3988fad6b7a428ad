// The API client over the browser-mode WebSocket, for Node tests (the renderer's transport uses the
// browser's WebSocket): the same wire format, through the ws package.
import WebSocket from 'ws';
import { createApiClient, type ApiClient, type ApiReply } from '../../../main/api/index.js';

export interface NodeApiConnection {
  client: ApiClient;
  events: unknown[];
  close(): void;
}

export async function connectNodeClient(port: number, token: string): Promise<NodeApiConnection> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const pending = new Map<number, (reply: ApiReply) => void>();
  const listeners = new Set<(event: unknown) => void>();
  const events: unknown[] = [];
  let nextId = 1;
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; reply?: ApiReply; event?: unknown };
    if (message.event !== undefined) {
      events.push(message.event);
      for (const l of listeners) l(message.event);
    } else if (message.id !== undefined && message.reply) {
      pending.get(message.id)?.(message.reply);
      pending.delete(message.id);
    }
  });
  const client = createApiClient({
    name: 'websocket',
    send: (method, payload) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, payload }));
      }),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
  return { client, events, close: () => ws.close() };
}
