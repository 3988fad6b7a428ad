// The app's one API client (set once at start-up) and a helper that turns failures into plain messages.
import type { ApiClient } from '../../../main/api/api-client.js';

let client: ApiClient | null = null;

export function setApi(next: ApiClient): void {
  client = next;
}

export function api(): ApiClient {
  if (!client) throw new Error('The API client is not connected yet.');
  return client;
}

/** The message to show for a failed call: the service's own words, never a stack trace. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
