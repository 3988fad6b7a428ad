// One token holder floods the API: 3,000 `folders.list` calls (each answer about 100 kB) sent without
// reading a single reply. The server, in a child process started with --expose-gc, must keep its peak
// RSS growth and its heap after gc() within bounds (it runs a bounded number of calls and stops reading
// the socket while the replies are not read), keep answering another client meanwhile, and answer every
// call once the flooding client reads again. RSS after the burst is reported, not asserted (it rarely
// drops back).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startServeChild, type ServeChild } from '../helpers/serve-child-process.js';
import { writeStubSite } from '../helpers/shapes-folder.js';
import { until } from '../helpers/until.js';

const CALLS = 3000;
const SUBFOLDERS = 1000;
/** Bounds on the server process during the burst (without the limits its peak grew by ~870 MB here). */
const PEAK_RSS_GROWTH_BOUND = 256 * 1024 * 1024;
const HEAP_AFTER_GC_GROWTH_BOUND = 48 * 1024 * 1024;
const MB = 1024 * 1024;

type Memory = { rss: number; peakRss: number; heapUsed: number };

let dir = '';
let folder = '';
let child: ServeChild | undefined;

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-burst-'));
  folder = join(dir, 'many');
  // Long names make each listing large (about 100 kB of JSON), as a real home folder's can be.
  for (let i = 0; i < SUBFOLDERS; i++)
    await mkdir(join(folder, `folder-${String(i).padStart(4, '0')}-${'x'.repeat(60)}`), { recursive: true });
  const site = await writeStubSite(dir);
  child = await startServeChild(site, join(dir, 'workspace'), { nodeFlags: ['--expose-gc'] });
});

after(async () => {
  await child?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function openApi(port: number, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** One call on `ws`, answered within `ms`. */
function callOnce(ws: WebSocket, id: number, payload: unknown, ms: number): Promise<{ ok: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    const onMessage = (data: WebSocket.RawData): void => {
      const message = JSON.parse(String(data)) as { id?: number; reply?: { ok: boolean } };
      if (message.id !== id || !message.reply) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(message.reply);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, method: 'folders.list', payload }));
  });
}

test(`a burst of ${CALLS} unread folders.list calls: bounded memory, the server keeps answering`, async (t) => {
  assert.ok(child);
  const other = await openApi(child.port, child.token);
  // Warm up the code paths, then measure from here.
  assert.equal((await callOnce(other, 1, { path: folder }, 10_000)).ok, true);
  const before = await child.command<Memory>('memory');
  await child.command('rebase');

  const flood = await openApi(child.port, child.token);
  const answered = new Set<number>();
  flood.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; reply?: { ok: boolean } };
    if (message.id !== undefined && message.reply?.ok) answered.add(message.id);
  });
  flood.pause(); // reads nothing from now on
  for (let id = 1; id <= CALLS; id++)
    flood.send(JSON.stringify({ id, method: 'folders.list', payload: { path: folder } }));
  // Let the server work through what it accepts and fill the socket towards the client.
  await new Promise((resolve) => setTimeout(resolve, 4000));

  // Meanwhile another client is answered promptly.
  const started = Date.now();
  assert.equal((await callOnce(other, 2, {}, 5000)).ok, true);
  const answerMs = Date.now() - started;

  const during = await child.command<Memory>('memory');
  const peakGrowth = during.peakRss - before.rss;
  const heapGrowth = during.heapUsed - before.heapUsed;
  t.diagnostic(
    `rss ${(before.rss / MB).toFixed(0)} MB before; peak +${(peakGrowth / MB).toFixed(1)} MB; ` +
      `heapUsed after gc +${(heapGrowth / MB).toFixed(1)} MB while the client reads nothing; ` +
      `another client answered in ${answerMs} ms`,
  );
  assert.ok(peakGrowth < PEAK_RSS_GROWTH_BOUND, `peak RSS grew by ${(peakGrowth / MB).toFixed(1)} MB`);
  assert.ok(heapGrowth < HEAP_AFTER_GC_GROWTH_BOUND, `heapUsed grew by ${(heapGrowth / MB).toFixed(1)} MB`);

  // Once it reads again, every call is answered.
  flood.resume();
  await until('every answer', () => answered.size === CALLS, 300_000);
  const afterwards = await child.command<Memory>('memory');
  t.diagnostic(
    `after all ${CALLS} answers: rss ${(afterwards.rss / MB).toFixed(0)} MB, peak +${((afterwards.peakRss - before.rss) / MB).toFixed(1)} MB, heapUsed after gc +${((afterwards.heapUsed - before.heapUsed) / MB).toFixed(1)} MB`,
  );
  assert.ok(afterwards.peakRss - before.rss < PEAK_RSS_GROWTH_BOUND, 'peak RSS over the whole burst');
  assert.ok(afterwards.heapUsed - before.heapUsed < HEAP_AFTER_GC_GROWTH_BOUND, 'heapUsed after gc');
  assert.ok(child.alive());
  flood.close();
  other.close();
});
