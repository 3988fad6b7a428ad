// The backbone download against a local HTTP server on 127.0.0.1: a normal download with progress, a
// connection dropped mid-body and resumed with Range (within one call and by a later call), a server
// without Range support, a bad checksum (nothing kept, a clear error), the cache, and the offline path.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackboneDownloadError,
  backboneCacheDir,
  downloadBackbone,
  usePickedBackbone,
  type DownloadProgress,
} from '../../../../main/services/backbone/download.js';

const body = randomBytes(3 * 1024 * 1024 + 17);
const sha = createHash('sha256').update(body).digest('hex');

interface Behaviour {
  /** Drop the connection after this many body bytes on the first N requests. */
  dropAfter?: number;
  dropTimes?: number;
  ignoreRange?: boolean;
}
let behaviour: Behaviour = {};
let requests: { range?: string }[] = [];
let server: Server;
let base = '';

function handle(req: IncomingMessage, res: ServerResponse): void {
  requests.push({ range: req.headers.range });
  const drop = behaviour.dropAfter !== undefined && (behaviour.dropTimes ?? 1) >= requests.length;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m && !behaviour.ignoreRange ? Number(m[1]) : 0;
  if (start >= body.length) {
    res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
    return;
  }
  const slice = body.subarray(start);
  res.writeHead(m && !behaviour.ignoreRange ? 206 : 200, {
    'Content-Length': String(slice.length),
    'Content-Type': 'application/octet-stream',
    ...(m && !behaviour.ignoreRange
      ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` }
      : {}),
  });
  if (drop) {
    res.write(slice.subarray(0, behaviour.dropAfter), () => res.socket?.destroy());
    return;
  }
  res.end(slice);
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

function setup(b: Behaviour) {
  behaviour = b;
  requests = [];
  return mkdtempSync(join(tmpdir(), 'attnvgg-download-'));
}

test('a normal download reports progress, checks the hash and lands in the cache', async () => {
  const workspace = setup({});
  try {
    const events: DownloadProgress[] = [];
    const got = await downloadBackbone(
      { url: `${base}/vgg16_bn.onnx`, sha256: sha.toUpperCase() },
      { workspace, onProgress: (p) => events.push(p) },
    );
    assert.equal(got.path, join(backboneCacheDir(workspace), `${sha}.onnx`));
    assert.equal(got.cached, false);
    assert.equal(got.verified, true);
    assert.ok(readFileSync(got.path).equals(body));
    assert.deepEqual(readdirSync(backboneCacheDir(workspace)), [`${sha}.onnx`], 'no part file left');
    const last = events.filter((e) => e.phase === 'download').at(-1)!;
    assert.equal(last.received, body.length);
    assert.equal(last.total, body.length);
    assert.equal(events.at(-1)!.phase, 'verify');
    for (let i = 1; i < events.length; i++) assert.ok(events[i].received >= events[i - 1].received);
    const again = await downloadBackbone({ url: `${base}/vgg16_bn.onnx`, sha256: sha }, { workspace });
    assert.equal(again.cached, true);
    assert.equal(requests.length, 1, 'the cached file is not fetched again');
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('a connection dropped mid-body is resumed with Range', async () => {
  const workspace = setup({ dropAfter: 1024 * 1024 });
  try {
    const got = await downloadBackbone(
      { url: `${base}/vgg16_bn.onnx`, sha256: sha },
      { workspace, retryDelayMs: 10 },
    );
    assert.ok(readFileSync(got.path).equals(body));
    assert.equal(got.resumed, 1);
    assert.equal(requests.length, 2);
    assert.equal(requests[0].range, undefined);
    assert.match(requests[1].range ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(requests[1].range!)![0]) >= 1024 * 1024 - 65536, requests[1].range);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('without retries the part file is kept and a later call resumes it', async () => {
  const workspace = setup({ dropAfter: 512 * 1024 });
  try {
    await assert.rejects(
      downloadBackbone({ url: `${base}/vgg16_bn.onnx`, sha256: sha }, { workspace, retries: 0 }),
      (e: Error) => e instanceof BackboneDownloadError && /run the download again to resume/.test(e.message),
    );
    const parts = readdirSync(backboneCacheDir(workspace));
    assert.deepEqual(parts, [`${sha}.onnx.part`]);
    behaviour = {};
    const got = await downloadBackbone({ url: `${base}/vgg16_bn.onnx`, sha256: sha }, { workspace });
    assert.ok(readFileSync(got.path).equals(body));
    assert.equal(got.resumed, 1);
    assert.match(requests.at(-1)!.range ?? '', /^bytes=[1-9]\d*-$/);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('a server without Range support sends the whole file again, and it still verifies', async () => {
  const workspace = setup({ dropAfter: 700_000, ignoreRange: true });
  try {
    const got = await downloadBackbone(
      { url: `${base}/vgg16_bn.onnx`, sha256: sha },
      { workspace, retryDelayMs: 10 },
    );
    assert.ok(readFileSync(got.path).equals(body));
    assert.equal(got.resumed, 0);
    assert.equal(requests.length, 2);
    assert.ok(requests[1].range, 'a resume was asked for');
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('a bad checksum keeps nothing and says what was expected and found', async () => {
  const workspace = setup({});
  const wrong = 'ab'.repeat(32);
  try {
    await assert.rejects(
      downloadBackbone({ url: `${base}/vgg16_bn.onnx`, sha256: wrong }, { workspace }),
      (e: Error) => {
        assert.ok(e instanceof BackboneDownloadError);
        assert.ok(e.message.includes(sha) && e.message.includes(wrong), e.message);
        assert.match(e.message, /it was not kept/);
        return true;
      },
    );
    assert.deepEqual(readdirSync(backboneCacheDir(workspace)), []);
    await assert.rejects(
      downloadBackbone({ url: `${base}/x`, sha256: 'abc' }, { workspace }),
      /is not a SHA-256 checksum/,
    );
    await assert.rejects(
      downloadBackbone({ url: 'ftp://host/x', sha256: sha }, { workspace }),
      /Should be one of: http:, https:/,
    );
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('a file the user picked is used where it is, with its checksum checked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'attnvgg-picked-'));
  try {
    const file = join(dir, 'vgg16_bn.onnx');
    writeFileSync(file, body);
    const picked = await usePickedBackbone(file, sha);
    assert.deepEqual(picked, { path: file, sha256: sha, bytes: body.length, verified: true });
    await assert.rejects(usePickedBackbone(file, 'cd'.repeat(32)), BackboneDownloadError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
