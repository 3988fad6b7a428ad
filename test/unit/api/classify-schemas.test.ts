// The classification and files parts of the contract: options take their defaults, out-of-range choices
// are refused in plain words before any handler runs, and the classify and export events parse.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  API,
  ApiEventSchema,
  ClassifyOptionsSchema,
  dispatchApiCall,
  type ApiHandlers,
  type ClassifyJob,
} from '../../../main/api/index.js';

test('classify options take their defaults; a partial choice keeps the rest', () => {
  assert.deepEqual(ClassifyOptionsSchema.parse({}), {
    heatmaps: true,
    level: 'combined',
    colormap: 'turbo',
    opacity: 0.5,
    threshold: 0,
  });
  const chosen = ClassifyOptionsSchema.parse({ level: 3, colormap: 'jet', heatmaps: false });
  assert.equal(chosen.level, 3);
  assert.equal(chosen.colormap, 'jet');
  assert.equal(chosen.opacity, 0.5);
});

test('classify.start refuses what it cannot do, with the reason', async () => {
  const seen: unknown[] = [];
  const handlers = {
    'classify.start': async (request: unknown) => {
      seen.push(request);
      throw new Error('not reached in this test');
    },
  } as unknown as ApiHandlers;
  const refused = async (payload: unknown, pattern: RegExp) => {
    const reply = await dispatchApiCall(handlers, 'classify.start', payload);
    assert.equal(reply.ok, false);
    if (!reply.ok) {
      assert.equal(reply.error.code, 'bad-request');
      assert.match(reply.error.message, pattern);
    }
  };
  await refused({ modelId: '', folder: '/pictures' }, /Choose an exported model first/);
  await refused({ modelId: 'm', folder: '   ' }, /Type or paste the path of a folder/);
  await refused({ modelId: 'm', folder: '/p', options: { opacity: 1.5 } }, /opacity is between 0 and 1/);
  await refused({ modelId: 'm', folder: '/p', options: { threshold: -0.1 } }, /threshold is between 0 and 1/);
  await refused({ modelId: 'm', folder: '/p', options: { level: 4 } }, /options\.level/);
  await refused({ modelId: 'm', folder: '/p', options: { colormap: 'viridis' } }, /options\.colormap/);
  assert.deepEqual(seen, [], 'no invalid request reached the handler');
  const ok = API['classify.start'].request.parse({ modelId: 'm', folder: ' /p ', options: { level: 2 } });
  assert.equal(ok.folder, '/p');
  assert.equal(ok.options?.colormap, 'turbo');
});

test('result pages and exports are bounded; job ids cannot name other folders', () => {
  const results = API['classify.results'].request;
  assert.equal(results.safeParse({ jobId: 'a-1', limit: 501 }).success, false);
  assert.equal(results.safeParse({ jobId: 'a-1', show: 'everything' }).success, false);
  assert.equal(results.safeParse({ jobId: '../runs', show: 'problems' }).success, false);
  assert.equal(results.safeParse({ jobId: 'a-1', show: 'uncertain', offset: 100, limit: 100 }).success, true);
  assert.equal(API['classify.export'].request.safeParse({ jobId: 'a/b', folder: '/x' }).success, false);
  assert.equal(API['files.reveal'].request.safeParse({ path: '' }).success, false);
});

test('classify and export events fit the contract; a wrong one does not', () => {
  const job: ClassifyJob = {
    id: 'j1',
    status: 'running',
    modelId: 'm',
    modelPath: '/w/models/r.onnx',
    classes: ['a', 'b'],
    folder: '/pictures',
    outDir: '/w/classifications/j1',
    options: ClassifyOptionsSchema.parse({}),
    startedAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    progress: { done: 3, total: 10, failed: 1, imagesPerSecond: 2.5, etaSeconds: null },
  };
  assert.equal(ApiEventSchema.safeParse({ type: 'classify', job }).success, true);
  assert.equal(
    ApiEventSchema.safeParse({ type: 'classify', job: { ...job, status: 'paused' } }).success,
    false,
  );
  assert.equal(
    ApiEventSchema.safeParse({ type: 'export', runId: 'r', stage: 'finished', message: 'Exported' }).success,
    true,
  );
  assert.equal(
    ApiEventSchema.safeParse({ type: 'export', runId: 'r', stage: 'halfway', message: '' }).success,
    false,
  );
});
