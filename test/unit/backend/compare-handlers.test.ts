// The comparison handlers and their job registry over a workspace made by hand, with a stand-in for the
// task worker (no training): what the worker is asked to do, the job's progress from the service's
// events, one heavy job at a time (training and a second comparison are refused while one runs, and a
// comparison while a folder is classified), the report and the HTML page of a finished comparison (and
// a refusal for a page outside its folder), cancel, a failed worker, and a comparison left running by a
// closed app. Answers are checked against the contract.
import { BackboneLibrary } from '../../../main/services/backbone/backbone-library.js';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import {
  type ApiEvent,
  type ApiHandlers,
  type ApiMethod,
  type ApiRequest,
  type ApiResponse,
  type CompareEvent,
} from '../../../main/api/index.js';
import {
  ClassifyJobs,
  CompareJobs,
  InferenceClient,
  TrainingJobs,
  type TaskOrder,
} from '../../../main/services/jobs/index.js';
import type { BackendContext } from '../../../main/backend/backend-context.js';
import { classifyHandlers } from '../../../main/backend/handlers/classify-handlers.js';
import { compareHandlers } from '../../../main/backend/handlers/compare-handlers.js';
import { trainingHandlers } from '../../../main/backend/handlers/training-handlers.js';
import { Workspace } from '../../../main/backend/workspace.js';
import { callHandler } from '../../helpers/handler-call.js';

/** A task worker that does nothing by itself: the test says what it reports. */
class FakeWorker extends EventEmitter {
  readonly posted: unknown[] = [];
  constructor(readonly order: TaskOrder) {
    super();
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  report(event: CompareEvent): void {
    this.emit('message', { type: 'compare-event', event });
  }
  end(outcome: unknown): void {
    this.emit('message', { type: 'outcome', outcome });
    this.emit('exit', 0);
  }
  async terminate(): Promise<number> {
    this.emit('exit', 1);
    return 1;
  }
}

let dir: string;
let workspace: Workspace;
let handlers: ApiHandlers;
let compare: CompareJobs;
let classify: ClassifyJobs;
const workers: FakeWorker[] = [];
const events: ApiEvent[] = [];

const call = <M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResponse<M>> =>
  callHandler(handlers, method, request);

const step = (globalStep: number, epoch = 0, step = globalStep) => ({
  type: 'step' as const,
  epoch,
  step,
  stepsPerEpoch: 4,
  globalStep,
  loss: 1,
  accuracy: 0.5,
  lr: 0.01,
  imagesPerSecond: 80,
  etaSeconds: 1,
});

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-compare-handlers-'));
  workspace = await Workspace.open(join(dir, 'workspace'));
  await mkdir(join(dir, 'shapes'));
  await workspace.saveDataset({
    id: 'shapes-1',
    name: 'shapes',
    path: join(dir, 'shapes'),
    addedAt: new Date().toISOString(),
  });
  const fakeFactory = (order: TaskOrder) => {
    const worker = new FakeWorker(order);
    workers.push(worker);
    return worker as unknown as Worker;
  };
  classify = new ClassifyJobs({
    rootDir: workspace.classificationsDir,
    onChange: () => undefined,
    createWorker: fakeFactory,
  });
  compare = new CompareJobs({
    rootDir: workspace.comparisonsDir,
    onChange: (job) => events.push({ type: 'compare-job', job }),
    onEvent: (compareId, event) => events.push({ type: 'compare', compareId, event }),
    createWorker: fakeFactory,
  });
  const context: BackendContext = {
    workspace,
    jobs: new TrainingJobs({
      onEvent: () => undefined,
      createWorker: () => {
        throw new Error('no training may start in this test');
      },
    }),
    inference: new InferenceClient(),
    classify,
    compare,
    backbones: new BackboneLibrary(workspace.root),
    shell: 'browser',
    emit: (event) => events.push(event),
  };
  const { summary: _summary, ...training } = trainingHandlers(context);
  handlers = { ...training, ...classifyHandlers(context), ...compareHandlers(context) } as ApiHandlers;
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('an unknown dataset is refused', async () => {
  await assert.rejects(call('compare.start', { datasetId: 'nope' }), { code: 'not-found' });
});

test('a comparison runs in a task worker: progress from its events, one heavy job at a time, then its report', async () => {
  const job = await call('compare.start', {
    datasetId: 'shapes-1',
    preset: 'quick',
    settings: { inputSize: 32, width: 0.0625, epochs: 2, seed: 3 },
    timeLimitMinutes: 0.5,
    explainImages: 4,
  });
  assert.equal(job.status, 'running');
  assert.deepEqual(job.budget, { kind: 'time', seconds: 30, epochs: 2 });
  assert.equal(job.outDir, join(workspace.comparisonsDir, job.id));
  const worker = workers.at(-1) as FakeWorker;
  assert.deepEqual(worker.order, {
    kind: 'compare',
    folder: join(dir, 'shapes'),
    outDir: job.outDir,
    options: {
      training: { inputSize: 32, width: 0.0625, epochs: 2, seed: 3 },
      preset: 'quick',
      timeLimitSeconds: 30,
      explainImages: 4,
    },
  });

  // While it runs, nothing else heavy may start; the message says what runs.
  await assert.rejects(call('training.start', { datasetId: 'shapes-1' }), (e: Error & { code: string }) => {
    assert.equal(e.code, 'conflict');
    assert.match(e.message, new RegExp(`comparison "${job.id}" is running`));
    return true;
  });
  await assert.rejects(call('compare.start', { datasetId: 'shapes-1' }), { code: 'conflict' });
  await assert.rejects(call('compare.html', { compareId: job.id }), { code: 'not-available' });

  // The service's events move the job along: the first model is the first half of the bar.
  worker.report({
    type: 'model-started',
    model: 'attention',
    index: 0,
    runDir: join(job.outDir, 'attention'),
  });
  worker.report({
    type: 'training',
    model: 'attention',
    event: {
      type: 'started',
      runDir: join(job.outDir, 'attention'),
      backend: 'wasm',
      classes: ['a', 'b'],
      trainImages: 32,
      valImages: 8,
      epochs: 2,
      stepsPerEpoch: 4,
    },
  });
  worker.report({ type: 'training', model: 'attention', event: step(4, 0, 4) });
  let running = (await call('compare.get', { compareId: job.id })).job;
  assert.equal(running.model, 'attention');
  assert.equal(running.models.attention.state, 'training');
  assert.deepEqual([running.models.attention.step, running.models.attention.stepsPerEpoch], [4, 4]);
  assert.equal(running.models.plain.state, 'waiting');
  // Half of the first model's training: a quarter of the two trainings (95 % of the bar).
  assert.ok(Math.abs(running.fraction - 0.95 * 0.25) < 1e-9, `fraction ${running.fraction}`);
  worker.report({ type: 'model-finished', model: 'attention', status: 'completed', accuracy: 0.75 });
  worker.report({ type: 'phase', phase: 'exporting' });
  running = (await call('compare.get', { compareId: job.id })).job;
  assert.equal(running.models.attention.accuracy, 0.75);
  assert.deepEqual([running.model, running.phase], [null, 'exporting']);
  assert.ok(
    Math.abs(running.fraction - (0.95 * 0.5 + 0.05 * (2 / 6))) < 1e-9,
    `fraction ${running.fraction}`,
  );
  const forwarded = events.filter((e) => e.type === 'compare' && e.compareId === job.id);
  assert.equal(forwarded.length, 5, 'every service event reaches the UI');

  // The worker ends: the report it wrote is answered, and its page.
  const reportPath = join(job.outDir, 'compare.json');
  const htmlPath = join(job.outDir, 'compare.html');
  await copyFile(new URL('../../../docs/compare-example.json', import.meta.url), reportPath);
  await writeFile(htmlPath, '<!doctype html><title>report</title><p>Attention helped');
  worker.end({ type: 'compared', status: 'completed', reportPath, htmlPath, verdict: 'Attention helped.' });
  await compare.whenEnded(job.id);
  const details = await call('compare.get', { compareId: job.id });
  assert.equal(details.job.status, 'completed');
  assert.equal(details.job.message, 'Attention helped.');
  assert.equal(details.job.fraction, 1);
  const example = JSON.parse(await readFile(reportPath, 'utf8')) as { verdict: { text: string } };
  assert.equal(details.report?.verdict.text, example.verdict.text);
  assert.deepEqual(details.history.attention, { steps: [], epochs: [] });
  const page = await call('compare.html', { compareId: job.id });
  assert.deepEqual(page, { path: htmlPath, html: await readFile(htmlPath, 'utf8') });
  const listed = await call('compare.list', {});
  assert.deepEqual(
    listed.map((j) => [j.id, j.status]),
    [[job.id, 'completed']],
  );
  const onDisk = JSON.parse(await readFile(join(job.outDir, 'job.json'), 'utf8')) as { status: string };
  assert.equal(onDisk.status, 'completed');

  // A record that names a page outside the comparison's folder is refused.
  const secret = join(dir, 'secret.html');
  await writeFile(secret, 'not for the UI');
  const record = JSON.parse(await readFile(join(job.outDir, 'job.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(job.outDir, 'job.json'), JSON.stringify({ ...record, htmlPath: secret }));
  await assert.rejects(call('compare.html', { compareId: job.id }), { code: 'refused' });
});

test('cancel asks the worker to stop; the job ends cancelled without a report', async () => {
  const job = await call('compare.start', { datasetId: 'shapes-1', settings: { epochs: 1 } });
  assert.deepEqual(job.budget, { kind: 'epochs', epochs: 1 });
  const worker = workers.at(-1) as FakeWorker;
  await call('compare.cancel', { compareId: job.id });
  assert.deepEqual(worker.posted, [{ type: 'cancel' }]);
  worker.end({ type: 'compared', status: 'cancelled' });
  await compare.whenEnded(job.id);
  const details = await call('compare.get', { compareId: job.id });
  assert.equal(details.job.status, 'cancelled');
  assert.match(details.job.message ?? '', /no report was written/);
  assert.equal(details.report, null);
  await assert.rejects(call('compare.html', { compareId: job.id }), { code: 'not-available' });
});

test('a worker that fails ends the job failed with its message', async () => {
  const job = await call('compare.start', { datasetId: 'shapes-1' });
  const worker = workers.at(-1) as FakeWorker;
  worker.emit('message', { type: 'error', message: 'The dataset has only one class.' });
  worker.emit('exit', 1);
  await compare.whenEnded(job.id);
  const details = await call('compare.get', { compareId: job.id });
  assert.equal(details.job.status, 'failed');
  assert.equal(details.job.message, 'The dataset has only one class.');
});

test('a comparison is refused while a folder is being classified', async () => {
  await classify.start({
    id: 'classify-1',
    modelId: 'm',
    modelPath: join(dir, 'm.onnx'),
    classes: ['a', 'b'],
    folder: dir,
    options: { heatmaps: false, level: 1, colormap: 'jet', opacity: 0.5, threshold: 0 },
  });
  await assert.rejects(call('compare.start', { datasetId: 'shapes-1' }), {
    code: 'conflict',
    message: /A folder is being classified now/,
  });
  await classify.stopAll(100);
  await classify.whenEnded('classify-1');
  const job = await call('compare.start', { datasetId: 'shapes-1' });
  assert.equal(job.status, 'running', 'accepted once the classification has ended');
  await compare.stopAll(100);
  await compare.whenEnded(job.id);
});

test('a comparison left running by a closed app reads as cancelled', async () => {
  const id = 'compare-left-running';
  const outDir = join(workspace.comparisonsDir, id);
  await mkdir(outDir, { recursive: true });
  const stamp = new Date().toISOString();
  await writeFile(
    join(outDir, 'job.json'),
    JSON.stringify({
      format: 'attnvgg-compare-job/1',
      id,
      status: 'running',
      datasetId: 'shapes-1',
      datasetName: 'shapes',
      dataset: join(dir, 'shapes'),
      preset: null,
      settings: {},
      budget: { kind: 'epochs', epochs: 5 },
      outDir,
      startedAt: stamp,
      updatedAt: stamp,
      model: 'plain',
      phase: null,
      models: {
        attention: { state: 'finished', epoch: 5, epochs: 5, step: 0, stepsPerEpoch: 4, accuracy: 0.5 },
        plain: { state: 'training', epoch: 1, epochs: 5, step: 2, stepsPerEpoch: 4, accuracy: null },
      },
      fraction: 0.6,
      htmlPath: null,
      reportPath: null,
      warnings: [],
    }),
  );
  const details = await call('compare.get', { compareId: id });
  assert.equal(details.job.status, 'cancelled');
  assert.equal(details.job.model, null);
  assert.match(details.job.message ?? '', /app was closed/);
  await assert.rejects(call('compare.get', { compareId: 'no-such-comparison' }), { code: 'not-found' });
});
