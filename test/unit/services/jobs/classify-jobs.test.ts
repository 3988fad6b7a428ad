// Classification jobs: the record is written when a job starts and ends, progress is announced (not
// more often than a few times a second), cancel reaches the worker, a worker that dies says why, one
// job at a time, and a record left 'running' by a closed app reads back as cancelled.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import {
  ClassifyJobConflictError,
  ClassifyJobs,
  JOB_FILE,
  type ClassifyJobRecord,
  type TaskOrder,
} from '../../../../main/services/jobs/index.js';

class FakeWorker extends EventEmitter {
  posted: unknown[] = [];
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  async terminate(): Promise<number> {
    this.emit('exit', 1);
    return 1;
  }
}

const OPTIONS = { heatmaps: true, level: 'combined', colormap: 'turbo', opacity: 0.5, threshold: 0 } as const;

async function setUp() {
  const dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-classify-jobs-'));
  const changes: ClassifyJobRecord[] = [];
  const workers: FakeWorker[] = [];
  const orders: TaskOrder[] = [];
  const jobs = new ClassifyJobs({
    rootDir: dir,
    onChange: (job) => changes.push(job),
    createWorker: (order) => {
      orders.push(order);
      const worker = new FakeWorker();
      workers.push(worker);
      return worker as unknown as Worker;
    },
  });
  const order = (id: string) => ({
    id,
    modelId: 'model-1',
    modelPath: '/w/models/r.onnx',
    classes: ['a', 'b'],
    folder: '/pictures',
    options: { ...OPTIONS },
  });
  return {
    dir,
    changes,
    workers,
    orders,
    jobs,
    order,
    done: () => rm(dir, { recursive: true, force: true }),
  };
}

const progress = (done: number, total: number) => ({
  type: 'progress',
  progress: { done, total, failed: 0, resumed: 0, imagesPerSecond: 4, etaSeconds: done === 0 ? Infinity : 1 },
});

test('a job runs to its end: record written at start and end, progress announced, summary kept', async () => {
  const t = await setUp();
  try {
    const started = await t.jobs.start(t.order('j1'));
    assert.equal(started.status, 'running');
    assert.deepEqual(t.orders[0], {
      kind: 'classify',
      modelPath: '/w/models/r.onnx',
      inputs: ['/pictures'],
      outDir: join(t.dir, 'j1'),
      options: OPTIONS,
      saveEverySeconds: 2,
    });
    const onDisk = JSON.parse(await readFile(join(t.dir, 'j1', JOB_FILE), 'utf8')) as ClassifyJobRecord;
    assert.equal(onDisk.status, 'running');
    await assert.rejects(t.jobs.start(t.order('j2')), ClassifyJobConflictError);

    const worker = t.workers[0];
    worker.emit('message', progress(0, 10));
    for (let i = 1; i <= 9; i++) worker.emit('message', progress(i, 10)); // within 250 ms: not announced
    worker.emit('message', progress(10, 10)); // the last one always is
    const announced = t.changes.filter((c) => c.status === 'running').map((c) => c.progress.done);
    assert.deepEqual(announced, [0, 0, 10]);
    assert.equal(t.changes[1].progress.etaSeconds, null, 'Infinity travels as null');
    assert.equal((await t.jobs.get('j1'))?.progress.done, 10);

    worker.emit('message', {
      type: 'outcome',
      outcome: {
        type: 'classified',
        status: 'completed',
        summary: {
          images: 10,
          ok: 9,
          failed: 1,
          uncertain: 0,
          byLabel: { a: 5, b: 4 },
          seconds: 2.5,
          imagesPerSecond: 4,
        },
      },
    });
    worker.emit('exit', 0);
    await t.jobs.whenEnded('j1');
    const ended = t.changes.at(-1);
    assert.equal(ended?.status, 'completed');
    assert.match(ended?.message ?? '', /Classified 9 of 10 files .*1 could not be used/);
    assert.deepEqual(ended?.summary?.byLabel, { a: 5, b: 4 });
    const record = JSON.parse(await readFile(join(t.dir, 'j1', JOB_FILE), 'utf8')) as ClassifyJobRecord;
    assert.equal(record.status, 'completed');
    assert.equal(t.jobs.isRunning('j1'), false);
    assert.deepEqual(
      (await t.jobs.list()).map((j) => j.id),
      ['j1'],
    );
  } finally {
    await t.done();
  }
});

test('cancel reaches the worker; a cancelled job says its results are kept', async () => {
  const t = await setUp();
  try {
    await t.jobs.start(t.order('j1'));
    assert.equal(t.jobs.cancel('j1'), true);
    assert.deepEqual(t.workers[0].posted, [{ type: 'cancel' }]);
    t.workers[0].emit('message', progress(3, 10));
    t.workers[0].emit('message', {
      type: 'outcome',
      outcome: {
        type: 'classified',
        status: 'cancelled',
        summary: {
          images: 3,
          ok: 3,
          failed: 0,
          uncertain: 0,
          byLabel: { a: 3 },
          seconds: 1,
          imagesPerSecond: 3,
        },
      },
    });
    t.workers[0].emit('exit', 0);
    await t.jobs.whenEnded('j1');
    const job = await t.jobs.get('j1');
    assert.equal(job?.status, 'cancelled');
    assert.match(job?.message ?? '', /after 3 of 10 files; the results so far are kept/);
    assert.equal(t.jobs.cancel('j1'), false, 'nothing to cancel any more');
  } finally {
    await t.done();
  }
});

test("a worker that stops without an outcome fails the job with the worker's words", async () => {
  const t = await setUp();
  try {
    await t.jobs.start(t.order('j1'));
    t.workers[0].emit('message', { type: 'error', message: 'The model file is damaged.' });
    t.workers[0].emit('exit', 0);
    await t.jobs.whenEnded('j1');
    assert.equal((await t.jobs.get('j1'))?.status, 'failed');
    assert.equal((await t.jobs.get('j1'))?.message, 'The model file is damaged.');

    await t.jobs.start(t.order('j2'));
    t.workers[1].emit('exit', 137);
    await t.jobs.whenEnded('j2');
    assert.match((await t.jobs.get('j2'))?.message ?? '', /stopped before it finished \(exit code 137\)/);
  } finally {
    await t.done();
  }
});

test("a record left 'running' by a closed app reads back as cancelled; unreadable folders are ignored", async () => {
  const t = await setUp();
  try {
    const stale: ClassifyJobRecord = {
      format: 'attnvgg-classify-job/1',
      ...t.order('old'),
      status: 'running',
      outDir: join(t.dir, 'old'),
      startedAt: new Date(1000).toISOString(),
      updatedAt: new Date(1000).toISOString(),
      progress: { done: 1, total: 5, failed: 0, imagesPerSecond: 1, etaSeconds: 4 },
    };
    await mkdir(join(t.dir, 'old'));
    await writeFile(join(t.dir, 'old', JOB_FILE), JSON.stringify(stale));
    await mkdir(join(t.dir, 'junk'));
    await writeFile(join(t.dir, 'junk', JOB_FILE), '{ not json');
    const [job] = await t.jobs.list();
    assert.equal(job.id, 'old');
    assert.equal(job.status, 'cancelled');
    assert.match(job.message ?? '', /closed while/);
    assert.equal((await t.jobs.list()).length, 1);
  } finally {
    await t.done();
  }
});
