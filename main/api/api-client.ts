// The one client interface the UI talks to, over either transport (Electron IPC or the browser-mode
// WebSocket), like netron's host objects: the screens never know which one they use. Must not import
// Node, electron, services or anything above main/api (the renderer imports this file).
import { ApiError, type ApiErrorData } from './api-error.js';
import type { ApiMethod, ApiRequest, ApiResponse } from './api-contract.js';
import type { ApiEventListener } from './api-events.js';

/** The wire form of an answer, the same over IPC and WebSocket. */
export type ApiReply = { ok: true; result: unknown } | { ok: false; error: ApiErrorData };

/** What a transport does: send one call and get its reply; deliver pushed events. */
export interface ApiTransport {
  readonly name: 'ipc' | 'websocket';
  send(method: ApiMethod, payload: unknown): Promise<ApiReply>;
  subscribe(listener: (event: unknown) => void): () => void;
}

export interface ApiClient {
  readonly transport: ApiTransport['name'];
  call<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>>;
  /** Returns the function that unsubscribes. */
  onEvent(listener: ApiEventListener): () => void;
}

/**
 * Wraps a transport. Answers are trusted (they come from our own Node side, which builds them from the
 * contract's types); errors come back as ApiError with the service's plain-words message.
 */
export function createApiClient(transport: ApiTransport): ApiClient {
  return {
    transport: transport.name,
    async call(method, request) {
      const reply = await transport.send(method, request);
      if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message);
      return reply.result as ApiResponse<typeof method>;
    },
    onEvent(listener) {
      return transport.subscribe((event) => listener(event as Parameters<ApiEventListener>[0]));
    },
  };
}
