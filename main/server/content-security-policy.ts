// The renderer's Content-Security-Policy, one per way the pages are served, sent as a response header
// (renderer/index.html has no <meta> policy, so neither mode inherits the other's). Browser mode may talk
// to its own server's WebSocket only (the exact port); the desktop window opens no WebSocket and reaches
// nothing but its own app:// files (its API is IPC). Pure strings, no imports: used by the loopback
// server and meant for Electron's app:// handler. Must not import electron or renderer.

/**
 * What both modes allow: the pages' own scripts; their own styles and Svelte's style attributes
 * ('unsafe-inline'); pictures of their own and from data: and blob: URLs (thumbnails, heat-maps).
 */
const SHARED = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

/** Browser mode on 127.0.0.1:<port>: its pages may open the WebSocket of this server, nothing else. */
export function browserModeContentSecurityPolicy(port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RangeError(`Expected a port from 1 to 65535, got ${port}`);
  return [...SHARED, `connect-src ws://127.0.0.1:${port} ws://localhost:${port}`].join('; ');
}

/** The desktop window (app://): no WebSocket, no loopback port, only its own files (the API goes over IPC). */
export function desktopContentSecurityPolicy(): string {
  return [...SHARED, "connect-src 'self'"].join('; ');
}
