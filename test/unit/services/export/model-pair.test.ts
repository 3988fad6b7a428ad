// The names of model-pair.ts: a pending model carries its export id, is found only for its own model
// name, and never looks like an .onnx file or like one of the atomic writer's temporary files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  completePendingModel,
  listPendingModels,
  pendingModelPath,
  removePendingModels,
} from '../../../../main/services/export/model-pair.js';
import { isAtomicTemporary } from '../../../../main/services/storage/atomic-write.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-model-pair-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('pending names: hidden, tied to one model name and export id, not .onnx, not a .tmp', () => {
  const id = randomUUID();
  const pending = pendingModelPath('/m/pets.onnx', id);
  assert.equal(pending, `/m/.pets.onnx.${id}.pending`);
  assert.ok(basename(pending).startsWith('.'));
  assert.ok(!pending.toLowerCase().endsWith('.onnx'));
  assert.equal(isAtomicTemporary(basename(pending)), false);
});

test('listing and removing finds only the pending models of that name, keeping the one asked for', async () => {
  const model = join(dir, 'pets.onnx');
  const [a, b, other] = [randomUUID(), randomUUID(), randomUUID()];
  for (const path of [
    pendingModelPath(model, a),
    pendingModelPath(model, b),
    pendingModelPath(join(dir, 'pets2.onnx'), other), // another model
    join(dir, `.pets.onnx.not-a-uuid.pending`),
    join(dir, `xpets.onnx.${a}.pending`),
  ])
    await writeFile(path, 'x');
  assert.deepEqual(
    (await listPendingModels(model)).sort(),
    [pendingModelPath(model, a), pendingModelPath(model, b)].sort(),
  );
  assert.deepEqual(await listPendingModels(model, a), [pendingModelPath(model, b)]);
  await removePendingModels(model, a);
  assert.deepEqual(await listPendingModels(model), [pendingModelPath(model, a)]);
  assert.equal((await readdir(dir)).length, 4, 'the other files are left alone');
  assert.equal(await completePendingModel(model, a), true);
  assert.equal(await completePendingModel(model, a), false, 'already moved: no error');
  assert.deepEqual(await listPendingModels(model), []);
});
