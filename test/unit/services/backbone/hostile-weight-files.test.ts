// Hostile weight files given to the app as backbones (through the workspace's library, as the Models
// screen and `attnvgg backbone add` do): pickles that would run a command, impossible storage sizes, a
// truncated zip, a zip bomb, members named outside the archive. Each is refused with its reason, nothing
// is listed, the command never runs, and nothing appears outside the workspace.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BackboneLibrary } from '../../../../main/services/backbone/backbone-library.js';
import { BackboneError, checkBackbone } from '../../../../main/services/backbone/load-backbone.js';
import {
  legacyCheckpoint,
  reducePickle,
  stackGlobalPickle,
  stateDictPickle,
  tarGzBytes,
  zipBytes,
  zipCheckpoint,
} from '../../../fixtures/make-hostile-checkpoints.js';

const root = await mkdtemp(join(tmpdir(), 'attnvgg-hostile-weights-'));
after(() => rm(root, { recursive: true, force: true }));

test('hostile weight files are refused with the reason; nothing runs or is written outside the workspace', async () => {
  const workspace = join(root, 'workspace');
  const outside = join(root, 'outside');
  const inbox = join(root, 'inbox');
  await mkdir(outside, { recursive: true });
  await mkdir(inbox, { recursive: true });
  const marker = join(outside, 'pwned');
  const command = `touch ${marker}`;
  const storage = new Uint8Array(96);
  const whole = zipCheckpoint(stateDictPickle('features.0.weight', [24], 24), { '0': storage });
  const files: [string, Uint8Array, RegExp][] = [
    ['os-system.pth', zipCheckpoint(reducePickle('os', 'system', command)), /os\.system/],
    ['posix-system.pth', legacyCheckpoint(reducePickle('posix', 'system', command)), /posix\.system/],
    [
      'eval.pth',
      zipCheckpoint(stackGlobalPickle('builtins', 'eval', `__import__('os').system('${command}')`)),
      /builtins\.eval/,
    ],
    [
      'huge-storage.pth',
      zipCheckpoint(stateDictPickle('features.0.weight', [24], 2n ** 50n), { '0': storage }),
      /claims 1125899906842624 float32 values/,
    ],
    ['truncated.pth', whole.subarray(0, whole.length - 10), /damaged or truncated/],
    [
      'bomb.pth',
      zipBytes([
        { name: 'archive/data.pkl', data: Buffer.alloc(80 * 2 ** 20), deflate: true, declaredSize: 64 },
      ]),
      /does not inflate to the 64 bytes/,
    ],
    [
      'traversal.pth',
      zipBytes([
        { name: 'archive/data.pkl', data: stateDictPickle('features.0.weight', [24], 24) },
        { name: '../outside/evil.sh', data: Buffer.from(command) },
      ]),
      /points outside the archive/,
    ],
    [
      'traversal.tar.gz',
      tarGzBytes([
        { name: '../outside/evil.sh', data: Buffer.from(command) },
        { name: '../outside/model.onnx', data: Buffer.from('not onnx') },
      ]),
      /cannot be used/,
    ],
    [
      'junk.safetensors',
      Buffer.concat([Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]), Buffer.from('{}')]),
      /cannot be used/,
    ],
  ];
  const library = new BackboneLibrary(workspace);
  for (const [name, bytes, reason] of files) {
    const file = join(inbox, name);
    await writeFile(file, bytes);
    const report = await checkBackbone(file);
    assert.equal(report.usable, false, name);
    await assert.rejects(library.addFile(file, checkBackbone), (e: unknown) => {
      assert.ok(e instanceof BackboneError, `${name}: ${String(e)}`);
      assert.match(e.message, /cannot be used/, name);
      assert.match(e.message, reason, `${name}: ${e.message}`);
      return true;
    });
  }
  assert.deepEqual(await library.list(), []);
  assert.equal(existsSync(marker), false, 'no command ran');
  assert.deepEqual(await readdir(outside), [], 'nothing was written outside the workspace');
  assert.deepEqual((await readdir(root)).sort(), ['inbox', 'outside'], 'not even the workspace was created');
});
