// The browser-mode server's whole surface against the real backend: loopback only (not reachable on
// this machine's other addresses), the token on every WebSocket upgrade (the pages need none, and no
// cookie carries it), Host, Origin
// and Sec-Fetch-Site checks, file paths confined to the folders the user chose (../, absolute paths,
// links out of a dataset, URL-encoded and NUL variants), every API method refusing malformed arguments
// without crashing or polluting prototypes, and no method or import that runs code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import WebSocket from 'ws';
import { API_METHODS, takesNoArguments } from '../../main/api/index.js';
import { METHOD_PATTERN } from '../../main/electron/ipc-channels.js';
import { serveBrowserMode, type BrowserMode } from '../../main/server/index.js';
import { tempShapesDataset, writeStubSite } from '../helpers/shapes-folder.js';

let dir = '';
let dataset = '';
let secret = '';
let app: BrowserMode;
let datasetId = '';

before(async () => {
  ({ dir, dataset } = await tempShapesDataset('attnvgg-surface-', {
    classes: 2,
    size: 32,
    counts: { train: 3, val: 1, test: 0 },
    seed: 1,
  }));
  // A valid picture outside every chosen folder: if any path check let it through, a thumbnail appears.
  await mkdir(join(dir, 'private'));
  secret = join(dir, 'private', 'secret.png');
  await sharp({ create: { width: 20, height: 20, channels: 3, background: '#ff00ff' } })
    .png()
    .toFile(secret);
  await symlink(secret, join(dataset, 'train', 'circle', 'link-out.png'));
  await symlink(join(dir, 'private'), join(dataset, 'train', 'circle', 'dir-out'));
  const site = await writeStubSite(dir, '<!doctype html><title>APP PAGE</title>');
  app = await serveBrowserMode({ workspaceDir: join(dir, 'workspace'), staticDir: site });
  const added = await call('datasets.add', { path: dataset });
  assert.equal(added.ok, true, JSON.stringify(added));
  datasetId = (added as { result: { id: string } }).result.id;
});

after(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function http(
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: app.server.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function upgrade(query: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.server.port}/api${query}`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

let socket: WebSocket | undefined;
let nextId = 1;
const waiting = new Map<number, (reply: unknown) => void>();

async function openApi(): Promise<WebSocket> {
  if (socket && socket.readyState === WebSocket.OPEN) return socket;
  const ws = new WebSocket(`ws://127.0.0.1:${app.server.port}/api?token=${app.server.token}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id?: number; reply?: unknown };
    if (m.id !== undefined) waiting.get(m.id)?.(m.reply);
  });
  after(() => ws.close());
  socket = ws;
  return ws;
}

/** One raw API call over the WebSocket: method and payload go on the wire exactly as given. */
async function call(
  method: unknown,
  payload: unknown,
): Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }> {
  const ws = await openApi();
  const id = nextId++;
  const reply = new Promise<unknown>((resolve) => waiting.set(id, resolve));
  ws.send(JSON.stringify({ id, method, payload }));
  return (await reply) as { ok: boolean };
}

describe('the local surface of browser mode', () => {
  it('listens on 127.0.0.1 only: not reachable on any other address of this machine', async (t) => {
    const address = app.server.server.address();
    assert.equal(typeof address === 'object' && address?.address, '127.0.0.1');
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && a.family === 'IPv4')
      .map((a) => a?.address as string);
    if (others.length === 0)
      t.diagnostic('no non-loopback IPv4 address here: only the bound address is checked');
    for (const host of [...others, '::1'].filter(Boolean)) {
      const reached = await new Promise<boolean>((resolve) => {
        const s = connect({ host, port: app.server.port, timeout: 2000 });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
        s.once('timeout', () => {
          s.destroy();
          resolve(false);
        });
      });
      assert.equal(reached, false, `reachable on ${host}`);
    }
  });

  it('over HTTP only the pages are served, with no token and no cookie; the API is not', async () => {
    for (const path of ['/', '/index.html', '/api', '/assets/x.js', '/nope', `/?token=${app.server.token}`])
      for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
        const res = await http(path, { method });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.doesNotMatch(res.body, /APP PAGE/);
      }
    for (const path of ['/', `/?token=${app.server.token}`]) {
      const page = await http(path);
      assert.equal(page.status, 200, path);
      assert.match(page.body, /APP PAGE/);
      assert.equal(page.headers['set-cookie'], undefined, `${path} sets no cookie`);
    }
    assert.equal((await http('/api')).status, 426);
    assert.equal((await http('/nope')).status, 404);
  });

  it('Host, Origin and Sec-Fetch-Site: other sites and DNS rebinding are refused, with the token too', async () => {
    const t = `/?token=${app.server.token}`;
    const port = app.server.port;
    const refused: Record<string, string>[] = [
      { host: `evil.example:${port}` },
      { host: `127.0.0.1.nip.io:${port}` },
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: `http://127.0.0.1:${port + 1}` },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' }, // another port of 127.0.0.1 embedding our files
    ];
    for (const headers of refused)
      assert.equal((await http(t, { headers })).status, 403, JSON.stringify(headers));
    for (const site of ['same-origin', 'none'])
      assert.equal((await http(t, { headers: { 'sec-fetch-site': site } })).status, 200, site);
  });

  it('every WebSocket upgrade needs the token, our Host and our Origin', async () => {
    const port = app.server.port;
    const token = app.server.token;
    assert.equal(await upgrade(''), 401);
    assert.equal(await upgrade('?token='), 401);
    assert.equal(await upgrade(`?token=${token.toUpperCase()}`), 401);
    assert.equal(await upgrade(`?token=${token}`, { host: `evil.example:${port}` }), 403);
    assert.equal(await upgrade(`?token=${token}`, { origin: 'null' }), 403);
    assert.equal(await upgrade(`?token=${token}`, { origin: `http://localhost:${port + 1}` }), 403);
    // The cookie that once carried the token (and reached every port of 127.0.0.1) is no token now.
    assert.equal(await upgrade('', { cookie: `attnvgg_token_${port}=${token}` }), 401);
    assert.equal(await upgrade(`?token=${token}`, { origin: `http://localhost:${port}` }), 101);
  });

  it('file paths are confined to the chosen folders: traversal, absolute, links, encodings, NUL', async () => {
    const inside = join(dataset, 'train', 'circle');
    const good = (await readdir(inside)).find((n) => n.endsWith('.png') && !n.startsWith('link'));
    const attempts = [
      secret,
      `${dataset}/../private/secret.png`,
      `${inside}/../../../private/secret.png`,
      join(inside, 'link-out.png'),
      join(inside, 'dir-out', 'secret.png'),
      `${dataset}/%2e%2e/private/secret.png`,
      `${dataset}/..%2fprivate%2fsecret.png`,
      `${dataset}\\..\\private\\secret.png`,
      `${join(inside, good as string)}\0/../../../private/secret.png`,
      '/etc/passwd',
      'secret.png',
      '../private/secret.png',
    ];
    for (const path of attempts) {
      for (const payload of [{ paths: [path] }, { paths: [path], datasetId }]) {
        const reply = await call('datasets.thumbnails', payload);
        const thumbs = (reply.result ?? []) as { dataUrl: string | null; error?: string }[];
        assert.ok(
          thumbs.every((x) => x.dataUrl === null),
          `thumbnail of ${JSON.stringify(payload)}`,
        );
      }
      for (const payload of [{ path }, { path, datasetId }]) {
        const reveal = await call('files.reveal', payload);
        assert.ok(!reveal.ok || (reveal.result as { preview: unknown }).preview === null, `reveal ${path}`);
        if (!reveal.ok) assert.match(reveal.error?.code ?? '', /refused|bad-request|not-found/);
      }
    }
    // The control: a file inside the dataset is served, by absolute and by dataset-relative path.
    const ok = await call('datasets.thumbnails', { paths: [`train/circle/${good}`], datasetId });
    assert.ok((ok.result as { dataUrl: string | null }[])[0].dataUrl?.startsWith('data:image/png'));
  });

  it('every API method refuses every malformed argument with bad-request, and the server keeps answering', async () => {
    const hostile: unknown[] = [
      undefined, // no payload on the wire at all
      null,
      'x',
      42,
      [],
      { path: { toString: 'x' } },
      { path: ['a'] },
      { id: 5 },
      { runId: '../../etc' },
      { runId: 'a/../../b' },
      { jobId: '..' },
      { paths: new Array(1000).fill('a') },
      JSON.parse('{"__proto__": {"polluted": true}, "path": 1}'),
      { constructor: { prototype: { polluted: true } } },
      { size: 1e9, paths: [] },
    ];
    for (const method of API_METHODS) {
      for (const payload of hostile) {
        // No payload at all stands for "no arguments", which is right for the methods that take none.
        if ((payload === null || payload === undefined) && takesNoArguments(method)) continue;
        const what = `${method} ${JSON.stringify(payload)}`;
        const reply = await call(method, payload);
        assert.equal(reply.ok, false, `${what} was accepted`);
        assert.equal(reply.error?.code, 'bad-request', `${what}: ${reply.error?.message}`);
        assert.match(
          reply.error?.message ?? '',
          new RegExp(`^The request to ${method.replace('.', '\\.')} is not valid: .+`),
        );
      }
      // A method that takes no arguments: nothing, null or {} is fine; any key is not.
      if (takesNoArguments(method)) {
        assert.equal((await call(method, null)).error?.code === 'bad-request', false, `${method} null`);
        assert.equal((await call(method, { id: 5 })).error?.code, 'bad-request', `${method} {id: 5}`);
      }
    }
    for (const method of [
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'app.info.x',
      '',
      7,
      null,
    ])
      assert.equal((await call(method, {})).error?.code, 'bad-request', String(method));
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
    assert.equal((await call('app.info', {})).ok, true, 'still answering');
  });

  it('IPC method names: the preload pattern lets through only area.action names of the contract', () => {
    for (const name of [
      '__proto__',
      'constructor',
      'a.b.c',
      'app.info;',
      'app.__proto__',
      ' app.info',
      'app.info\n',
    ])
      assert.ok(!METHOD_PATTERN.test(name) || !API_METHODS.includes(name as never), name);
    for (const name of API_METHODS) assert.ok(METHOD_PATTERN.test(name), name);
  });

  it('no method name and no module of the server or the API runs code, spawns processes or evaluates text', async () => {
    for (const name of API_METHODS)
      assert.doesNotMatch(
        name.split('.')[1],
        /^(exec|eval|shell|spawn|command|script|code|system|require|import|load)/i,
      );
    const roots = ['../../main/server', '../../main/api'].map((p) =>
      fileURLToPath(new URL(p, import.meta.url)),
    );
    const files: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true }))
        if (e.isDirectory()) await walk(join(d, e.name));
        else if (e.name.endsWith('.ts')) files.push(join(d, e.name));
    };
    for (const r of roots) await walk(r);
    assert.ok(files.length > 10);
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      assert.doesNotMatch(text, /node:child_process|from 'child_process'|node:vm|\beval\(|new Function\(/, f);
    }
  });
});
