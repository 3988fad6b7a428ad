// Sending a static file when reading it fails: a file that vanishes between the path check (its stat)
// and the open is answered 404, and the process goes on serving.
import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveStaticPath, sendFile } from '../../../main/server/static-files.js';

let dir = '';
let server: Server;
let port = 0;

before(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-static-'));
  // Resolves the path (stat included), then removes the file before sending it when asked to.
  server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const file = await resolveStaticPath(dir, url.pathname);
      if (!file) return response.writeHead(404).end();
      if (url.searchParams.has('vanish')) await unlink(file);
      await sendFile(response, file, {});
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function fetchPath(path: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    // Before the fix the stream's error went unhandled and the request was never answered.
    req.setTimeout(5000, () => req.destroy(new Error(`no answer for ${path} within 5 s`)));
  });
}

test('a file that vanishes between the check and the open is answered 404; the server goes on', async () => {
  await writeFile(join(dir, 'a.js'), 'A');
  await writeFile(join(dir, 'b.js'), 'B');
  const gone = await fetchPath('/a.js?vanish');
  assert.equal(gone.status, 404);
  assert.match(gone.body, /Not found/);
  const served = await fetchPath('/b.js');
  assert.equal(served.status, 200);
  assert.equal(served.body, 'B');
  assert.match(served.type, /text\/javascript/);
});
