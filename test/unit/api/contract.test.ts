// The API contract: requests are validated where they enter the Node side, with messages a person can
// act on; failures come back as replies, never as exceptions; the client turns them into ApiErrors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  API,
  API_METHODS,
  ApiError,
  ApiEventSchema,
  TrainingEventSchema,
  createApiClient,
  dispatchApiCall,
  type ApiHandlers,
  type ApiReply,
} from '../../../main/api/index.js';

/** Handlers that fail loudly unless a test replaces them. */
function handlers(overrides: Partial<ApiHandlers>): ApiHandlers {
  const all = Object.fromEntries(
    API_METHODS.map((m) => [m, async () => Promise.reject(new Error(`${m} was not expected`))]),
  );
  return { ...all, ...overrides } as ApiHandlers;
}

test('every method has a request and a response schema and a summary', () => {
  assert.ok(API_METHODS.length >= 20);
  for (const m of API_METHODS) {
    assert.match(m, /^[a-z]+\.[a-zA-Z]+$/, `${m} follows area.action`);
    assert.ok(API[m].request && API[m].response && API[m].summary.length > 5);
  }
});

test('a valid request reaches its handler, parsed', async () => {
  let seen: unknown;
  const reply = await dispatchApiCall(
    handlers({
      'datasets.scan': async (request) => {
        seen = request;
        return Promise.reject(new ApiError('not-found', 'There is no folder at /nowhere.'));
      },
    }),
    'datasets.scan',
    { path: '  /nowhere  ' },
  );
  assert.deepEqual(seen, { path: '/nowhere' }, 'paths are trimmed');
  assert.deepEqual(reply, {
    ok: false,
    error: { code: 'not-found', message: 'There is no folder at /nowhere.' },
  });
});

test('invalid requests are refused with the reason, before any handler runs', async () => {
  const h = handlers({});
  const cases: [string, unknown, RegExp][] = [
    ['datasets.scan', { path: '' }, /Type or paste the path of a folder/],
    ['datasets.scan', {}, /path/],
    ['training.start', { datasetId: 'd', settings: { inputSize: 33 } }, /multiple of 32/],
    ['training.start', { datasetId: 'd', preset: 'turbo' }, /preset/],
    [
      'training.start',
      { datasetId: 'd', settings: { featureCachePrecision: 'float64' } },
      /settings\.featureCachePrecision: .*"float16"\|"float32"/,
    ],
    ['training.pause', { runId: '../../etc' }, /letters, digits/],
    ['evaluation.images', { runId: 'r', limit: 100000 }, /limit/],
    ['datasets.thumbnails', { paths: new Array(201).fill('a.png') }, /paths/],
  ];
  for (const [method, payload, pattern] of cases) {
    const reply = await dispatchApiCall(h, method, payload);
    assert.equal(reply.ok, false, `${method} ${JSON.stringify(payload).slice(0, 60)}`);
    if (!reply.ok) {
      assert.equal(reply.error.code, 'bad-request');
      assert.match(reply.error.message, pattern);
    }
  }
});

test('training.start takes the feature cache precision float16 or float32 to its handler', async () => {
  for (const featureCachePrecision of ['float16', 'float32']) {
    let seen: unknown;
    await dispatchApiCall(
      handlers({
        'training.start': async (request) => {
          seen = request.settings?.featureCachePrecision;
          return Promise.reject(new ApiError('not-found', 'no dataset'));
        },
      }),
      'training.start',
      { datasetId: 'd', settings: { featureCachePrecision } },
    );
    assert.equal(seen, featureCachePrecision);
  }
});

test('unknown methods and prototype names are refused', async () => {
  for (const method of ['nope', 'toString', '__proto__', 42, null]) {
    const reply = await dispatchApiCall(handlers({}), method, {});
    assert.equal(reply.ok, false);
    if (!reply.ok) assert.match(reply.error.message, /Unknown API method/);
  }
});

test('handler failures become replies with plain messages; answers can be checked against the contract', async () => {
  const h = handlers({
    'datasets.list': async () => {
      throw new Error('The disk is full.');
    },
    'training.runs': async () => [{ id: 'x' }] as never,
  });
  assert.deepEqual(await dispatchApiCall(h, 'datasets.list', {}), {
    ok: false,
    error: { code: 'failed', message: 'The disk is full.' },
  });
  const unchecked = await dispatchApiCall(h, 'training.runs', {});
  assert.equal(unchecked.ok, true);
  const checked = await dispatchApiCall(h, 'training.runs', {}, { checkResponses: true });
  assert.equal(checked.ok, false);
  if (!checked.ok) assert.match(checked.error.message, /does not match the contract/);
});

test('the client returns results and throws ApiError with the code and message', async () => {
  const replies: ApiReply[] = [
    { ok: true, result: [] },
    { ok: false, error: { code: 'conflict', message: 'A run is training now.' } },
  ];
  const client = createApiClient({
    name: 'websocket',
    send: async () => replies.shift() as ApiReply,
    subscribe: () => () => undefined,
  });
  assert.deepEqual(await client.call('datasets.list', {}), []);
  await assert.rejects(client.call('training.runs', {}), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, 'conflict');
    assert.equal(error.message, 'A run is training now.');
    return true;
  });
});

test('training events and pushed events parse; a wrong one does not', () => {
  const events = [
    {
      type: 'started',
      runDir: '/r',
      backend: 'wasm',
      classes: ['a'],
      trainImages: 1,
      valImages: 1,
      epochs: 1,
      stepsPerEpoch: 1,
    },
    {
      type: 'step',
      epoch: 0,
      step: 1,
      stepsPerEpoch: 1,
      globalStep: 1,
      loss: 1,
      accuracy: 0.5,
      lr: 0.1,
      imagesPerSecond: 10,
      etaSeconds: 3,
    },
    {
      type: 'epoch',
      epoch: 0,
      epochs: 1,
      trainLoss: 1,
      trainAccuracy: 0.5,
      valLoss: 1,
      valAccuracy: 0.5,
      trainSeconds: 1,
      improved: true,
    },
    { type: 'checkpoint', path: '/c', epoch: 1, stepInEpoch: 0 },
    { type: 'skipped-file', path: 'a.png', reason: 'corrupt', message: 'damaged' },
    { type: 'warning', message: 'w' },
    { type: 'evaluated', split: 'test', accuracy: 1, images: 2, path: '/e' },
    { type: 'finished', status: 'completed', runDir: '/r', message: 'done' },
  ];
  for (const event of events) {
    assert.ok(TrainingEventSchema.safeParse(event).success, event.type);
    assert.ok(ApiEventSchema.safeParse({ type: 'training', runId: 'r', event }).success);
  }
  assert.equal(
    TrainingEventSchema.safeParse({ type: 'finished', status: 'exploded', runDir: '/r', message: '' })
      .success,
    false,
  );
  assert.equal(TrainingEventSchema.safeParse({ type: 'step', epoch: 0 }).success, false);
});
