// Requests are strict: every object a request schema accepts, at any depth, refuses keys it does not
// know (a plain z.object strips them, so `{id: 5}` passed as "no arguments"), and a missing or null
// payload counts as "no arguments" only for the methods that take none. Both transports parse through
// parseApiRequest, so what is checked here is what the WebSocket and the IPC guard accept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import {
  API,
  API_METHODS,
  dispatchApiCall,
  parseApiRequest,
  takesNoArguments,
  type ApiHandlers,
} from '../../../main/api/index.js';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
}
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The paths of every object schema under `schema` that accepts unknown keys. */
function looseObjects(schema: z.ZodType, where: string, out: string[] = []): string[] {
  const def = defOf(schema);
  if (def.type === 'object') {
    if (!def.catchall || defOf(def.catchall).type !== 'never') out.push(where);
    for (const [key, value] of Object.entries(def.shape ?? {})) looseObjects(value, `${where}.${key}`, out);
    return out;
  }
  const children = [
    def.innerType,
    def.element,
    def.in,
    def.out,
    def.left,
    def.right,
    def.valueType,
    ...(def.options ?? []),
    ...(def.items ?? []),
  ].filter((c): c is z.ZodType => c !== undefined);
  for (const child of children) looseObjects(child, where, out);
  return out;
}

test('every request schema is strict at every depth', () => {
  const loose = API_METHODS.flatMap((m) => looseObjects(API[m].request, m));
  assert.deepEqual(loose, [], 'objects that would strip unknown keys instead of refusing them');
});

test('the walker sees a loose object (the check can fail)', async () => {
  const { z } = await import('zod');
  assert.deepEqual(
    looseObjects(z.strictObject({ a: z.array(z.object({ b: z.string() })).optional() }), 'x'),
    ['x.a'],
  );
});

test('no payload (undefined or null) means "no arguments", only for the methods that take none', () => {
  const none = API_METHODS.filter(takesNoArguments);
  assert.ok(none.includes('app.info') && none.includes('datasets.list'), none.join(', '));
  assert.ok(!none.includes('folders.list'), 'folders.list has arguments, even if all are optional');
  for (const method of API_METHODS) {
    for (const payload of [undefined, null]) {
      const parsed = parseApiRequest(method, payload);
      assert.equal(parsed.success, takesNoArguments(method), `${method} ${String(payload)}`);
    }
    const unknownKey = parseApiRequest(method, { id: 5, unexpected: true });
    assert.equal(unknownKey.success, false, `${method} with an unknown key`);
  }
});

test('the dispatcher refuses unknown keys and null with bad-request, before any handler runs', async () => {
  let called = 0;
  const handlers = Object.fromEntries(
    API_METHODS.map((m) => [
      m,
      async () => {
        called++;
        return {};
      },
    ]),
  ) as unknown as ApiHandlers;
  for (const [method, payload] of [
    ['app.info', { id: 5 }],
    ['datasets.list', []],
    ['datasets.scan', null],
    ['datasets.scan', { path: '/tmp', extra: 1 }],
    ['folders.list', null],
    ['training.presets', { backbone: true, more: 1 }],
    ['training.start', { datasetId: 'd', settings: { epochs: 1, typo: 2 } }],
    ['evaluation.images', { runId: 'r', filter: { correct: true, colour: 'red' } }],
  ] as const) {
    const reply = await dispatchApiCall(handlers, method, payload);
    assert.equal(reply.ok, false, `${method} ${JSON.stringify(payload)}`);
    assert.equal(!reply.ok && reply.error.code, 'bad-request', `${method} ${JSON.stringify(payload)}`);
  }
  assert.equal(called, 0);
  assert.equal((await dispatchApiCall(handlers, 'app.info', undefined)).ok, true);
  assert.equal((await dispatchApiCall(handlers, 'app.info', {})).ok, true);
  assert.equal(called, 2);
});
