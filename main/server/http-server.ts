// The browser-mode server: HTTP for the built renderer and a WebSocket at /api for the API, on the
// loopback interface only. Every request passes the Host/Origin checks; the API's upgrade also needs the
// random token of this start (access-check.ts), which the printed address carries in its fragment. The
// pages get their Content-Security-Policy as a header (content-security-policy.ts), and the load one
// client may cause is bounded (load-limits.ts). Must not import electron or renderer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ApiBackend } from '../backend/api-backend.js';
import { checkApiAccess, checkSameSite, newToken } from './access-check.js';
import { browserModeContentSecurityPolicy } from './content-security-policy.js';
import { LOAD_LIMITS, type LoadLimits } from './load-limits.js';
import { resolveStaticPath, sendFile } from './static-files.js';
import { MAX_MESSAGE_BYTES, serveApiOverSocket } from './websocket-api.js';

export const LOOPBACK_HOSTS = ['127.0.0.1'] as const;

export interface ServerOptions {
  backend: ApiBackend;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Only 127.0.0.1 is accepted: the server is never reachable from another machine. */
  host?: string;
  /** A fixed token (tests); by default a new random one. */
  token?: string;
  /** Smaller load limits (tests); by default LOAD_LIMITS. */
  limits?: Partial<LoadLimits>;
}

export interface RunningServer {
  url: string;
  /** The address to open: the token is in its fragment (#token=…), which is never sent over HTTP. */
  openUrl: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

export class ServerStartError extends Error {
  override name = 'ServerStartError';
}

function securityHeaders(port: number): Record<string, string> {
  return {
    'content-security-policy': browserModeContentSecurityPolicy(port),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}

function refuse(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`${text}\n`);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const title = status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Forbidden';
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${reason}\n`,
  );
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!(LOOPBACK_HOSTS as readonly string[]).includes(host))
    throw new ServerStartError(
      `The server listens only on 127.0.0.1 (asked for ${host}): it must not be reachable from other machines.`,
    );
  const token = options.token ?? newToken();
  const limits: LoadLimits = { ...LOAD_LIMITS, ...options.limits };
  let port = 0;
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  // The pages and assets are not secret: they need no token (so none travels with them), only our Host
  // and, from a browser, our own page or the address bar.
  const onRequest = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const verdict = checkSameSite(request, port);
    if (!verdict.ok) return refuse(response, verdict.status, verdict.reason);
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return refuse(response, 405, 'Only GET is served here.');
    if (url.pathname === '/api') return refuse(response, 426, 'The API is a WebSocket at /api.');
    const file = await resolveStaticPath(options.staticDir, url.pathname);
    if (!file) return refuse(response, 404, 'Not found.');
    await sendFile(response, file, securityHeaders(port));
  };

  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      // A GET has no body: the whole request takes no longer than its headers may.
      requestTimeout: limits.headersTimeoutMs,
      // How often Node looks for connections past those timeouts (its default, 30 s, would add up to 30 s).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (request, response) => {
      onRequest(request, response).catch(() => refuse(response, 500, 'The server could not answer.'));
    },
  );
  server.maxConnections = limits.connections;
  // An HTTP connection silent this long is closed (a WebSocket has its own ping-based check instead).
  server.timeout = limits.idleTimeoutMs;
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api') return refuseUpgrade(socket, 404, 'The API is at /api.');
    const verdict = checkApiAccess(request, url, token, port);
    if (!verdict.ok) return refuseUpgrade(socket, verdict.status, verdict.reason);
    sockets.handleUpgrade(request, socket, head, (ws) => serveApiOverSocket(ws, options.backend, limits));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ServerStartError(
          error.code === 'EADDRINUSE'
            ? `Port ${options.port} is in use: choose another with --port, or 0 for any free port.`
            : `Cannot start the server: ${error.message}`,
        ),
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    openUrl: `${url}#token=${token}`,
    port,
    token,
    server,
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
