// The IPC checks of the desktop window (main/electron/ipc-guard.ts), run in plain Node without the
// Electron binary: which pages and frames may call, which method names and payloads are refused before
// the backend sees them, and that refusals are replies in words, never exceptions or pollution.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { APP_INDEX_URL } from '../../../main/electron/app-scheme.js';
import type { ApiReply } from '../../../main/api/index.js';
import {
  IPC_LIMITS,
  createIpcGuard,
  fromOwnPage,
  payloadProblem,
  senderProblem,
  type IpcSenderFrame,
} from '../../../main/electron/ipc-guard.js';

const RENDERER = join('/opt', 'attnvgg', 'renderer');
const OWN = APP_INDEX_URL;
/** Where the page was before app://: the renderer's index.html as a file. */
const OWN_AS_FILE = pathToFileURL(join(RENDERER, 'index.html')).href;

const mainFrame = (url: string): IpcSenderFrame => ({ url, parent: null, detached: false });

function recordingGuard(reply: ApiReply = { ok: true, result: 'handled' }) {
  const calls: { method: string; payload: unknown }[] = [];
  const guard = createIpcGuard({
    call: async (method, payload) => {
      calls.push({ method, payload });
      return reply;
    },
  });
  return { guard, calls };
}

function refusal(reply: ApiReply, code: string, pattern: RegExp): void {
  assert.equal(reply.ok, false, JSON.stringify(reply));
  if (reply.ok) return;
  assert.equal(reply.error.code, code, reply.error.message);
  assert.match(reply.error.message, pattern);
}

describe('fromOwnPage: only pages of the app:// origin', () => {
  it('accepts the app page, with a query or a hash route', () => {
    assert.equal(OWN, 'app://attnvgg/index.html');
    assert.equal(fromOwnPage(OWN), true);
    assert.equal(fromOwnPage(`${OWN}#/classify`), true);
    assert.equal(fromOwnPage(`${OWN}?theme=dark`), true);
    assert.equal(fromOwnPage('app://attnvgg/sub/page.html'), true);
  });

  it('refuses other origins, file:// pages (the renderer folder’s own included) and look-alikes', () => {
    const root = pathToFileURL(RENDERER).href;
    for (const url of [
      OWN_AS_FILE, // the page as it was loaded before app://
      'app://evil/index.html',
      'app://attnvgg.evil.example/index.html',
      'app://attnvggx/index.html',
      'app://attnvgg:8080/index.html',
      'app://user:pw@attnvgg/index.html',
      'app:attnvgg/index.html',
      'app:///index.html',
      'apps://attnvgg/index.html',
      'https://attnvgg/index.html',
      undefined,
      '',
      'not a url',
      'https://evil.example/index.html',
      'http://127.0.0.1:8080/index.html',
      'http://localhost/opt/attnvgg/renderer/index.html',
      'devtools://devtools/bundled/inspector.html',
      'chrome-extension://abc/opt/attnvgg/renderer/index.html',
      'about:blank',
      'data:text/html,<script>1</script>',
      'javascript:alert(1)',
      'file:///tmp/evil.html', // a file:// page other than ours
      pathToFileURL(join(RENDERER, '..', 'renderer-evil', 'index.html')).href, // shares the prefix
      `${root}-evil/index.html`,
      `${root}/../evil.html`,
      `${root}/%2e%2e/evil.html`,
      `${root}/..%2fevil.html`, // an encoded slash
      `${root}/sub%2f..%2f..%2fevil.html`,
      root, // the folder itself
      `${root}/`,
      `file://fileserver${RENDERER}/index.html`, // a network share with the same path
      `file://user:pw@${RENDERER}/index.html`,
    ])
      assert.equal(fromOwnPage(url), false, String(url));
  });
});

describe('senderProblem: the main frame of our page, still there', () => {
  it('accepts the main frame of our page', () => {
    assert.equal(senderProblem(mainFrame(OWN)), null);
    assert.equal(senderProblem({ url: OWN, parent: null }), null, 'Electron without `detached`');
  });

  it('refuses a missing, detached, navigated, foreign or nested frame', () => {
    assert.match(senderProblem(null) ?? '', /gone/);
    assert.match(senderProblem(undefined) ?? '', /gone/);
    assert.match(senderProblem({ url: OWN, parent: null, detached: true }) ?? '', /navigated/);
    // A frame that was ours and navigated elsewhere reports its new URL.
    assert.match(senderProblem(mainFrame('https://evil.example/')) ?? '', /not one of the app/);
    assert.match(senderProblem(mainFrame('file:///home/user/Downloads/x.html')) ?? '', /not one/);
    // An iframe, even one showing our own page (our CSP allows none; a page that got one cannot call).
    assert.match(senderProblem({ url: OWN, parent: mainFrame(OWN) }) ?? '', /frames inside a page/);
  });
});

describe('createIpcGuard: refusals never reach the backend', () => {
  it('passes a valid call from our page to the backend unchanged', async () => {
    const { guard, calls } = recordingGuard();
    assert.deepEqual(await guard(mainFrame(OWN), 'datasets.scan', { path: '/data/pets' }), {
      ok: true,
      result: 'handled',
    });
    assert.deepEqual(await guard(mainFrame(OWN), 'app.info', undefined), { ok: true, result: 'handled' });
    assert.deepEqual(calls, [
      { method: 'datasets.scan', payload: { path: '/data/pets' } },
      { method: 'app.info', payload: undefined },
    ]);
  });

  it('refuses calls from another origin, another file:// page, a navigated or a nested frame', async () => {
    const { guard, calls } = recordingGuard();
    const payload = { path: '/data/pets' };
    for (const frame of [
      mainFrame('https://evil.example/'),
      mainFrame('file:///tmp/evil.html'),
      mainFrame(OWN_AS_FILE),
      { url: OWN, parent: null, detached: true },
      { url: OWN, parent: {} },
      null,
    ])
      refusal(await guard(frame, 'datasets.scan', payload), 'refused', /only from the app's own page/);
    assert.deepEqual(calls, []);
  });

  it('refuses unknown methods, including names that exist on every object', async () => {
    const { guard, calls } = recordingGuard();
    for (const method of [
      'datasets.nope',
      'nope',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'datasets.__proto__',
      'app.info ',
      'APP.INFO',
      'a'.repeat(1_000_000),
      42,
      null,
      undefined,
      { toString: () => 'app.info' },
      ['app.info'],
    ]) {
      const reply = await guard(mainFrame(OWN), method, {});
      refusal(reply, 'bad-request', /Unknown API method/);
      if (!reply.ok) assert.ok(reply.error.message.length < 200, 'a huge name is not echoed back whole');
    }
    assert.deepEqual(calls, []);
  });

  it('refuses hostile payloads before the backend and leaves Object.prototype clean', async () => {
    const { guard, calls } = recordingGuard();
    let deep: unknown = { path: '/x' };
    for (let i = 0; i < 100; i++) deep = { path: '/x', nested: deep };
    const cases: [string, unknown, RegExp][] = [
      [
        'datasets.scan',
        JSON.parse('{"path":"/x","__proto__":{"polluted":true}}'),
        /forbidden key "__proto__"/,
      ],
      ['datasets.scan', { path: '/x', constructor: { prototype: { polluted: true } } }, /"constructor"/],
      ['datasets.thumbnails', { paths: [JSON.parse('{"__proto__":{"polluted":true}}')] }, /__proto__/],
      ['datasets.scan', { path: 42 }, /path/],
      ['datasets.scan', { path: ['/x'] }, /path/],
      ['datasets.scan', { path: '' }, /Type or paste/],
      ['datasets.scan', {}, /path/],
      ['datasets.scan', '/x', /not valid/],
      ['datasets.scan', [{ path: '/x' }], /not valid/],
      ['datasets.scan', { path: 'a'.repeat(5000) }, /too long/],
      ['datasets.scan', { path: '/x', junk: 'a'.repeat(IPC_LIMITS.maxChars + 1) }, /larger than/],
      ['datasets.thumbnails', { paths: Array(300).fill('/x.png') }, /paths/],
      ['datasets.thumbnails', { paths: ['/x.png'], size: Number.NaN }, /finite/],
      ['datasets.thumbnails', { paths: ['/x.png'], size: 1e9 }, /size/],
      ['datasets.remove', { id: { $ne: null } }, /id/],
      ['training.start', { datasetId: 'd', settings: { epochs: -1 } }, /not valid/],
      ['datasets.scan', deep, /nested deeper/],
      ['datasets.scan', { path: '/x', when: new Date() }, /not a plain object/],
      ['datasets.scan', { path: '/x', data: new Uint8Array(4) }, /not a plain object/],
      ['datasets.scan', { path: '/x', f: () => 1 }, /function/],
      ['datasets.scan', { path: '/x', [Symbol('s')]: 1 }, /symbol/],
      [
        'datasets.scan',
        Object.defineProperty({ path: '/x' }, 'sneaky', { get: () => '/y', enumerable: true }),
        /accessor/,
      ],
    ];
    for (const [method, payload, pattern] of cases) {
      const reply = await guard(mainFrame(OWN), method, payload);
      refusal(reply, 'bad-request', pattern);
    }
    assert.deepEqual(calls, []);
    const probe: Record<string, unknown> = {};
    assert.equal(probe.polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });

  it('a backend that throws gives a failed reply, not an exception', async () => {
    const guard = createIpcGuard({
      call: async () => {
        throw new Error('boom');
      },
    });
    refusal(await guard(mainFrame(OWN), 'app.info', {}), 'failed', /boom/);
  });

  it('payloadProblem accepts plain data at the limits', () => {
    assert.equal(payloadProblem(undefined), null);
    assert.equal(payloadProblem({ a: [1, 'b', null, true, { c: Object.create(null) }] }), null);
    assert.equal(payloadProblem({ s: 'a'.repeat(IPC_LIMITS.maxChars - 10) }), null);
    assert.match(payloadProblem(Array(IPC_LIMITS.maxNodes + 1).fill(0)) ?? '', /more than/);
  });
});

describe('the Electron binding stays thin and the guard stays Electron-free', () => {
  it('ipc-guard.ts imports no electron; ipc-api.ts handles one channel through the guard', async () => {
    const guardSource = await readFile('main/electron/ipc-guard.ts', 'utf8');
    assert.doesNotMatch(guardSource, /from ['"]electron['"]|require\(['"]electron['"]\)/);
    const api = await readFile('main/electron/ipc-api.ts', 'utf8');
    assert.equal(api.match(/ipcMain\.handle\(/g)?.length, 1, 'one invoke channel');
    assert.match(api, /ipcMain\.handle\(\s*INVOKE_CHANNEL/);
    assert.doesNotMatch(api, /ipcMain\.on\(|ipcMain\.once\(|handleOnce/, 'no other listeners');
    assert.match(api, /guard\(event\.senderFrame, method, payload\)/);
  });
});
