// Who may talk to the browser-mode server: a request must carry this start's random token (query
// `token`, header `x-attnvgg-token` or `Authorization: Bearer`, or the cookie set when the page was
// opened with the token), name this server in its Host header (no DNS rebinding), and, when it has an
// Origin or a Sec-Fetch-Site header, come from this server's own page (no other local page). Must not import electron or renderer.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function tokenCookieName(port: number): string {
  return `attnvgg_token_${port}`;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export function requestToken(request: IncomingMessage, url: URL, port: number): string | undefined {
  const auth = request.headers.authorization;
  return (
    url.searchParams.get('token') ??
    (typeof request.headers['x-attnvgg-token'] === 'string'
      ? request.headers['x-attnvgg-token']
      : undefined) ??
    (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined) ??
    cookieValue(request.headers.cookie, tokenCookieName(port))
  );
}

export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export type AccessVerdict =
  { ok: true; via: 'query' | 'other' } | { ok: false; status: 401 | 403; reason: string };

export function checkAccess(request: IncomingMessage, url: URL, token: string, port: number): AccessVerdict {
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
  const given = requestToken(request, url, port);
  if (given === undefined || !sameToken(given, token))
    return {
      ok: false,
      status: 401,
      reason: 'Open the full address that `attnvgg serve` printed (it includes the access token).',
    };
  return { ok: true, via: url.searchParams.has('token') ? 'query' : 'other' };
}
