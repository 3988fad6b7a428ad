// A stand-in for the API backend in server tests: answers `datasets.list` with an empty list, refuses
// everything else, and lets a test push events to subscribers.
import type { ApiEvent, ApiEventListener, ApiReply } from '../../../main/api/index.js';
import type { ApiBackend } from '../../../main/backend/index.js';

export interface StubBackend extends ApiBackend {
  push(event: ApiEvent): void;
  calls: { method: unknown; payload: unknown }[];
}

export function stubBackend(): StubBackend {
  const listeners = new Set<ApiEventListener>();
  const calls: StubBackend['calls'] = [];
  const stub = {
    calls,
    async call(method: unknown, payload: unknown): Promise<ApiReply> {
      calls.push({ method, payload });
      return method === 'datasets.list'
        ? { ok: true, result: [] }
        : { ok: false, error: { code: 'bad-request', message: `Unknown API method "${String(method)}".` } };
    },
    subscribe(listener: ApiEventListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    push(event: ApiEvent) {
      for (const l of listeners) l(event);
    },
    async close() {
      listeners.clear();
    },
  };
  return stub as unknown as StubBackend;
}
