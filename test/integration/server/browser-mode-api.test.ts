// The whole Node side of browser mode against the real services: a workspace, a tiny generated dataset,
// training in a worker thread with live events over the WebSocket, pause and resume, a second client
// joining mid-run (a reloaded page), then the evaluation, images and attention maps of the finished run.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiEventSchema, type ApiEvent, type RunSummary } from '../../../main/api/index.js';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import { serveBrowserMode, type BrowserMode } from '../../../main/server/index.js';
import { connectNodeClient, type NodeApiConnection } from './node-websocket-transport.js';

let dir: string;
let dataset: string;
let app: BrowserMode;
let conn: NodeApiConnection;

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-api-'));
  dataset = join(dir, 'shapes');
  await generateShapesDataset(dataset, {
    classes: 2,
    size: 32,
    counts: { train: 16, val: 4, test: 4 },
    seed: 3,
  });
  const site = join(dir, 'site');
  await mkdir(site);
  await writeFile(join(site, 'index.html'), '<!doctype html>');
  app = await serveBrowserMode({
    workspaceDir: join(dir, 'workspace'),
    staticDir: site,
    checkResponses: true,
  });
  conn = await connectNodeClient(app.server.port, app.server.token);
});

after(async () => {
  conn?.close();
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 120_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const trainingEvents = (runId: string, type: string) =>
  (conn.events as ApiEvent[]).filter(
    (e) => e.type === 'training' && e.runId === runId && e.event.type === type,
  );
const runEvents = (runId: string) =>
  (conn.events as ApiEvent[]).filter(
    (e): e is Extract<ApiEvent, { type: 'run' }> => e.type === 'run' && e.run.id === runId,
  );

test('datasets: a folder is scanned, added by reference, listed, and its thumbnails are PNGs', async () => {
  const { client } = conn;
  const scan = await client.call('datasets.scan', { path: dataset });
  assert.deepEqual(
    scan.classes.map((c) => [c.name, c.count]),
    [
      ['circle', 24],
      ['square', 24],
    ],
  );
  assert.equal(scan.layout, 'folders');
  const entry = await client.call('datasets.add', { path: dataset, name: 'Shapes' });
  assert.equal(entry.path, dataset);
  assert.deepEqual(
    (await client.call('datasets.list', {})).map((d) => d.id),
    [entry.id],
  );
  const saved = JSON.parse(await readFile(join(app.backend.workspace.root, 'datasets.json'), 'utf8'));
  assert.equal(saved.datasets[0].path, dataset, 'datasets.json keeps a reference to the folder');
  const [thumb, outside] = await client.call('datasets.thumbnails', {
    datasetId: entry.id,
    paths: [scan.classes[0].examples[0], '../../etc/passwd'],
    size: 48,
  });
  assert.match(thumb.dataUrl ?? '', /^data:image\/png;base64,iVBOR/);
  assert.equal(outside.dataUrl, null);
  assert.match(outside.error ?? '', /only opens images inside the datasets/);
  await assert.rejects(client.call('datasets.add', { path: join(dir, 'missing') }), /There is no folder at/);
  assert.ok(
    conn.events.every((e) => ApiEventSchema.safeParse(e).success),
    'every pushed event fits the contract',
  );
});

test('training runs in a worker: events arrive live, pause keeps a checkpoint, resume finishes', async () => {
  const { client } = conn;
  const [entry] = await client.call('datasets.list', {});
  await assert.rejects(
    client.call('training.start', { datasetId: entry.id, settings: { inputSize: 48 } }),
    /multiple of 32/,
  );
  const started = await client.call('training.start', {
    datasetId: entry.id,
    preset: 'quick',
    settings: { inputSize: 32, width: 0.0625, epochs: 3, batchSize: 4, checkpointEverySteps: 1 },
  });
  assert.equal(started.active, true);
  const runId = started.id;
  await until('a step event', () => trainingEvents(runId, 'step').length > 0);
  await assert.rejects(
    client.call('training.start', { datasetId: entry.id, settings: { inputSize: 32, width: 0.0625 } }),
    /is training now/,
  );

  // A second client (a reloaded page) finds the run active and receives its events from now on.
  const second = await connectNodeClient(app.server.port, app.server.token);
  const listed = (await second.client.call('training.runs', {})).find((r) => r.id === runId);
  assert.equal(listed?.active, true);
  await until('events on the second connection', () =>
    (second.events as ApiEvent[]).some((e) => e.type === 'training' && e.runId === runId),
  );
  second.close();

  await client.call('training.pause', { runId });
  const paused = await until('the paused run', () =>
    runEvents(runId).find((e) => e.run.status === 'paused' && !e.run.active),
  );
  assert.match(paused.run.message ?? '', /resume continues/);
  const details = await client.call('training.run', { runId });
  assert.ok(details.steps.length > 0, 'the history has the steps so far');

  await client.call('training.resume', { runId });
  const done = await until(
    'the finished run',
    () => runEvents(runId).find((e) => e.run.status === 'completed' && !e.run.active),
    240_000,
  );
  const summary: RunSummary = done.run;
  assert.ok(summary.testAccuracy !== undefined && summary.bestValAccuracy !== undefined);
  assert.equal(summary.backend.length > 0, true);
  assert.ok(trainingEvents(runId, 'started').length >= 2, 'started, then started again on resume');
  const full = await client.call('training.run', { runId });
  assert.equal(full.epochs.length, 3);
  await assert.rejects(client.call('training.resume', { runId }), /has finished/);
  assert.ok(
    conn.events.every((e) => ApiEventSchema.safeParse(e).success),
    'every pushed event fits the contract',
  );
});

test('evaluation and attention of the finished run', async () => {
  const { client } = conn;
  const [run] = await client.call('training.runs', {});
  const report = await client.call('evaluation.report', { runId: run.id });
  assert.equal(report.total, 8);
  assert.equal(
    report.confusion.flat().reduce((a, b) => a + b, 0),
    8,
  );
  const all = await client.call('evaluation.images', { runId: run.id, limit: 500 });
  assert.equal(all.total, 8);
  const cell = await client.call('evaluation.images', {
    runId: run.id,
    filter: { label: 'circle', predicted: report.classes[0] },
  });
  assert.equal(cell.total, report.confusion[0][0]);
  const wrong = await client.call('evaluation.images', { runId: run.id, filter: { correct: false } });
  assert.equal(wrong.total, report.misclassified);

  const maps = await client.call('attention.maps', {
    runId: run.id,
    path: all.items[0].path,
    displaySize: 64,
  });
  assert.deepEqual(
    maps.maps.map((m) => [m.level, m.width, m.height]),
    [
      [1, 8, 8],
      [2, 4, 4],
      [3, 2, 2],
    ],
  );
  for (const m of maps.maps) {
    const sum = m.values.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `softmax attention sums to 1 (level ${m.level}: ${sum})`);
  }
  assert.match(maps.image, /^data:image\/png;base64,/);
  assert.equal(maps.imageSize, 64);
  assert.ok(Math.abs(maps.probabilities.reduce((a, p) => a + p.p, 0) - 1) < 1e-4);
  await assert.rejects(
    client.call('attention.maps', { runId: run.id, path: join(dir, 'site', 'index.html') }),
    /only opens images inside the datasets/,
  );
  const info = await client.call('app.info', {});
  assert.equal(info.shell, 'browser');
  assert.ok(info.backend?.chosen);
  const none = await client.call('models.list', {});
  assert.ok(none.available && none.models.length === 0);
  const exported = await client.call('models.export', { runId: run.id });
  assert.ok(exported.available);
  assert.deepEqual(exported.model.classes, ['circle', 'square']);
  assert.match(exported.model.path, /\.onnx$/);
  const listed = await client.call('models.list', {});
  assert.ok(listed.available && listed.models.length === 1 && listed.models[0].fromRun === run.id);
  const classify = await client.call('classify.start', { modelId: exported.model.id, folder: dataset });
  assert.equal(classify.available, false);
});
