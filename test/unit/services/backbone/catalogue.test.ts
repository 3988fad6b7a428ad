// The built-in catalogue: every real entry is well-formed (an https address whose file name is the
// entry's, a full SHA-256 or torch.hub's prefix taken from the file name, a licence, a form, a published
// top-1 and the ImageNet preprocessing), the hosts are exported, and overrides work only under node
// --test. Then one click's worth of service, from a loopback server standing in for the publisher: the
// entry is downloaded, checked by its full hash or its prefix and size, listed under its id, not fetched
// again, and a wrong hash or no network gives a message that names the file to fetch and how to add it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createRandom } from '../../../../models/core/random.js';
import { initWeights } from '../../../../models/core/weights.js';
import { BackboneLibrary } from '../../../../main/services/backbone/backbone-library.js';
import {
  BACKBONE_CATALOGUE,
  CATALOGUE_HOSTS,
  formExtension,
} from '../../../../main/services/backbone/catalogue.js';
import {
  effectiveCatalogueEntry,
  ensureCatalogueBackbone,
  overrideCatalogueEntryForTests,
} from '../../../../main/services/backbone/catalogue-download.js';
import { BackboneDownloadError } from '../../../../main/services/backbone/download.js';
import { checkBackbone } from '../../../../main/services/backbone/load-backbone.js';
import { modelZooVgg16BnBytes } from '../../../fixtures/model-zoo-vgg16bn.js';
import { tarGzBytes } from '../../../fixtures/make-hostile-checkpoints.js';

test('every catalogue entry is well-formed', () => {
  assert.ok(BACKBONE_CATALOGUE.length >= 3);
  assert.equal(new Set(BACKBONE_CATALOGUE.map((e) => e.id)).size, BACKBONE_CATALOGUE.length);
  for (const e of BACKBONE_CATALOGUE) {
    assert.match(e.id, /^[a-z0-9][a-z0-9-]+$/, e.id);
    const url = new URL(e.url);
    assert.equal(url.protocol, 'https:', e.id);
    assert.equal(basename(url.pathname), e.fileName, e.id);
    assert.ok(e.fileName.endsWith(formExtension(e.form)), `${e.id}: ${e.fileName} is not ${e.form}`);
    if (e.checksum.kind === 'sha256') assert.match(e.checksum.value, /^[0-9a-f]{64}$/, e.id);
    else {
      assert.match(e.checksum.value, /^[0-9a-f]{8,63}$/, e.id);
      // torch.hub's convention: the prefix is the part of the file name after the last '-'.
      assert.equal(/-([0-9a-f]+)\.pth$/.exec(e.fileName)?.[1], e.checksum.value, e.id);
    }
    if (e.bytes !== undefined) assert.ok(Number.isSafeInteger(e.bytes) && e.bytes > 100e6, e.id);
    assert.match(e.sizeLabel, /^\d+ MB$/, e.id);
    for (const text of [
      e.title,
      e.publisher,
      e.licence,
      e.checksumSource,
      e.top1Source,
      e.preprocessing.source,
    ])
      assert.ok(text.length > 3, e.id);
    assert.ok(e.top1 > 60 && e.top1 < 80, `${e.id}: top-1 ${e.top1}`);
    assert.equal(e.preprocessing.channels, 'RGB');
    assert.deepEqual(e.preprocessing.mean, [0.485, 0.456, 0.406], e.id);
    assert.deepEqual(e.preprocessing.std, [0.229, 0.224, 0.225], e.id);
    assert.equal(e.preprocessing.inputSize, 224, e.id);
  }
  const tv = BACKBONE_CATALOGUE.find((e) => e.id === 'torchvision-vgg16bn');
  assert.equal(tv?.url, 'https://download.pytorch.org/models/vgg16_bn-6c64b313.pth');
  const zoo = BACKBONE_CATALOGUE.find((e) => e.form === 'onnx-tar-gz');
  assert.equal(zoo?.bytes, 512_894_836);
  assert.deepEqual(zoo?.checksum, {
    kind: 'sha256',
    value: '143e59ca3000cc3b461cfe09d4c62a93bb5e9f7a0c4e5db0010e1a525fdd50bd',
  });
  assert.deepEqual([...CATALOGUE_HOSTS].sort(), ['download.pytorch.org', 'github.com', 'huggingface.co']);
});

test('catalogue entries can be overridden only under node --test', () => {
  const context = process.env.NODE_TEST_CONTEXT;
  assert.ok(context, 'this file runs under node --test');
  delete process.env.NODE_TEST_CONTEXT;
  try {
    assert.throws(
      () => overrideCatalogueEntryForTests('torchvision-vgg16bn', { url: 'http://127.0.0.1/x.pth' }),
      /only in tests/,
    );
  } finally {
    process.env.NODE_TEST_CONTEXT = context;
  }
  assert.equal(effectiveCatalogueEntry('torchvision-vgg16bn').url, BACKBONE_CATALOGUE[0].url);
  assert.throws(() => effectiveCatalogueEntry('vgg19'), /Should be one of: torchvision-vgg16bn, /);
});

const spec = { inputSize: 32, width: 0.0625 };
const weights = initWeights(
  { ...spec, numClasses: 2, attention: true, compatibility: 'pc', normalisation: 'softmax' },
  createRandom(5),
);
const archive = tarGzBytes([{ name: 'vgg16-bn/vgg16-bn.onnx', data: modelZooVgg16BnBytes(spec, weights) }]);
const sha = createHash('sha256').update(archive).digest('hex');
const root = mkdtempSync(join(tmpdir(), 'attnvgg-catalogue-'));
let server: Server;
let base = '';
let requests = 0;

before(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(200, { 'Content-Length': String(archive.length) }).end(archive);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

test('a catalogue entry downloads, is checked and listed under its id, and is not fetched twice', async () => {
  const id = 'onnx-model-zoo-vgg16bn-7';
  const workspace = join(root, 'ws1');
  const library = new BackboneLibrary(workspace);
  const undo = overrideCatalogueEntryForTests(id, {
    url: `${base}/onnx/vgg16-bn-7.tar.gz`,
    checksum: { kind: 'sha256', value: sha },
    bytes: archive.length,
  });
  try {
    const first = await ensureCatalogueBackbone(id, library, checkBackbone, { workspace });
    assert.equal(first.downloaded, true);
    assert.equal(first.entry.catalogueId, id);
    assert.equal(first.entry.sha256, sha);
    assert.match(first.entry.summary, /width 0\.0625, BatchNorm kept/);
    assert.deepEqual(readdirSync(library.folder).sort(), [`${sha}.tar.gz`, 'library.json']);
    const again = await ensureCatalogueBackbone(id, library, checkBackbone, { workspace });
    assert.equal(again.downloaded, false);
    assert.equal(again.entry.id, first.entry.id);
    assert.equal(requests, 1);
  } finally {
    undo();
  }
});

test("torch.hub's prefix check: a matching prefix is kept, another one is refused with what to do", async () => {
  const id = 'torchvision-vgg16bn';
  const workspace = join(root, 'ws2');
  const library = new BackboneLibrary(workspace);
  let undo = overrideCatalogueEntryForTests(id, {
    url: `${base}/models/vgg16_bn-6c64b313.pth`,
    checksum: { kind: 'sha256-prefix', value: '6c64b313' },
  });
  try {
    await assert.rejects(ensureCatalogueBackbone(id, library, checkBackbone, { workspace }), (e: unknown) => {
      assert.ok(e instanceof BackboneDownloadError);
      assert.match(e.message, /does not start with 6c64b313 as its name says: it was not kept/);
      assert.match(e.message, /Fetch vgg16_bn-6c64b313\.pth \(528 MB\)/);
      assert.match(e.message, /attnvgg backbone add vgg16_bn-6c64b313\.pth/);
      return true;
    });
    assert.deepEqual(await library.list(), []);
    undo();
    undo = overrideCatalogueEntryForTests(id, {
      url: `${base}/models/vgg16_bn-6c64b313.pth`,
      checksum: { kind: 'sha256-prefix', value: sha.slice(0, 8) },
      form: 'onnx-tar-gz', // the server's stand-in is the ONNX .tar.gz
    });
    const got = await ensureCatalogueBackbone(id, library, checkBackbone, { workspace });
    assert.equal(got.entry.catalogueId, id);
    // Cached under the extension of the entry's form (here the stand-in's .tar.gz; .pth for torch's).
    assert.ok(got.entry.path.endsWith(`${sha}.tar.gz`), got.entry.path);
    assert.equal(formExtension('torch-legacy'), '.pth');
    assert.equal(
      (await ensureCatalogueBackbone(id, library, checkBackbone, { workspace })).downloaded,
      false,
    );
  } finally {
    undo();
  }
});

test('offline: the error names the file to fetch elsewhere and how to add it', async () => {
  const id = 'timm-vgg16bn-tv-in1k';
  const workspace = join(root, 'ws3');
  const undo = overrideCatalogueEntryForTests(id, { url: 'http://127.0.0.1:1/model.safetensors' });
  try {
    await assert.rejects(
      ensureCatalogueBackbone(id, new BackboneLibrary(workspace), checkBackbone, {
        workspace,
        retries: 0,
      }),
      (e: unknown) => {
        assert.ok(e instanceof BackboneDownloadError);
        assert.match(e.message, /cannot reach http:\/\/127\.0\.0\.1:1/);
        assert.match(
          e.message,
          /Fetch model\.safetensors \(554 MB\) on a machine that can reach 127\.0\.0\.1:1/,
        );
        assert.match(e.message, /its SHA-256 must be 88bbedbc/);
        assert.match(e.message, /attnvgg backbone add model\.safetensors/);
        return true;
      },
    );
  } finally {
    undo();
  }
});

test('a catalogue file fetched by hand and added counts as that entry: no download needed', async () => {
  const id = 'onnx-model-zoo-vgg16bn-7';
  const workspace = join(root, 'ws4');
  const library = new BackboneLibrary(workspace);
  const file = join(root, 'vgg16-bn-7.tar.gz');
  writeFileSync(file, archive);
  const undo = overrideCatalogueEntryForTests(id, {
    url: 'http://127.0.0.1:1/unreachable.tar.gz',
    checksum: { kind: 'sha256', value: sha },
  });
  try {
    const added = await library.addFile(file, checkBackbone);
    assert.equal(added.catalogueId, id);
    assert.equal(added.source, 'file');
    const got = await ensureCatalogueBackbone(id, library, checkBackbone, { workspace, retries: 0 });
    assert.equal(got.downloaded, false);
    assert.equal(got.entry.path, file);
  } finally {
    undo();
  }
});
