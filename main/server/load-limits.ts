// How much one local client may make the browser-mode server hold, so a flood of calls, connections or
// half-sent requests cannot grow its memory without bound or keep sockets open forever. The numbers are
// documented in docs/security.md ("Load limits"); tests may pass smaller ones. Must not import electron or renderer.

export interface LoadLimits {
  /** API calls one WebSocket may have running; further messages wait unread (TCP pushes back). */
  callsInFlightPerConnection: number;
  /** Replies queued for a client that does not read them: above this the server stops reading its calls. */
  pausedAboveBufferedBytes: number;
  /** Replies and events queued for a client that still does not read: above this it is disconnected. */
  closeAboveBufferedBytes: number;
  /** Open TCP connections (pages, assets and WebSockets together); more are closed at once. */
  connections: number;
  /** Time to send a request's headers; a connection that has not finished them by then is closed. */
  headersTimeoutMs: number;
  /** A connection with no traffic (a WebSocket that answers no ping) for this long is closed. */
  idleTimeoutMs: number;
}

export const LOAD_LIMITS: Readonly<LoadLimits> = Object.freeze({
  callsInFlightPerConnection: 64,
  pausedAboveBufferedBytes: 8 * 1024 * 1024,
  closeAboveBufferedBytes: 64 * 1024 * 1024,
  connections: 32,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
});
