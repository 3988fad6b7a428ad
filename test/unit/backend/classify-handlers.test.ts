// The classification and files handlers over a workspace made by hand (no model, no worker): result
// pages by filter, the export of the results files into a chosen folder (refusing to replace unless
// asked), and "open" for a file: a preview in a browser, the file manager on the desktop, and a refusal
// for files outside the folders the user chose. Answers are checked against the contract.
import { BackboneLibrary } from '../../../main/services/backbone/backbone-library.js';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import {
  type ApiEvent,
  type ApiHandlers,
  type ApiMethod,
  type ApiRequest,
  type ApiResponse,
} from '../../../main/api/index.js';
import { RESULTS_FORMAT, resultsCsv, type ClassifyResults } from '../../../main/services/classify/index.js';
import {
  ClassifyJobs,
  CompareJobs,
  InferenceClient,
  TrainingJobs,
  type ClassifyJobRecord,
} from '../../../main/services/jobs/index.js';
import type { BackendContext } from '../../../main/backend/backend-context.js';
import { classifyHandlers } from '../../../main/backend/handlers/classify-handlers.js';
import { fileHandlers } from '../../../main/backend/handlers/files-handlers.js';
import { modelHandlers } from '../../../main/backend/handlers/models-handlers.js';
import { Workspace } from '../../../main/backend/workspace.js';
import { callHandler } from '../../helpers/handler-call.js';

let dir: string;
let pictures: string;
let context: BackendContext;
let handlers: ApiHandlers;
const revealed: string[] = [];
const events: ApiEvent[] = [];

const call = <M extends ApiMethod>(
  method: M,
  request: ApiRequest<M>,
  h = handlers,
): Promise<ApiResponse<M>> => callHandler(h, method, request);

async function png(path: string, colour: number): Promise<void> {
  await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: colour, g: 80, b: 200 } } })
    .png()
    .toFile(path);
}

const JOB = 'job-1';

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-classify-handlers-'));
  pictures = join(dir, 'pictures');
  await mkdir(join(pictures, 'sub'), { recursive: true });
  await png(join(pictures, 'a.png'), 10);
  await png(join(pictures, 'sub', 'b.png'), 200);
  await writeFile(join(pictures, 'bad.jpg'), 'not a picture');
  await writeFile(join(dir, 'secret.png'), 'outside every chosen folder');

  const workspace = await Workspace.open(join(dir, 'workspace'));
  const classify = new ClassifyJobs({
    rootDir: workspace.classificationsDir,
    onChange: () => undefined,
    createWorker: () =>
      new (class extends EventEmitter {
        postMessage(): void {}
        async terminate(): Promise<number> {
          this.emit('exit', 1);
          return 1;
        }
      })() as unknown as Worker,
  });
  context = {
    workspace,
    jobs: new TrainingJobs({ onEvent: () => undefined }),
    inference: new InferenceClient(),
    classify,
    compare: new CompareJobs({
      rootDir: workspace.comparisonsDir,
      onChange: () => undefined,
      onEvent: () => undefined,
    }),
    backbones: new BackboneLibrary(workspace.root),
    shell: 'browser',
    emit: (event) => events.push(event),
  };
  handlers = {
    ...classifyHandlers(context),
    ...fileHandlers(context),
    ...modelHandlers(context),
  } as ApiHandlers;

  // A finished classification of `pictures`, as the task worker leaves it.
  const outDir = join(workspace.classificationsDir, JOB);
  await mkdir(join(outDir, 'heatmaps', 'sub'), { recursive: true });
  await png(join(outDir, 'heatmaps', 'a.png'), 30);
  await png(join(outDir, 'heatmaps', 'sub', 'b.png'), 60);
  const top = (a: number) => [
    { label: 'cat', probability: a },
    { label: 'dog', probability: 1 - a },
  ];
  const row = { bytes: 1, mtimeMs: 1, ms: 3 };
  const results: ClassifyResults = {
    format: RESULTS_FORMAT,
    model: { path: '/w/m.onnx', modelId: 'm', classes: ['cat', 'dog'] },
    settings: {
      topK: 2,
      threshold: 0.6,
      batch: 32,
      threads: 1,
      heatmaps: true,
      level: 'combined',
      colormap: 'turbo',
      opacity: 0.5,
      sortInto: null,
      link: false,
    },
    startedAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    complete: true,
    summary: {
      images: 3,
      ok: 2,
      failed: 1,
      uncertain: 1,
      byLabel: { cat: 1, uncertain: 1 },
      seconds: 1,
      imagesPerSecond: 2,
    },
    skipped: [{ file: join(pictures, '.DS_Store'), reason: 'hidden', message: 'hidden file' }],
    results: [
      {
        ...row,
        index: 0,
        file: join(pictures, 'a.png'),
        path: join(pictures, 'a.png'),
        status: 'ok',
        label: 'cat',
        uncertain: false,
        top: top(0.9),
        overlay: 'heatmaps/a.png',
      },
      {
        ...row,
        index: 1,
        file: join(pictures, 'bad.jpg'),
        path: join(pictures, 'bad.jpg'),
        status: 'failed',
        label: null,
        uncertain: false,
        top: [],
        error: { reason: 'not-an-image', message: 'This file is not a picture.' },
      },
      {
        ...row,
        index: 2,
        file: join(pictures, 'sub', 'b.png'),
        path: join(pictures, 'sub', 'b.png'),
        status: 'ok',
        label: 'uncertain',
        uncertain: true,
        top: top(0.55),
        overlay: 'heatmaps/sub/b.png',
      },
    ],
  };
  await writeFile(join(outDir, 'results.json'), JSON.stringify(results));
  await writeFile(join(outDir, 'results.csv'), resultsCsv(results));
  const record: ClassifyJobRecord = {
    format: 'attnvgg-classify-job/1',
    id: JOB,
    status: 'completed',
    modelId: 'm',
    modelPath: '/w/m.onnx',
    classes: ['cat', 'dog'],
    folder: pictures,
    outDir,
    options: { heatmaps: true, level: 'combined', colormap: 'turbo', opacity: 0.5, threshold: 0.6 },
    startedAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    progress: { done: 3, total: 3, failed: 1, imagesPerSecond: 2, etaSeconds: 0 },
    summary: { images: 3, ok: 2, failed: 1, uncertain: 1, byLabel: { cat: 1, uncertain: 1 }, seconds: 1 },
    message: 'Classified 2 of 3 files.',
  };
  await writeFile(join(outDir, 'job.json'), JSON.stringify(record));
});

after(async () => {
  await context?.classify.stopAll(1000);
  await rm(dir, { recursive: true, force: true });
});

test('the jobs are listed; result rows are paged and filtered, overlays as full paths', async () => {
  const jobs = await call('classify.jobs', {});
  assert.deepEqual(
    jobs.map((j) => [j.id, j.status]),
    [[JOB, 'completed']],
  );
  assert.equal('format' in jobs[0], false, 'the file format tag stays in the file');
  const all = await call('classify.results', { jobId: JOB });
  assert.equal(all.total, 3);
  assert.equal(all.partial, false);
  assert.equal(all.skipped, 1);
  assert.deepEqual(
    all.rows.map((r) => [r.index, r.status, r.label]),
    [
      [0, 'ok', 'cat'],
      [1, 'failed', null],
      [2, 'ok', 'uncertain'],
    ],
  );
  assert.equal(
    all.rows[2].overlay,
    join(context.workspace.classificationsDir, JOB, 'heatmaps', 'sub', 'b.png'),
  );
  assert.equal(all.rows[1].overlay, null);
  assert.deepEqual(
    all.rows.map((r) => r.file),
    ['a.png', 'bad.jpg', 'sub/b.png'],
    'names below the classified folder',
  );
  const problems = await call('classify.results', { jobId: JOB, show: 'problems' });
  assert.deepEqual(
    problems.rows.map((r) => [r.index, r.error?.message]),
    [[1, 'This file is not a picture.']],
  );
  assert.deepEqual(
    (await call('classify.results', { jobId: JOB, show: 'uncertain' })).rows.map((r) => r.index),
    [2],
  );
  assert.deepEqual(
    (await call('classify.results', { jobId: JOB, label: 'cat' })).rows.map((r) => r.index),
    [0],
  );
  const second = await call('classify.results', { jobId: JOB, show: 'ok', offset: 1, limit: 1 });
  assert.deepEqual([second.total, second.offset, second.rows.map((r) => r.index)], [2, 1, [2]]);
  await assert.rejects(call('classify.results', { jobId: 'nope' }), /no longer in the workspace/);
});

test('export copies results.csv, results.json and the overlays; it does not replace files unless asked', async () => {
  const target = join(dir, 'out');
  await mkdir(target);
  const done = await call('classify.export', { jobId: JOB, folder: target });
  assert.equal(done.overlays, 2);
  assert.equal(done.csv, join(target, 'results.csv'));
  const csv = (await readFile(done.csv, 'utf8')).trim().split(/\r?\n/);
  assert.equal(csv.length, 4);
  const copied = await readdir(join(target, 'heatmaps'), { recursive: true });
  assert.deepEqual(
    copied
      .map(String)
      .filter((p) => p.endsWith('.png'))
      .sort(),
    ['a.png', join('sub', 'b.png')],
  );
  assert.equal((await sharp(join(target, 'heatmaps', 'sub', 'b.png')).metadata()).format, 'png');
  await assert.rejects(call('classify.export', { jobId: JOB, folder: target }), /already exist/);
  await writeFile(join(target, 'results.csv'), 'old');
  await call('classify.export', { jobId: JOB, folder: target, overwrite: true });
  assert.notEqual(await readFile(join(target, 'results.csv'), 'utf8'), 'old');
  await assert.rejects(
    call('classify.export', { jobId: JOB, folder: join(dir, 'missing') }),
    /There is no folder/,
  );
});

test('a running job can be cancelled but not exported; an unknown model cannot be used', async () => {
  await context.classify.start({
    id: 'job-2',
    modelId: 'm',
    modelPath: '/w/m.onnx',
    classes: ['cat', 'dog'],
    folder: pictures,
    options: { heatmaps: false, level: 1, colormap: 'jet', opacity: 0.3, threshold: 0 },
  });
  await assert.rejects(call('classify.export', { jobId: 'job-2', folder: dir }), /still being classified/);
  const rows = await call('classify.results', { jobId: 'job-2' });
  assert.deepEqual([rows.total, rows.partial], [0, true], 'no results file yet');
  assert.equal((await call('classify.cancel', { jobId: 'job-2' })).status, 'running');
  await assert.rejects(
    call('classify.start', { modelId: 'no-such-model', folder: pictures }),
    /Export a run on the Models screen/i,
  );
  await assert.rejects(call('models.export', { runId: 'no-run' }), /There is no run "no-run"/);
  await context.classify.stopAll(1000);
  assert.equal((await context.classify.get('job-2'))?.status, 'failed');
});

test('open, in a browser: the full path and a preview; no preview for a broken file; nothing outside', async () => {
  const shown = await call('files.reveal', { path: join(pictures, 'sub', 'b.png'), previewSize: 64 });
  assert.equal(shown.revealed, false);
  assert.equal(shown.path, join(pictures, 'sub', 'b.png'));
  assert.match(shown.preview ?? '', /^data:image\/png;base64,/);
  const meta = await sharp(Buffer.from((shown.preview ?? '').split(',')[1], 'base64')).metadata();
  assert.deepEqual([meta.width, meta.height], [64, 64]);
  const broken = await call('files.reveal', { path: join(pictures, 'bad.jpg') });
  assert.equal(broken.preview, null);
  assert.equal(broken.exists, true);
  assert.match(broken.previewError ?? '', /^No preview: /);
  const overlay = await call('files.reveal', {
    path: join(context.workspace.classificationsDir, JOB, 'heatmaps', 'a.png'),
  });
  assert.ok(overlay.preview);
  await assert.rejects(call('files.reveal', { path: join(dir, 'secret.png') }), /only opens/);
  await assert.rejects(call('files.reveal', { path: join(pictures, '..', 'secret.png') }), /only opens/);
  await assert.rejects(
    call('files.reveal', { path: 'a.png', datasetId: 'no-such-dataset' }),
    /no longer in the workspace/,
  );
});

test('open, on the desktop: the file manager is asked to show the file', async () => {
  const desktop = {
    ...classifyHandlers(context),
    ...fileHandlers({ ...context, shell: 'electron', showItemInFolder: (path) => revealed.push(path) }),
    ...modelHandlers(context),
  } as ApiHandlers;
  const answer = await call('files.reveal', { path: join(pictures, 'bad.jpg') }, desktop);
  assert.deepEqual([answer.revealed, answer.preview], [true, null]);
  assert.deepEqual(revealed, [join(pictures, 'bad.jpg')]);
  await assert.rejects(call('files.reveal', { path: join(dir, 'secret.png') }, desktop), /only opens/);
  assert.equal(revealed.length, 1, 'a refused file is never shown');
});
