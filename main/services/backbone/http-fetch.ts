// GET over HTTP(S) for the backbone downloader, honouring the usual proxy variables: HTTPS_PROXY for
// https addresses, HTTP_PROXY for http ones (upper or lower case), minus the hosts NO_PROXY lists. Without
// a proxy it is the platform's fetch. Through a proxy (an http:// proxy, with optional user:password), an
// https address goes through a CONNECT tunnel and TLS to the real host; an http address is asked of the
// proxy by its full URL. Redirects are followed (at most 5), each hop choosing its own route, and the
// answer is returned as a fetch Response.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';

export interface HttpFetchOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The environment to read the proxy variables from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Extra TLS settings for the real host (tests trust their own certificate authority with `ca`). */
  tls?: Pick<ConnectionOptions, 'ca'>;
}

const MAX_REDIRECTS = 5;

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name] ?? env[name.toLowerCase()];
  return v && v.trim() ? v.trim() : undefined;
}

/** True when NO_PROXY names `url`'s host (exactly, as a domain suffix, or `*`), with its port if given. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((rule) => {
      if (rule === '*') return true;
      const m = /^(.*?)(?::(\d+))?$/.exec(rule.toLowerCase())!;
      const name = m[1].replace(/^\*?\./, '');
      if (m[2] && m[2] !== port) return false;
      return host === name || host.endsWith(`.${name}`);
    });
}

/** The proxy to use for `url`, or undefined for a direct connection. */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw = envValue(env, url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY');
  if (!raw || bypassesProxy(url, envValue(env, 'NO_PROXY'))) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new Error(`The proxy setting "${raw}" is not an address.`);
  }
  if (proxy.protocol !== 'http:')
    throw new Error(
      `The proxy ${proxy.host} is reached by ${proxy.protocol}; only http:// proxies are supported.`,
    );
  return proxy;
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw))
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  return headers;
}

function waitFor(req: ReturnType<typeof httpRequest>, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const abort = () => req.destroy(signal?.reason as Error);
    signal?.addEventListener('abort', abort, { once: true });
    req.once('response', (res) => {
      signal?.removeEventListener('abort', abort);
      // A later abort still ends the body.
      signal?.addEventListener('abort', () => res.destroy(signal.reason as Error), { once: true });
      resolve(res);
    });
    req.once('error', reject);
    req.end();
  });
}

/** A CONNECT tunnel through `proxy` to `target`, then TLS over it. */
function tunnel(proxy: URL, target: URL, options: HttpFetchOptions): Promise<ReturnType<typeof tlsConnect>> {
  return new Promise((resolve, reject) => {
    const authority = `${target.hostname}:${target.port || 443}`;
    const req = httpRequest({
      host: proxy.hostname,
      port: proxy.port || 80,
      method: 'CONNECT',
      path: authority,
      headers: { Host: authority, ...proxyAuthorization(proxy) },
    });
    const abort = () => req.destroy(options.signal?.reason as Error);
    options.signal?.addEventListener('abort', abort, { once: true });
    req.once('connect', (res, socket) => {
      options.signal?.removeEventListener('abort', abort);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(
          new Error(`the proxy ${proxy.host} refused to connect to ${authority}: HTTP ${res.statusCode}`),
        );
        return;
      }
      const host = target.hostname.replace(/^\[|\]$/g, '');
      resolve(tlsConnect({ socket, host, ...(isIP(host) ? {} : { servername: host }), ...options.tls }));
    });
    req.once('error', (e) => reject(new Error(`cannot reach the proxy ${proxy.host}: ${e.message}`)));
    req.end();
  });
}

async function viaProxy(proxy: URL, target: URL, options: HttpFetchOptions): Promise<IncomingMessage> {
  const headers = { ...options.headers };
  if (target.protocol === 'http:')
    return waitFor(
      httpRequest({
        host: proxy.hostname,
        port: proxy.port || 80,
        method: 'GET',
        path: target.href,
        headers: { ...headers, Host: target.host, ...proxyAuthorization(proxy) },
      }),
      options.signal,
    );
  const socket = await tunnel(proxy, target, options);
  return waitFor(
    httpsRequest({
      host: target.hostname,
      port: target.port || 443,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: { ...headers, Host: target.host },
      createConnection: () => socket,
    }),
    options.signal,
  );
}

/** GET `url` (following redirects), through the environment's proxy when one applies. */
export async function httpFetch(url: string, options: HttpFetchOptions = {}): Promise<Response> {
  const env = options.env ?? process.env;
  let target = new URL(url);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const proxy = proxyFor(target, env);
    if (!proxy && !options.tls)
      return fetch(target, { headers: options.headers, signal: options.signal, redirect: 'follow' });
    const res = proxy
      ? await viaProxy(proxy, target, options)
      : await waitFor(
          (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
            headers: options.headers,
            ...(target.protocol === 'https:' ? options.tls : {}),
          }),
          options.signal,
        );
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      res.resume();
      target = new URL(location, target);
      continue;
    }
    const body =
      status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
    return new Response(body, {
      status,
      statusText: res.statusMessage ?? '',
      headers: toHeaders(res.headers),
    });
  }
  throw new Error(`${url} redirects more than ${MAX_REDIRECTS} times`);
}
