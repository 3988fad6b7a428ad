// The API over WebSocket for the browser mode: each text message `{ id, method, payload }` is answered
// with `{ id, reply }` (an ApiReply), and every backend event is pushed as `{ event }`. Messages that are
// not JSON or too large are answered with an error, never a crash. Must not import electron or renderer.
import type { WebSocket } from 'ws';
import type { ApiReply } from '../api/index.js';
import type { ApiBackend } from './api-backend.js';

export const MAX_MESSAGE_BYTES = 1024 * 1024;

export type ClientMessage = { id: number; method: string; payload?: unknown };
export type ServerMessage = { id: number; reply: ApiReply } | { event: unknown };

export function serveApiOverSocket(socket: WebSocket, backend: ApiBackend): void {
  const send = (message: ServerMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const unsubscribe = backend.subscribe((event) => send({ event }));
  socket.on('close', unsubscribe);
  socket.on('error', unsubscribe);
  socket.on('message', (data, isBinary) => {
    let message: ClientMessage;
    try {
      if (isBinary) throw new Error('binary');
      message = JSON.parse(data.toString()) as ClientMessage;
      if (typeof message !== 'object' || message === null || typeof message.id !== 'number')
        throw new Error('shape');
    } catch {
      send({
        id: -1,
        reply: {
          ok: false,
          error: {
            code: 'bad-request',
            message: 'Messages must be JSON objects with an id, a method and a payload.',
          },
        },
      });
      return;
    }
    void backend.call(message.method, message.payload).then((reply) => send({ id: message.id, reply }));
  });
}
