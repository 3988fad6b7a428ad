// The browser-mode server's load limits (load-limits.ts): calls in flight per WebSocket, open
// connections, the time to send headers (slow-loris) and the idle time of a WebSocket that answers no
// ping. The defaults are used except for the idle time (seconds instead of minutes).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, afterEach, before, test } from 'node:test';
import WebSocket from 'ws';
import type { ApiEventListener, ApiReply } from '../../../main/api/index.js';
import type { ApiBackend } from '../../../main/backend/index.js';
import { LOAD_LIMITS, startServer, type RunningServer } from '../../../main/server/index.js';
import { writeStubSite } from '../../helpers/shapes-folder.js';
import { until } from '../../helpers/until.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

/** A backend whose calls all wait for `open()`; it counts how many run at once. */
function gatedBackend() {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (release = resolve));
  const state = { running: 0, most: 0, started: 0 };
  const backend = {
    async call(): Promise<ApiReply> {
      state.started += 1;
      state.running += 1;
      state.most = Math.max(state.most, state.running);
      await gate;
      state.running -= 1;
      return { ok: true, result: [] };
    },
    subscribe: (_listener: ApiEventListener) => () => undefined,
    async close() {},
  };
  return {
    backend: backend as unknown as ApiBackend,
    state,
    open: () => release(),
    shut: () => (gate = new Promise<void>((resolve) => (release = resolve))),
  };
}

const IDLE_MS = 1000;
let dir = '';
let server: RunningServer;
const gated = gatedBackend();

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-limits-'));
  const site = await writeStubSite(dir, '<!doctype html><title>app</title>');
  server = await startServer({ backend: gated.backend, staticDir: site, limits: { idleTimeoutMs: IDLE_MS } });
});

after(async () => {
  gated.open();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function openApi(options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function rawSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Waits until the server has seen every earlier connection close (the limit counts them till then). */
afterEach(async () => {
  for (let i = 0; i < 200; i++) {
    const open = await new Promise<number>((resolve, reject) =>
      server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
    if (open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('connections of an earlier test are still open');
});

const closed = (socket: Socket): Promise<void> =>
  new Promise((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));

test('the documented defaults', () => {
  assert.deepEqual(
    { ...LOAD_LIMITS },
    {
      callsInFlightPerConnection: 64,
      pausedAboveBufferedBytes: 8 * 1024 * 1024,
      closeAboveBufferedBytes: 64 * 1024 * 1024,
      connections: 32,
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 120_000,
    },
  );
});

test(`at most ${LOAD_LIMITS.callsInFlightPerConnection} calls run at once per connection; the rest wait and are answered`, async () => {
  gated.shut();
  const ws = await openApi();
  const replies = new Set<number>();
  ws.on('message', (data) => replies.add((JSON.parse(String(data)) as { id: number }).id));
  for (let id = 1; id <= 300; id++) ws.send(JSON.stringify({ id, method: 'datasets.list', payload: {} }));
  await until(
    'the first calls to start',
    () => gated.state.running === LOAD_LIMITS.callsInFlightPerConnection,
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(gated.state.most, LOAD_LIMITS.callsInFlightPerConnection);
  assert.equal(gated.state.started, LOAD_LIMITS.callsInFlightPerConnection, 'no further call started');
  gated.open();
  await until('every reply', () => replies.size === 300);
  assert.equal(gated.state.most, LOAD_LIMITS.callsInFlightPerConnection);
  ws.close();
});

test(`at most ${LOAD_LIMITS.connections} connections; one more is closed at once`, async () => {
  const held = await Promise.all(Array.from({ length: LOAD_LIMITS.connections }, () => rawSocket()));
  const extra = await rawSocket();
  const started = Date.now();
  await Promise.race([closed(extra), new Promise((resolve) => setTimeout(resolve, 3000))]);
  assert.ok(extra.closed && Date.now() - started < 2000, 'the extra connection was closed at once');
  for (const socket of held) assert.equal(socket.closed, false);
  // With one gone, a new client is served.
  held.pop()?.destroy();
  let ws: WebSocket | undefined;
  for (let i = 0; i < 100 && !ws; i++)
    ws = await openApi().catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return undefined;
    });
  assert.ok(ws, 'a client was served once a connection had closed');
  ws.close();
  for (const socket of held) socket.destroy();
});

test('slow-loris: a connection that never finishes its headers is closed after the header timeout', async () => {
  const socket = await rawSocket();
  let answer = '';
  socket.on('data', (chunk) => (answer += String(chunk)));
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
  // A header line every 300 ms (more often than the idle time): traffic, but never the end of the headers.
  const trickle = setInterval(() => socket.writable && socket.write(`x-slow: ${Date.now()}\r\n`), 300);
  const started = Date.now();
  await Promise.race([closed(socket), new Promise((resolve) => setTimeout(resolve, 15_000))]);
  clearInterval(trickle);
  const elapsed = Date.now() - started;
  assert.ok(socket.closed, 'still open after 15 s');
  assert.ok(
    elapsed > LOAD_LIMITS.headersTimeoutMs - 1000 && elapsed < LOAD_LIMITS.headersTimeoutMs + 3000,
    `closed after ${elapsed} ms`,
  );
  assert.match(answer, /^HTTP\/1\.1 408/);
  socket.destroy();
});

test('a WebSocket that answers no ping is closed after the idle time; one that answers stays', async () => {
  const silent = await openApi({ autoPong: false });
  const answering = await openApi();
  const started = Date.now();
  await new Promise<void>((resolve) => silent.once('close', () => resolve()));
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= IDLE_MS * 0.9 && elapsed < IDLE_MS * 3, `closed after ${elapsed} ms`);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  assert.equal(answering.readyState, WebSocket.OPEN);
  answering.close();
});
