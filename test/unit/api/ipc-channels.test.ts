// The sandboxed preload cannot import project files, so it repeats the IPC channel names and the method
// check: they must agree with main/electron/ipc-channels.ts and let every API method through.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { API_METHODS } from '../../../main/api/index.js';
import { EVENT_CHANNEL, INVOKE_CHANNEL, METHOD_PATTERN } from '../../../main/electron/ipc-channels.js';

test('the preload uses the same channels and method check as the main process', async () => {
  const preload = await readFile('main/electron/preload.cts', 'utf8');
  assert.ok(preload.includes(`const INVOKE_CHANNEL = '${INVOKE_CHANNEL}';`));
  assert.ok(preload.includes(`const EVENT_CHANNEL = '${EVENT_CHANNEL}';`));
  assert.ok(preload.includes(`const METHOD_PATTERN = ${METHOD_PATTERN.toString()};`));
  for (const method of API_METHODS) assert.match(method, METHOD_PATTERN);
  assert.doesNotMatch('ipcRenderer.send', METHOD_PATTERN);
});

test('the preload exposes one object and no Electron or Node object', async () => {
  const preload = await readFile('main/electron/preload.cts', 'utf8');
  assert.equal(preload.match(/exposeInMainWorld\(/g)?.length, 1);
  assert.doesNotMatch(preload, /exposeInMainWorld\([^)]*ipcRenderer\s*[,)]/);
});
