// The browser-mode server's defences: the per-start token on the API's WebSocket (never in a cookie), the
// Origin and Host checks on every request, the Content-Security-Policy header, static files that cannot
// leave their folder, and loopback only.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../../main/server/index.js';
import { stubBackend, type StubBackend } from './stub-backend.js';

let dir: string;
let server: RunningServer;
let backend: StubBackend;

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-server-'));
  const site = join(dir, 'site');
  await mkdir(join(site, 'assets'), { recursive: true });
  await writeFile(join(site, 'index.html'), '<!doctype html><title>app</title>');
  await writeFile(join(site, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'secret.txt'), 'SECRET');
  await symlink(join(dir, 'secret.txt'), join(site, 'assets', 'link.txt'));
  backend = stubBackend();
  server = await startServer({ backend, staticDir: site });
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw GET (so paths are sent exactly as written, without URL normalisation). */
function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const withToken = (path: string): string => `${path}${path.includes('?') ? '&' : '?'}token=${server.token}`;

test('listens on 127.0.0.1 only, and refuses any other interface', async () => {
  const address = server.server.address();
  assert.ok(address && typeof address === 'object');
  assert.equal(address.address, '127.0.0.1');
  assert.match(server.openUrl, /^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{20,}$/);
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'localhost.evil.com'])
    await assert.rejects(startServer({ backend, staticDir: dir, host }), /only on 127\.0\.0\.1/);
});

test("the pages need no token and set no cookie; their CSP header allows only this server's WebSocket", async () => {
  for (const path of ['/', withToken('/'), '/assets/app.js']) {
    const page = await get(path);
    assert.equal(page.status, 200, path);
    assert.equal(page.headers['set-cookie'], undefined, `${path} sets no cookie`);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.match(
      csp,
      new RegExp(`connect-src ws://127\\.0\\.0\\.1:${server.port} ws://localhost:${server.port}$`),
    );
    assert.doesNotMatch(csp, /:\*/, 'no wildcard port');
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
  }
  assert.match((await get('/')).body, /<title>app<\/title>/);
  // Each start makes a new token.
  const other = await startServer({ backend, staticDir: dir });
  assert.notEqual(other.token, server.token);
  await other.close();
});

test('a request from another web page (Origin) or another host name (DNS rebinding) is refused', async () => {
  const origin = (value: string) => get(withToken('/'), { origin: value });
  assert.equal((await origin('http://evil.example')).status, 403);
  assert.equal((await origin('http://127.0.0.1:1')).status, 403);
  assert.equal((await origin('null')).status, 403);
  assert.equal((await origin(`http://127.0.0.1:${server.port}`)).status, 200);
  assert.equal((await origin(`http://localhost:${server.port}`)).status, 200);
  assert.equal((await get(withToken('/'), { host: `evil.example:${server.port}` })).status, 403);
});

test('static paths cannot leave the renderer folder', async () => {
  const attempts = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/%5c..%5csecret.txt',
    '//etc/passwd',
    '/%2fetc%2fpasswd',
    '/assets/link.txt', // a link inside the folder that points outside it
    '/index.html%00.js',
    '/%',
    '/assets',
  ];
  for (const path of attempts) {
    const res = await get(path);
    assert.ok([400, 404].includes(res.status), `${path} answered ${res.status}`);
    assert.doesNotMatch(res.body, /SECRET|root:/, path);
  }
  assert.equal((await get('/assets/app.js')).status, 200);
});

function openSocket(query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

test('the WebSocket needs the token and our origin; the old cookie is no token', async () => {
  await assert.rejects(openSocket(''), /HTTP 401/);
  await assert.rejects(openSocket('?token=nope'), /HTTP 401/);
  await assert.rejects(
    openSocket('', { cookie: `attnvgg_token_${server.port}=${server.token}` }),
    /HTTP 401/,
  );
  await assert.rejects(openSocket(`?token=${server.token}`, { origin: 'http://evil.example' }), /HTTP 403/);
  const ws = await openSocket(`?token=${server.token}`, { origin: `http://127.0.0.1:${server.port}` });
  ws.close();
  const byHeader = await openSocket('', { 'x-attnvgg-token': server.token });
  byHeader.close();
});

test('calls over the WebSocket get replies; events are pushed; bad messages get an error reply', async () => {
  const ws = await openSocket(`?token=${server.token}`);
  const messages: unknown[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  ws.send(JSON.stringify({ id: 7, method: 'datasets.list', payload: {} }));
  ws.send('not json');
  ws.send(JSON.stringify({ id: 8, method: 'nope' }));
  const waitFor = async (n: number) => {
    for (let i = 0; i < 100 && messages.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  };
  await waitFor(3);
  backend.push({ type: 'scan-progress', path: '/x', seen: 1, probed: 0, problems: 0, walkDone: false });
  await waitFor(4);
  ws.close();
  assert.deepEqual(
    messages.find((m) => (m as { id?: number }).id === 7),
    { id: 7, reply: { ok: true, result: [] } },
  );
  assert.ok(messages.some((m) => (m as { id?: number }).id === -1));
  assert.ok(messages.some((m) => (m as { id?: number; reply?: { ok: boolean } }).id === 8));
  assert.ok(messages.some((m) => (m as { event?: { type: string } }).event?.type === 'scan-progress'));
});

test('the API is not served over plain HTTP, and only GET is', async () => {
  assert.equal((await get('/api')).status, 426);
  const post = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/', method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(post, 405);
});
