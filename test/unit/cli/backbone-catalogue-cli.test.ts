// The catalogue on the command line: `attnvgg backbone list` shows every entry with its size and whether
// it is downloaded; `backbone download <id>` fetches it (here from a loopback server standing in for the
// publisher, the checksum overridden as only tests may) with progress and speed, and says so when it is
// already there; `backbone add <file>` lists a file fetched elsewhere; offline, the message names the
// file and the command to add it; and `train --backbone <id>` downloads the entry first, then trains
// from it with the entry's preprocessing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../../main/cli/command.js';
import { overrideCatalogueEntryForTests } from '../../../main/services/backbone/catalogue-download.js';
import { backboneFileBytes } from '../../helpers/backbone-file.js';
import { cli } from '../../helpers/cli.js';
import { tarGzBytes } from '../../fixtures/make-hostile-checkpoints.js';
import { makeTinyShapes } from '../../integration/training/tiny-run.js';

const ID = 'onnx-model-zoo-vgg16bn-7';
const archive = tarGzBytes([{ name: 'vgg16-bn/vgg16-bn.onnx', data: backboneFileBytes(4) }]);
const sha = createHash('sha256').update(archive).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'attnvgg-catalogue-cli-'));
let server: Server;
let requests = 0;
let undo: () => void = () => undefined;

before(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'Content-Length': String(archive.length) }).end(archive);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vgg16-bn-7.tar.gz`;
  undo = overrideCatalogueEntryForTests(ID, {
    url,
    checksum: { kind: 'sha256', value: sha },
    bytes: archive.length,
  });
});
after(() => {
  undo();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('backbone list, download <id>, and download again', async () => {
  const ws = join(dir, 'ws1');
  const before = await cli('backbone', 'list', '--workspace', ws);
  assert.equal(before.code, EXIT.ok, before.err);
  assert.match(before.out, /torchvision-vgg16bn\s+528 MB\s+not downloaded yet/);
  assert.match(
    before.out,
    /https:\/\/download\.pytorch\.org\/models\/vgg16_bn-6c64b313\.pth \(SHA-256 prefix 6c64b313 only\)/,
  );
  assert.match(before.out, /onnx-model-zoo-vgg16bn-7\s+490 MB\s+not downloaded yet/);
  assert.match(before.out, /timm-vgg16bn-tv-in1k/);

  const got = await cli('backbone', 'download', ID, '--workspace', ws);
  assert.equal(got.code, EXIT.ok, got.err);
  assert.match(got.out, new RegExp(`^Downloaded: ${ID} -> .*${sha}\\.tar\\.gz`));
  assert.match(got.err, /of 0\.\d MiB \(100 %\)|bytes/);
  const again = await cli('backbone', 'download', ID, '--workspace', ws, '--json');
  assert.equal(again.code, EXIT.ok, again.err);
  assert.equal(JSON.parse(again.out.trim().split('\n').at(-1)!).downloaded, false);
  assert.equal(requests, 1);

  const after = await cli('backbone', 'list', '--workspace', ws, '--json');
  const listed = JSON.parse(after.out) as { catalogue: { id: string; downloaded: unknown }[] };
  assert.ok(listed.catalogue.find((e) => e.id === ID)?.downloaded);
  assert.equal(listed.catalogue.find((e) => e.id === 'torchvision-vgg16bn')?.downloaded, null);

  const unknown = await cli('backbone', 'download', 'vgg19', '--workspace', ws);
  assert.equal(unknown.code, EXIT.usage);
  assert.match(
    unknown.err,
    /Should be one of: torchvision-vgg16bn, onnx-model-zoo-vgg16bn-7, timm-vgg16bn-tv-in1k/,
  );
});

test('backbone add lists a file fetched elsewhere; offline the download says what to fetch', async () => {
  const ws = join(dir, 'ws2');
  const file = join(dir, 'vgg16-bn-7.tar.gz');
  writeFileSync(file, archive);
  const added = await cli('backbone', 'add', file, '--workspace', ws);
  assert.equal(added.code, EXIT.ok, added.err);
  assert.match(added.out, /Added vgg16-bn-7\.tar\.gz .*width 1, BatchNorm folded/);

  const undoOffline = overrideCatalogueEntryForTests('timm-vgg16bn-tv-in1k', {
    url: 'http://127.0.0.1:1/model.safetensors',
  });
  try {
    const offline = await cli('backbone', 'download', 'timm-vgg16bn-tv-in1k', '--workspace', ws);
    assert.equal(offline.code, EXIT.badInput);
    assert.match(offline.err, /Fetch model\.safetensors \(554 MB\) on a machine that can reach/);
    assert.match(offline.err, /attnvgg backbone add model\.safetensors/);
  } finally {
    undoOffline();
  }
});

test('a download in another form than the entry is published in is refused and not listed', async () => {
  const ws = join(dir, 'ws4');
  // The safetensors entry pointed at the server's .tar.gz, with that file's own checksum: the bytes are
  // exactly what was asked for, yet not the form the entry is published in.
  const undoForm = overrideCatalogueEntryForTests('timm-vgg16bn-tv-in1k', {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.safetensors`,
    checksum: { kind: 'sha256', value: sha },
    bytes: archive.length,
  });
  try {
    const r = await cli('backbone', 'download', 'timm-vgg16bn-tv-in1k', '--workspace', ws);
    assert.equal(r.code, EXIT.badInput, r.out);
    assert.match(
      r.err,
      /cannot be used: it is a .*tar\.gz.*, but timm-vgg16bn-tv-in1k is published as a safetensors/i,
    );
    const listed = await cli('backbone', 'list', '--workspace', ws);
    assert.match(listed.out, /timm-vgg16bn-tv-in1k.*not downloaded yet/);
  } finally {
    undoForm();
  }
});

test('train --backbone <id> downloads the entry, then trains from it', async () => {
  const ws = join(dir, 'ws3');
  const dataset = await makeTinyShapes(join(dir, 'data'));
  const runDir = join(dir, 'run');
  const r = await cli(
    'train',
    dataset,
    '--backbone',
    ID,
    '--workspace',
    ws,
    '--preset',
    'quick',
    '--size',
    '32',
    '--epochs',
    '1',
    '--batch',
    '8',
    '--out',
    runDir,
  );
  assert.equal(r.code, EXIT.ok, r.err);
  assert.match(r.err, new RegExp(`Downloaded ${ID}: .*${sha}\\.tar\\.gz`));
  const record = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  assert.equal(record.status, 'completed');
  assert.match(record.config.backbone, new RegExp(`${sha}\\.tar\\.gz$`));
  assert.equal(record.backbone.sha256, sha);
  assert.deepEqual(record.config.mean, [0.485, 0.456, 0.406]);
  assert.deepEqual(record.config.std, [0.229, 0.224, 0.225]);
});
