// The backbone part of the API, over the browser-mode WebSocket against the real services: a file the user
// picks is checked in a task worker and added where it is (a broken file is refused with the reason);
// the folder browser lists .onnx files; a download from a loopback HTTP server reports progress, is
// verified and added, and a stalled one is cancelled with what arrived kept; a run starts from the
// backbone by id (the quick preset: cached features) and its summary names the backbone; removing a
// download deletes its file, removing a picked file leaves it; a removed or vanished backbone cannot be
// trained from.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { access, copyFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ApiEvent, BackboneDownloadEvent, RunSummary } from '../../../main/api/index.js';
import { serveBrowserMode, type BrowserMode } from '../../../main/server/index.js';
import { tempShapesDataset, writeStubSite } from '../../helpers/shapes-folder.js';
import { backboneFileBytes } from '../../helpers/backbone-file.js';
import { until } from '../../helpers/until.js';
import { connectNodeClient, type NodeApiConnection } from './node-websocket-transport.js';

let dir: string;
let dataset: string;
let app: BrowserMode;
let conn: NodeApiConnection;
let http: Server;
let bytes: Uint8Array;
/** Requests to /stall get headers and half the body, then nothing. */
let base = '';

before(async () => {
  ({ dir, dataset } = await tempShapesDataset('attnvgg-backbone-api-', {
    classes: 2,
    size: 32,
    counts: { train: 12, val: 4, test: 4 },
    seed: 5,
  }));
  bytes = backboneFileBytes(8);
  await writeFile(join(dir, 'vgg16_bn.onnx'), bytes);
  await writeFile(join(dir, 'broken.onnx'), Buffer.from('not an onnx model at all'));
  await writeFile(join(dir, 'notes.txt'), 'hello');
  http = createServer((req, res) => {
    const stall = req.url === '/stall/vgg16_bn.onnx';
    res.writeHead(200, { 'Content-Length': String(bytes.length) });
    if (stall) res.write(bytes.subarray(0, bytes.length >> 1));
    else res.end(bytes);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  app = await serveBrowserMode({
    workspaceDir: join(dir, 'workspace'),
    staticDir: await writeStubSite(dir),
    checkResponses: true,
  });
  conn = await connectNodeClient(app.server.port, app.server.token);
});

after(async () => {
  conn?.close();
  await app?.close();
  http?.closeAllConnections();
  await new Promise((r) => http?.close(r));
  await rm(dir, { recursive: true, force: true });
});

const downloadEvents = (): BackboneDownloadEvent[] =>
  (conn.events as ApiEvent[]).flatMap((e) => (e.type === 'backbone-download' ? [e.event] : []));
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

test('a picked file: listed by the folder browser, checked, added where it is; broken files are refused', async () => {
  const { client } = conn;
  assert.deepEqual((await client.call('backbones.list', {})).backbones, []);
  const listing = await client.call('folders.list', { path: dir, files: 'onnx' });
  assert.deepEqual(listing.files, [join(dir, 'broken.onnx'), join(dir, 'vgg16_bn.onnx')]);
  assert.equal((await client.call('folders.list', { path: dir })).files, undefined);

  await assert.rejects(
    client.call('backbones.add', { path: join(dir, 'broken.onnx') }),
    (e: Error & { code?: string }) =>
      e.code === 'bad-request' && /broken\.onnx cannot be used/.test(e.message),
  );
  await assert.rejects(client.call('backbones.add', { path: join(dir, 'notes.txt') }), /not a weights file/);
  await assert.rejects(client.call('backbones.add', { path: join(dir, 'missing.onnx') }), /Cannot read/);

  const entry = await client.call('backbones.add', { path: join(dir, 'vgg16_bn.onnx') });
  assert.equal(entry.source, 'file');
  assert.equal(entry.path, join(dir, 'vgg16_bn.onnx'));
  assert.equal(entry.bytes, bytes.length);
  assert.match(entry.summary, /^width 1, BatchNorm folded, /);
  assert.ok(entry.present);
  // The same file again: still one entry.
  await client.call('backbones.add', { path: join(dir, 'vgg16_bn.onnx') });
  const list = await client.call('backbones.list', {});
  assert.equal(list.backbones.length, 1);
  assert.equal(list.downloading, false);
  assert.equal(list.folder, join(dir, 'workspace', 'backbones'));
});

test('a download: progress, SHA-256 verified, added; a bad checksum and a cancelled download keep nothing usable', async () => {
  const { client } = conn;
  const { createHash } = await import('node:crypto');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // Another content than the picked file, so that both stay listed.
  await assert.rejects(
    client.call('backbones.download', { url: `${base}/vgg16_bn.onnx`, sha256: '0'.repeat(64) }),
    /SHA-256 .* was expected/,
  );
  assert.equal(downloadEvents().at(-1)?.stage, 'failed');

  const stalled = client.call('backbones.download', { url: `${base}/stall/vgg16_bn.onnx` });
  await until('bytes of the stalled download', () => downloadEvents().some((e) => e.received > 0));
  assert.equal((await client.call('backbones.list', {})).downloading, true);
  await assert.rejects(
    client.call('backbones.download', { url: `${base}/vgg16_bn.onnx` }),
    /being downloaded .* now/,
  );
  assert.deepEqual(await client.call('backbones.cancelDownload', {}), { cancelled: true });
  await assert.rejects(stalled, /cancelled; the .* MiB that arrived are kept/);
  assert.equal(downloadEvents().at(-1)?.stage, 'cancelled');
  const parts = (await readdir(join(dir, 'workspace', 'backbones'))).filter((f) => f.endsWith('.part'));
  assert.equal(parts.length, 1, 'the partial file is kept for a resume');
  assert.deepEqual(await client.call('backbones.cancelDownload', {}), { cancelled: false });

  const before = downloadEvents().length;
  const entry = await client.call('backbones.download', { url: `${base}/vgg16_bn.onnx`, sha256 });
  const stages = downloadEvents()
    .slice(before)
    .map((e) => e.stage);
  assert.deepEqual([...new Set(stages)], ['download', 'verify', 'check', 'finished']);
  assert.equal(entry.source, 'download');
  assert.equal(entry.sha256, sha256);
  assert.equal(entry.path, join(dir, 'workspace', 'backbones', `${sha256}.onnx`));
  assert.equal(entry.url, `${base}/vgg16_bn.onnx`);
  // Same content as the picked file: one entry, now the downloaded copy.
  assert.equal((await client.call('backbones.list', {})).backbones.length, 1);
});

test('training from a backbone by id; removal and a vanished file are refused with what to do', async () => {
  const { client } = conn;
  const picked = join(dir, 'copy', 'vgg16_bn.onnx');
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'copy'), { recursive: true }));
  await copyFile(join(dir, 'vgg16_bn.onnx'), picked);
  const downloaded = (await client.call('backbones.list', {})).backbones[0];
  const ds = await client.call('datasets.add', { path: dataset });
  const run: RunSummary = await client.call('training.start', {
    datasetId: ds.id,
    preset: 'quick',
    backboneId: downloaded.id,
    settings: { inputSize: 32, epochs: 1 },
  });
  assert.equal(run.backbone, `${downloaded.sha256}.onnx`);
  await until('the run to finish', () =>
    (conn.events as ApiEvent[]).some(
      (e) => e.type === 'training' && e.runId === run.id && e.event.type === 'finished',
    ),
  );
  const details = await client.call('training.run', { runId: run.id });
  assert.equal(details.summary.status, 'completed');
  assert.equal(details.config.backbone, downloaded.path);
  assert.equal(details.config.freezeBlocks, 5);
  assert.equal(details.summary.backbone, `${downloaded.sha256}.onnx`);
  assert.ok(
    (conn.events as ApiEvent[]).some(
      (e) => e.type === 'training' && e.runId === run.id && e.event.type === 'caching',
    ),
    'the quick preset computed the backbone features once',
  );

  // Removing the download deletes its file; the id can no longer be trained from.
  assert.deepEqual(await client.call('backbones.remove', { id: downloaded.id }), { removed: true });
  assert.equal(await exists(downloaded.path), false);
  await assert.rejects(
    client.call('training.start', { datasetId: ds.id, backboneId: downloaded.id }),
    (e: Error & { code?: string }) => e.code === 'not-found' && /no longer in the workspace/.test(e.message),
  );

  // A picked file that moves is listed as gone; removing a picked file leaves the file alone.
  const added = await client.call('backbones.add', { path: picked });
  await rename(picked, `${picked}.moved`);
  const gone = (await client.call('backbones.list', {})).backbones.find((b) => b.id === added.id);
  assert.equal(gone?.present, false);
  await assert.rejects(
    client.call('training.start', { datasetId: ds.id, backboneId: added.id }),
    /has been moved, changed or deleted/,
  );
  await rename(`${picked}.moved`, picked);
  assert.deepEqual(await client.call('backbones.remove', { id: added.id }), { removed: true });
  assert.equal(await exists(picked), true);
  assert.deepEqual(await client.call('backbones.remove', { id: added.id }), { removed: false });
});

test('the catalogue: listed with sizes, downloaded in one call with progress and speed, trained from with its preprocessing', async () => {
  const { client } = conn;
  const { createHash } = await import('node:crypto');
  const { overrideCatalogueEntryForTests } =
    await import('../../../main/services/backbone/catalogue-download.js');
  const { tarGzBytes } = await import('../../fixtures/make-hostile-checkpoints.js');
  const archive = tarGzBytes([{ name: 'vgg16-bn/vgg16-bn.onnx', data: backboneFileBytes(11) }]);
  const sha256 = createHash('sha256').update(archive).digest('hex');
  const served = createServer((_req, res) =>
    res.writeHead(200, { 'Content-Length': String(archive.length) }).end(archive),
  );
  await new Promise<void>((r) => served.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(served.address() as AddressInfo).port}/models/vgg16_bn-6c64b313.pth`;
  // The stand-in is a Model-Zoo-structured ONNX in a .tar.gz (no torch at this test's run), so the
  // entry's form says so: a download must be in the form its entry is published in.
  const undo = overrideCatalogueEntryForTests('torchvision-vgg16bn', {
    url,
    checksum: { kind: 'sha256-prefix', value: sha256.slice(0, 8) },
    form: 'onnx-tar-gz',
  });
  try {
    const listed = await client.call('backbones.list', {});
    assert.deepEqual(
      listed.catalogue.map((e) => [e.id, e.sizeLabel, e.backboneId]),
      [
        ['torchvision-vgg16bn', '528 MB', undefined],
        ['onnx-model-zoo-vgg16bn-7', '490 MB', undefined],
        ['timm-vgg16bn-tv-in1k', '554 MB', undefined],
      ],
    );
    const listing = await client.call('folders.list', { path: dir, files: 'weights' });
    assert.deepEqual(listing.files, [join(dir, 'broken.onnx'), join(dir, 'vgg16_bn.onnx')]);
    await assert.rejects(client.call('backbones.downloadCatalogue', { id: 'vgg19' }), /Should be one of/);

    const before = downloadEvents().length;
    const entry = await client.call('backbones.downloadCatalogue', { id: 'torchvision-vgg16bn' });
    const events = downloadEvents().slice(before);
    assert.ok(events.every((e) => e.catalogueId === 'torchvision-vgg16bn' && e.url === url));
    assert.equal(events.at(-1)?.stage, 'finished');
    assert.ok(
      events.some((e) => e.stage === 'download' && /MiB\/s/.test(e.message)),
      'speed is shown',
    );
    assert.equal(entry.catalogueId, 'torchvision-vgg16bn');
    assert.equal(entry.sha256, sha256);
    const after = await client.call('backbones.list', {});
    assert.equal(after.catalogue[0].backboneId, entry.id);

    const ds =
      (await client.call('datasets.list', {})).find((d) => d.path === dataset) ??
      (await client.call('datasets.add', { path: dataset }));
    const run: RunSummary = await client.call('training.start', {
      datasetId: ds.id,
      preset: 'quick',
      backboneId: entry.id,
      settings: { inputSize: 32, epochs: 1 },
    });
    await until('the run to finish', () =>
      (conn.events as ApiEvent[]).some(
        (e) => e.type === 'training' && e.runId === run.id && e.event.type === 'finished',
      ),
    );
    const details = await client.call('training.run', { runId: run.id });
    assert.equal(details.summary.status, 'completed');
    assert.equal(details.config.backbone, entry.path);
    assert.deepEqual(details.config.mean, [0.485, 0.456, 0.406]);
    assert.deepEqual(details.config.std, [0.229, 0.224, 0.225]);
  } finally {
    undo();
    await new Promise((r) => served.close(r));
  }
});
