// The API over WebSocket for the browser mode: each text message `{ id, method, payload }` is answered
// with `{ id, reply }` (an ApiReply), and every backend event is pushed as `{ event }`. Messages that are
// not JSON or too large are answered with an error, never a crash. Load is bounded per connection
// (load-limits.ts): at most `callsInFlightPerConnection` calls run at once and the socket is not read
// while that many run or while too many reply bytes wait for a client that does not read them; a client
// that lets even more pile up, or answers no ping for `idleTimeoutMs`, is disconnected.
// Must not import electron or renderer.
import type { WebSocket } from 'ws';
import type { ApiReply } from '../api/index.js';
import type { ApiBackend } from '../backend/api-backend.js';
import type { LoadLimits } from './load-limits.js';

export const MAX_MESSAGE_BYTES = 1024 * 1024;

export type ClientMessage = { id: number; method: string; payload?: unknown };
export type ServerMessage = { id: number; reply: ApiReply } | { event: unknown };

type SocketLimits = Pick<
  LoadLimits,
  'callsInFlightPerConnection' | 'pausedAboveBufferedBytes' | 'closeAboveBufferedBytes' | 'idleTimeoutMs'
>;

const BAD_MESSAGE: ServerMessage = {
  id: -1,
  reply: {
    ok: false,
    error: {
      code: 'bad-request',
      message: 'Messages must be JSON objects with an id, a method and a payload.',
    },
  },
};

function parseMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): ClientMessage | null {
  if (isBinary) return null;
  try {
    const message = JSON.parse(String(data)) as ClientMessage;
    return typeof message === 'object' && message !== null && typeof message.id === 'number' ? message : null;
  } catch {
    return null;
  }
}

export function serveApiOverSocket(socket: WebSocket, backend: ApiBackend, limits: SocketLimits): void {
  const waiting: ClientMessage[] = [];
  let running = 0;
  let lastHeard = Date.now();

  const tooFull = (): boolean => socket.bufferedAmount > limits.pausedAboveBufferedBytes;
  /** Starts what may start, and reads the socket only when nothing waits and the client keeps up. */
  const flow = (): void => {
    while (waiting.length > 0 && running < limits.callsInFlightPerConnection && !tooFull())
      start(waiting.shift() as ClientMessage);
    if (socket.readyState !== socket.OPEN) return;
    const busy = waiting.length > 0 || running >= limits.callsInFlightPerConnection || tooFull();
    if (busy && !socket.isPaused) socket.pause();
    else if (!busy && socket.isPaused) socket.resume();
  };
  const send = (message: ServerMessage): void => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > limits.closeAboveBufferedBytes) {
      socket.terminate();
      return;
    }
    // The callback runs once the bytes have left for the client: the moment to read more calls.
    socket.send(JSON.stringify(message), () => flow());
  };
  const start = (message: ClientMessage): void => {
    running += 1;
    void backend.call(message.method, message.payload).then((reply) => {
      running -= 1;
      send({ id: message.id, reply });
      flow();
    });
  };

  const unsubscribe = backend.subscribe((event) => send({ event }));
  const heartbeat = setInterval(
    () => {
      // Paused because its own calls are still running, the socket's pongs wait unread: not idle.
      if (socket.isPaused && !tooFull()) lastHeard = Date.now();
      if (Date.now() - lastHeard > limits.idleTimeoutMs) socket.terminate();
      else if (socket.readyState === socket.OPEN) socket.ping();
    },
    Math.max(50, Math.floor(limits.idleTimeoutMs / 4)),
  );
  heartbeat.unref();
  const stop = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
    waiting.length = 0;
  };
  socket.on('close', stop);
  socket.on('error', stop);
  socket.on('pong', () => (lastHeard = Date.now()));
  socket.on('message', (data, isBinary) => {
    lastHeard = Date.now();
    const message = parseMessage(data, isBinary);
    if (!message) return send(BAD_MESSAGE);
    waiting.push(message);
    flow();
  });
}
