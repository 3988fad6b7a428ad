// writeFileAtomic: whole files or nothing, failures as StorageError in words, and the clean-up of
// temporary files that killed writers left behind (only theirs: a live writer's file is kept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isAtomicTemporary,
  removeStaleTemporaries,
  StorageError,
  writeFileAtomic,
  writeJsonAtomic,
} from '../../../../main/services/storage/atomic-write.js';

test('writes replace the whole file and leave no temporary behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-atomic-'));
  try {
    const path = join(dir, 'run.json');
    await writeJsonAtomic(path, { a: 1 });
    await writeFileAtomic(path, new Uint8Array([123, 125]), { durable: false });
    assert.equal(await readFile(path, 'utf8'), '{}');
    assert.deepEqual(await readdir(dir), ['run.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('failures are StorageErrors that name the file, keep the OS code and say what to do', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-atomic-'));
  try {
    const missing = join(dir, 'no', 'x.bin');
    const error = await writeFileAtomic(missing, 'x').catch((e: unknown) => e);
    assert.ok(error instanceof StorageError);
    assert.equal(error.code, 'ENOENT');
    assert.equal(error.path, missing);
    assert.match(error.message, /^Could not save .*x\.bin: its folder does not exist/);
    assert.ok((error.cause as NodeJS.ErrnoException).code === 'ENOENT');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('removeStaleTemporaries removes what dead writers left, and nothing else', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-atomic-'));
  try {
    // A pid that has certainly exited: a child we ran to completion.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const stale = `.last.safetensors.${dead}.0a1b2c3d.tmp`;
    const live = `.last.safetensors.${process.pid}.deadbeef.tmp`;
    const others = ['last.safetensors', '.hidden.png', '.x.12.zz.tmp', 'a.123.0a1b2c3d.tmp'];
    for (const name of [stale, live, ...others]) await writeFile(join(dir, name), 'x');
    assert.ok(isAtomicTemporary(stale) && isAtomicTemporary(live));
    assert.ok(!others.some(isAtomicTemporary));
    assert.deepEqual(await removeStaleTemporaries(dir), [stale]);
    assert.deepEqual((await readdir(dir)).sort(), [live, ...others].sort());
    assert.deepEqual(await removeStaleTemporaries(join(dir, 'missing')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
