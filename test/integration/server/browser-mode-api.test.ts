// The whole Node side of browser mode against the real services: a workspace, a tiny generated dataset,
// training in a worker thread with live events over the WebSocket, pause and resume, a second client
// joining mid-run (a reloaded page), then the evaluation, images and attention maps of the finished run,
// its export in a worker, and a folder classified, paged, exported and cancelled.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiEventSchema, type ApiEvent, type RunSummary } from '../../../main/api/index.js';
import { serveBrowserMode, type BrowserMode } from '../../../main/server/index.js';
import { tempShapesDataset, writeStubSite } from '../../helpers/shapes-folder.js';
import { until } from '../../helpers/until.js';
import { connectNodeClient, type NodeApiConnection } from './node-websocket-transport.js';

let dir: string;
let dataset: string;
let app: BrowserMode;
let conn: NodeApiConnection;

before(async () => {
  ({ dir, dataset } = await tempShapesDataset('attnvgg-api-', {
    classes: 2,
    size: 32,
    counts: { train: 16, val: 4, test: 4 },
    seed: 3,
  }));
  const site = await writeStubSite(dir);
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
  // The shapes dataset's boxes.json gives every picture its box.
  assert.equal(scan.boxes?.pictures, 48);
  assert.deepEqual(
    scan.boxes?.sources.map((s) => s.format),
    ['boxes-json'],
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
  // The test pictures have boxes: the pointing game per level and for the combined map.
  assert.equal(report.localisation?.images, 8);
  assert.equal(report.localisation?.levels.length, 3);
  assert.equal(report.localisation?.combined.total, 8);
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
  // The picture's box from boxes.json, drawn on the 64 px view of the 32 px picture: twice as large.
  const boxes = JSON.parse(await readFile(join(dataset, 'boxes.json'), 'utf8')) as Record<string, number[]>;
  assert.deepEqual(
    maps.boxes?.map((b) => b.box),
    [boxes[all.items[0].relativePath].map((v) => 2 * v)],
  );
  assert.ok(Math.abs(maps.probabilities.reduce((a, p) => a + p.p, 0) - 1) < 1e-4);
  await assert.rejects(
    client.call('attention.maps', { runId: run.id, path: join(dir, 'site', 'index.html') }),
    /only opens images inside the datasets/,
  );
  const info = await client.call('app.info', {});
  assert.equal(info.shell, 'browser');
  assert.ok(info.backend?.chosen);
  // The header shows the engine a run trains on: TensorFlow.js only with native TensorFlow (or forced).
  const engine = info.trainingEngine?.engine;
  assert.equal(engine, info.backend?.chosen === 'tensorflow' ? 'tfjs' : 'onnxruntime');
  assert.ok((info.trainingEngine?.reasons.length ?? 0) > 0, 'the choice says why');
  const none = await client.call('models.list', {});
  assert.ok(none.available && none.models.length === 0);
});

const exportEvents = (runId: string) =>
  (conn.events as ApiEvent[]).filter(
    (e): e is Extract<ApiEvent, { type: 'export' }> => e.type === 'export' && e.runId === runId,
  );
const classifyEvents = (jobId: string) =>
  (conn.events as ApiEvent[]).filter(
    (e): e is Extract<ApiEvent, { type: 'classify' }> => e.type === 'classify' && e.job.id === jobId,
  );

test('export in a worker, then classify a folder: progress events, result rows, problems, export of the files', async () => {
  const { client } = conn;
  const [run] = await client.call('training.runs', {});
  const none = await client.call('models.list', {});
  assert.ok(none.available && none.models.length === 0);

  // The export runs in a worker: the server answers other calls meanwhile, and says what happens.
  const exporting = client.call('models.export', { runId: run.id });
  const during = await client.call('app.info', {});
  assert.equal(during.shell, 'browser');
  const exported = await exporting;
  assert.ok(exported.available);
  assert.deepEqual(exported.model.classes, ['circle', 'square']);
  assert.match(exported.model.path, /\.onnx$/);
  assert.deepEqual(
    exportEvents(run.id).map((e) => e.stage),
    ['started', 'finished'],
  );
  assert.match(exportEvents(run.id)[1].message, /Exported .* MiB/);
  const listed = await client.call('models.list', {});
  assert.ok(listed.available && listed.models.length === 1 && listed.models[0].fromRun === run.id);
  await assert.rejects(client.call('models.export', { runId: 'no-such-run' }), /There is no run/);

  // A folder to classify: the test pictures of both classes plus two files that are not pictures.
  const folder = join(dir, 'to-classify');
  await mkdir(folder);
  let pictures = 0;
  for (const label of ['circle', 'square'])
    for (const name of await readdir(join(dataset, 'test', label))) {
      await copyFile(join(dataset, 'test', label, name), join(folder, `${label}-${name}`));
      pictures++;
    }
  await writeFile(join(folder, 'notes.png'), 'not a picture');
  await writeFile(join(folder, 'empty.jpg'), '');

  await assert.rejects(
    client.call('classify.start', { modelId: 'nope', folder }),
    /no longer in the workspace/,
  );
  await assert.rejects(
    client.call('classify.start', { modelId: exported.model.id, folder, options: { opacity: 2 } }),
    /opacity is between 0 and 1/,
  );
  await assert.rejects(
    client.call('classify.start', { modelId: exported.model.id, folder: join(dir, 'nowhere') }),
    /There is no folder/,
  );
  const job = await client.call('classify.start', {
    modelId: exported.model.id,
    folder,
    options: { heatmaps: true, level: 2, colormap: 'inferno', opacity: 0.6, threshold: 0 },
  });
  assert.equal(job.status, 'running');
  assert.equal(job.options.level, 2);
  await assert.rejects(
    client.call('classify.start', { modelId: exported.model.id, folder }),
    /Another folder/,
  );
  const ended = await until('the finished classification', () =>
    classifyEvents(job.id).find((e) => e.job.status !== 'running'),
  );
  assert.equal(ended.job.status, 'completed', ended.job.message);
  assert.equal(ended.job.progress.total, pictures + 2);
  assert.equal(ended.job.summary?.ok, pictures);
  assert.equal(ended.job.summary?.failed, 2);
  assert.ok(classifyEvents(job.id).length >= 2, 'started and ended at least');

  const jobs = await client.call('classify.jobs', {});
  assert.deepEqual(
    jobs.map((j) => [j.id, j.status]),
    [[job.id, 'completed']],
  );
  const all = await client.call('classify.results', { jobId: job.id, limit: 500 });
  assert.equal(all.total, pictures + 2);
  assert.equal(all.partial, false);
  const problems = await client.call('classify.results', { jobId: job.id, show: 'problems' });
  assert.deepEqual(problems.rows.map((r) => r.file).sort(), ['empty.jpg', 'notes.png']);
  assert.ok(problems.rows.every((r) => r.error && r.error.message.length > 10 && r.overlay === null));
  const page = await client.call('classify.results', { jobId: job.id, show: 'ok', offset: 2, limit: 3 });
  assert.equal(page.total, pictures);
  assert.equal(page.rows.length, 3);
  assert.equal(page.offset, 2);
  for (const row of page.rows) {
    assert.ok(row.label === 'circle' || row.label === 'square');
    assert.ok(row.overlay && row.overlay.endsWith('.png'));
    assert.ok(Math.abs(row.top.reduce((a, t) => a + t.probability, 0) - 1) < 1e-3);
  }

  // Thumbnails of the pictures and of the overlays, and a preview of a problem file (not decodable).
  const firstOk = page.rows[0];
  const thumbs = await client.call('datasets.thumbnails', { paths: [firstOk.path, firstOk.overlay ?? ''] });
  assert.ok(
    thumbs.every((t) => t.dataUrl?.startsWith('data:image/png;base64,')),
    JSON.stringify(thumbs.map((t) => t.error)),
  );
  const reveal = await client.call('files.reveal', { path: problems.rows[0].path });
  assert.equal(reveal.revealed, false);
  assert.equal(reveal.path, problems.rows[0].path);
  assert.equal(reveal.preview, null);
  assert.match(reveal.previewError ?? '', /No preview/);
  const shown = await client.call('files.reveal', { path: firstOk.path });
  assert.match(shown.preview ?? '', /^data:image\/png;base64,/);
  await assert.rejects(client.call('files.reveal', { path: join(dir, 'site', 'index.html') }), /only opens/);

  // Export: results.csv has one line per file, the overlays are PNGs; an existing export is not replaced.
  const target = join(dir, 'exported');
  await mkdir(target);
  const copied = await client.call('classify.export', { jobId: job.id, folder: target });
  assert.equal(copied.overlays, pictures);
  const csv = (await readFile(copied.csv, 'utf8')).trim().split(/\r?\n/);
  assert.equal(csv.length, 1 + pictures + 2);
  const pngs = await readdir(join(target, 'heatmaps'), { recursive: true });
  assert.equal(pngs.filter((p) => String(p).endsWith('.png')).length, pictures);
  await assert.rejects(client.call('classify.export', { jobId: job.id, folder: target }), /already exist/);
  await client.call('classify.export', { jobId: job.id, folder: target, overwrite: true });
  assert.ok(
    conn.events.every((e) => ApiEventSchema.safeParse(e).success),
    'every pushed event fits the contract',
  );
});

test('a classification can be cancelled; its results so far are kept', async () => {
  const { client } = conn;
  const models = await client.call('models.list', {});
  assert.ok(models.available);
  const folder = join(dir, 'many');
  await mkdir(folder);
  const source = join(dataset, 'train', 'circle');
  const names = await readdir(source);
  for (let copy = 0; copy < 20; copy++)
    for (const name of names) await copyFile(join(source, name), join(folder, `${copy}-${name}`));
  const job = await client.call('classify.start', {
    modelId: models.models[0].id,
    folder,
    options: { heatmaps: true },
  });
  const cancelled = await client.call('classify.cancel', { jobId: job.id });
  assert.equal(cancelled.id, job.id);
  const ended = await until('the cancelled classification', () =>
    classifyEvents(job.id).find((e) => e.job.status !== 'running'),
  );
  assert.equal(ended.job.status, 'cancelled', ended.job.message);
  assert.ok(ended.job.progress.done < names.length * 20, 'it stopped before the end');
  assert.match(ended.job.message ?? '', /results so far are kept/);
  await assert.rejects(
    client.call('classify.cancel', { jobId: 'no-such-job' }),
    /no longer in the workspace/,
  );
});
