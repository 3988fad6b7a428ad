// The comparison part of the API contract: the report schema is one definition (the service checks its
// compare.json against the API's schema), the example report of the docs passes it, requests to start a
// comparison are refused with reasons before any handler runs, and the service's events travel as API
// events.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import {
  API,
  ApiEventSchema,
  CompareEventSchema,
  CompareReportSchema,
  dispatchApiCall,
  type ApiHandlers,
  API_METHODS,
} from '../../../main/api/index.js';
import { compareReportSchema, parseCompareReport } from '../../../main/services/compare/compare-report.js';

const example = async (): Promise<unknown> =>
  JSON.parse(await readFile(new URL('../../../docs/compare-example.json', import.meta.url), 'utf8'));

test('the report schema is defined once, in the API, and the service checks against it', async () => {
  assert.equal(compareReportSchema, CompareReportSchema);
  const report = parseCompareReport(await example());
  assert.deepEqual(CompareReportSchema.parse(await example()), report);
  assert.equal(report.format, 'attnvgg-compare/1');
  // What the Compare screen reads: a changed report is refused with where it is wrong.
  const broken = (await example()) as { models: { plain: { evaluation: { accuracy: number } } } };
  broken.models.plain.evaluation.accuracy = 1.5;
  assert.throws(() => parseCompareReport(broken), /models\.plain\.evaluation\.accuracy/);
});

function refusing(): ApiHandlers {
  return Object.fromEntries(
    API_METHODS.map((m) => [m, async () => Promise.reject(new Error(`${m} was not expected`))]),
  ) as unknown as ApiHandlers;
}

test('compare requests are checked before any handler runs, with reasons a person can act on', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['compare.start', {}, /datasetId/],
    ['compare.start', { datasetId: 'd', timeLimitMinutes: 0 }, /positive number of minutes/],
    ['compare.start', { datasetId: 'd', timeLimitMinutes: -5 }, /positive number of minutes/],
    ['compare.start', { datasetId: 'd', settings: { inputSize: 40 } }, /multiple of 32/],
    // Attention is what is compared: it is set per model, never by the request.
    ['compare.start', { datasetId: 'd', settings: { attention: false } }, /attention/],
    ['compare.start', { datasetId: 'd', explainImages: 0 }, /explainImages/],
    ['compare.start', { datasetId: 'd', preset: 'turbo' }, /preset/],
    ['compare.get', { compareId: '../../etc' }, /letters, digits/],
    ['compare.html', { compareId: '' }, /compareId/],
    ['compare.cancel', {}, /compareId/],
  ];
  for (const [method, payload, reason] of cases) {
    const reply = await dispatchApiCall(refusing(), method, payload);
    assert.equal(reply.ok, false, `${method} ${JSON.stringify(payload)}`);
    if (!reply.ok) {
      assert.equal(reply.error.code, 'bad-request');
      assert.match(reply.error.message, reason);
    }
  }
});

test('a valid start request reaches the handler with minutes and settings as sent', async () => {
  let seen: unknown;
  const handlers = {
    ...refusing(),
    'compare.start': async (request: unknown) => {
      seen = request;
      return Promise.reject(new Error('stop here'));
    },
  } as ApiHandlers;
  await dispatchApiCall(handlers, 'compare.start', {
    datasetId: 'shapes-1',
    preset: 'quick',
    settings: { epochs: 3, seed: 7 },
    timeLimitMinutes: 1.5,
  });
  assert.deepEqual(seen, {
    datasetId: 'shapes-1',
    preset: 'quick',
    settings: { epochs: 3, seed: 7 },
    timeLimitMinutes: 1.5,
  });
  assert.ok(API['compare.list'].summary.length > 5);
});

test("the service's events travel as API events, and malformed ones are refused", () => {
  const step = {
    type: 'step',
    epoch: 0,
    step: 1,
    stepsPerEpoch: 3,
    globalStep: 1,
    loss: 1.1,
    accuracy: 0.4,
    lr: 0.002,
    imagesPerSecond: 50,
    etaSeconds: 3,
  };
  const events = [
    {
      type: 'compare-started',
      outDir: '/w/c',
      dataset: '/d',
      budget: { kind: 'time', seconds: 60, epochs: 5 },
      models: ['attention', 'plain'],
    },
    { type: 'model-started', model: 'plain', index: 1, runDir: '/w/c/plain' },
    { type: 'training', model: 'attention', event: step },
    { type: 'budget-reached', model: 'attention', seconds: 61, epoch: 2, step: 1 },
    { type: 'model-finished', model: 'plain', status: 'cancelled', accuracy: null },
    { type: 'phase', phase: 'timing-inference' },
    { type: 'finished', status: 'cancelled', message: 'stopped' },
  ];
  for (const event of events) {
    assert.deepEqual(CompareEventSchema.parse(event), event);
    assert.ok(ApiEventSchema.safeParse({ type: 'compare', compareId: 'c1', event }).success, event.type);
  }
  assert.equal(
    CompareEventSchema.safeParse({ type: 'model-started', model: 'vgg', index: 0, runDir: '' }).success,
    false,
  );
  assert.equal(CompareEventSchema.safeParse({ type: 'phase', phase: 'dreaming' }).success, false);
  assert.equal(
    CompareEventSchema.safeParse({ type: 'budget-reached', model: 'plain', seconds: 1, epoch: 0 }).success,
    false,
  );
});
