// A file the server cannot read must cost one answer, not the process: with the file-descriptor table
// full (EMFILE, in a server process started under a low `ulimit -n`) a static file is answered 500 while
// a training run goes on in the same process, and once descriptors are free again the same file is
// served, the API answers and the run finishes.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ApiEvent } from '../../main/api/index.js';
import { startServeChild, type ServeChild } from '../helpers/serve-child-process.js';
import { tempShapesDataset, writeStubSite } from '../helpers/shapes-folder.js';
import { until } from '../helpers/until.js';
import { connectNodeClient, type NodeApiConnection } from '../integration/server/node-websocket-transport.js';

let dir = '';
let dataset = '';
let child: ServeChild | undefined;
let conn: NodeApiConnection | undefined;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

before(async () => {
  ({ dir, dataset } = await tempShapesDataset('attnvgg-file-errors-', {
    classes: 2,
    size: 32,
    counts: { train: 16, val: 4, test: 0 },
    seed: 5,
  }));
  const site = await writeStubSite(dir, '<!doctype html><title>APP PAGE</title>');
  await mkdir(join(site, 'assets'));
  await writeFile(join(site, 'assets', 'app.js'), 'console.log("app")');
  if (process.platform === 'win32') return;
  child = await startServeChild(site, join(dir, 'workspace'), { openFiles: 256 });
  conn = await connectNodeClient(child.port, child.token);
});

after(async () => {
  agent.destroy();
  conn?.close();
  await child?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** GET over the one kept-alive connection (opened before the descriptors run out). */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: child?.port,
        path,
        agent,
        headers: { 'x-attnvgg-token': child?.token ?? '' },
      },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test(
  'EMFILE while a file is served: 500 for that request; the process and its training run go on',
  {
    skip: process.platform === 'win32' ? 'needs bash and ulimit -n (not on Windows)' : false,
  },
  async () => {
    assert.ok(child && conn);
    const { client, events } = conn;
    const entry = await client.call('datasets.add', { path: dataset });
    const run = await client.call('training.start', {
      datasetId: entry.id,
      settings: { inputSize: 32, width: 0.0625, epochs: 4, batchSize: 4 },
    });
    await until('a training step', () =>
      (events as ApiEvent[]).some(
        (e) => e.type === 'training' && e.runId === run.id && e.event.type === 'step',
      ),
    );
    assert.equal((await get('/assets/app.js')).status, 200);

    const exhausted = await child.command<{ exhausted: number; code: string }>('exhaust');
    assert.equal(exhausted.code, 'EMFILE', 'the descriptor table is full');
    // Another thread (training) may free a descriptor for a moment, so some requests may still be served.
    const answers: { status: number; body: string }[] = [];
    for (let i = 0; i < 20; i++) answers.push(await get('/assets/app.js'));
    await child.command('release');
    const refused = answers.filter((a) => a.status === 500);
    assert.ok(refused.length > 0, `statuses: ${answers.map((a) => a.status).join(' ')}`);
    assert.ok(answers.every((a) => a.status === 200 || a.status === 500));
    assert.match(refused[0]?.body ?? '', /could not read this file/);
    assert.ok(child.alive(), 'the server process is still running');

    const served = await get('/assets/app.js');
    assert.equal(served.status, 200);
    assert.equal(served.body, 'console.log("app")');
    assert.equal((await client.call('datasets.list', {})).length, 1, 'the API answers');
    const finished = await until('the run to finish', () =>
      (events as ApiEvent[]).find(
        (e): e is Extract<ApiEvent, { type: 'training' }> =>
          e.type === 'training' && e.runId === run.id && e.event.type === 'finished',
      ),
    );
    assert.equal((finished.event as { status: string }).status, 'completed', JSON.stringify(finished.event));
  },
);
