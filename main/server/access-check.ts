// Who may talk to the browser-mode server. Every request must name this server in its Host header (no DNS
// rebinding) and, when it has an Origin or a Sec-Fetch-Site header, come from this server's own page (no
// other local page). The API (the WebSocket at /api) also needs this start's random token, given in the
// upgrade's query `token`, a header `x-attnvgg-token` or `Authorization: Bearer`. The pages and their
// assets are not secret and need no token, so the token never travels with them: no cookie holds it
// (cookies are not scoped by port, so one would reach every other server of 127.0.0.1), and the address
// printed for the user carries it in its fragment, which browsers never send. Must not import electron or renderer.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function requestToken(request: IncomingMessage, url: URL): string | undefined {
  const auth = request.headers.authorization;
  return (
    url.searchParams.get('token') ??
    (typeof request.headers['x-attnvgg-token'] === 'string'
      ? request.headers['x-attnvgg-token']
      : undefined) ??
    (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined)
  );
}

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export type AccessVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** Host, Origin and Sec-Fetch-Site: the checks every request and upgrade passes, token or not. */
export function checkSameSite(request: IncomingMessage, port: number): AccessVerdict {
  const hosts = allowedHosts(port);
  if (!hosts.includes((request.headers.host ?? '').toLowerCase()))
    return { ok: false, status: 403, reason: 'This server answers only to 127.0.0.1 and localhost.' };
  const origin = request.headers.origin;
  if (origin !== undefined && !hosts.map((h) => `http://${h}`).includes(origin.toLowerCase()))
    return { ok: false, status: 403, reason: 'Requests from other web pages are refused.' };
  // Browsers say where a request comes from even when they send no Origin (an <img> or <script> of
  // another page, including one served by another port of 127.0.0.1, which is the "same site"): only
  // the address bar ("none") and our own page ("same-origin") may reach us.
  const fetchSite = request.headers['sec-fetch-site'];
  if (typeof fetchSite === 'string' && fetchSite !== 'same-origin' && fetchSite !== 'none')
    return { ok: false, status: 403, reason: 'Requests from other web pages are refused.' };
  return { ok: true };
}

/** The API's check: the same-site checks, then this start's token. */
export function checkApiAccess(
  request: IncomingMessage,
  url: URL,
  token: string,
  port: number,
): AccessVerdict {
  const site = checkSameSite(request, port);
  if (!site.ok) return site;
  const given = requestToken(request, url);
  if (given === undefined || !sameToken(given, token))
    return {
      ok: false,
      status: 401,
      reason: 'Open the full address that `attnvgg serve` printed (it includes the access token).',
    };
  return { ok: true };
}
