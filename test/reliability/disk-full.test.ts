// A write that fails (disk full, missing folder, a folder in the way) is reported as a StorageError in
// plain words, leaves the previous file intact and leaves no temporary file behind. The disk-full cases
// use a real 1 MiB tmpfs when this process may mount one (root with CAP_SYS_ADMIN); elsewhere they are
// skipped with the reason, and the failure path is still covered by the portable cases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportRun, readSidecar, sidecarPathFor } from '../../main/services/export/index.js';
import { StorageError, writeFileAtomic, writeJsonAtomic } from '../../main/services/storage/atomic-write.js';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../main/services/training/checkpoint.js';
import { makeRandomRun, TINY_SPEC } from '../unit/services/export/run-fixture.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-diskfull-'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function checkpointOf(floats: number, value: number): Checkpoint {
  return {
    weights: new Map([['w', { shape: [floats], data: new Float32Array(floats).fill(value) }]]),
    optimizer: { step: 1, slots: new Map() },
    position: {
      epoch: value,
      stepInEpoch: 0,
      globalStep: 1,
      bestValAccuracy: 0,
      bestEpoch: 0,
      epochsWithoutImprovement: 0,
      trainSeconds: 1,
    },
  };
}

async function hiddenFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((n) => n.startsWith('.'));
}

describe('write failures anywhere', () => {
  it('a missing folder gives a StorageError in words, not a raw ENOENT', async () => {
    const target = join(dir, 'gone', 'run.json');
    await assert.rejects(writeJsonAtomic(target, { a: 1 }), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, /folder does not exist/);
      assert.ok(e.message.includes(target));
      return true;
    });
  });

  it('a failed rename (a folder in the way) removes the temporary file and keeps what was there', async () => {
    const folder = join(dir, 'rename');
    await mkdir(join(folder, 'model.onnx', 'inside'), { recursive: true });
    await writeFile(join(folder, 'model.onnx', 'inside', 'keep.txt'), 'keep');
    await assert.rejects(writeFileAtomic(join(folder, 'model.onnx'), 'new'), StorageError);
    assert.deepEqual(await hiddenFiles(folder), []);
    assert.equal(await readFile(join(folder, 'model.onnx', 'inside', 'keep.txt'), 'utf8'), 'keep');
  });
});

describe('disk full (a 1 MiB tmpfs)', () => {
  let small = '';
  let mounted = false;
  let why = '';
  before(() => {
    small = join(dir, 'small');
    spawnSync('mkdir', ['-p', small]);
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small], { encoding: 'utf8' });
    mounted = r.status === 0;
    why = r.error ? String(r.error) : r.stderr.trim();
  });
  after(() => {
    if (mounted) spawnSync('umount', [small]);
  });

  /** Fills the tmpfs until fewer than `leave` bytes are free. */
  async function fill(leave: number): Promise<void> {
    const stat = spawnSync('df', ['-B1', '--output=avail', small], { encoding: 'utf8' });
    const avail = Number(stat.stdout.trim().split('\n').pop());
    await writeFile(join(small, 'filler'), Buffer.alloc(Math.max(0, avail - leave)));
  }

  it('a checkpoint that does not fit: StorageError "disk is full", the previous checkpoint loads unchanged', async (t) => {
    if (!mounted) return t.skip(`cannot mount a tmpfs here (${why}); the portable cases still run`);
    const path = join(small, 'last.safetensors');
    await saveCheckpoint(path, checkpointOf(20_000, 1)); // 80 kB
    await fill(100_000);
    await assert.rejects(saveCheckpoint(path, checkpointOf(60_000, 2)), (e: unknown) => {
      assert.ok(e instanceof StorageError, String(e));
      assert.equal(e.code, 'ENOSPC');
      assert.match(e.message, /disk is full.*previous version.*unchanged/s);
      return true;
    });
    const kept = await loadCheckpoint(path);
    assert.equal(kept.position.epoch, 1);
    assert.equal(kept.weights.get('w')?.data[19_999], 1);
    assert.deepEqual(await hiddenFiles(small), [], 'the temporary file was removed');
    await rm(join(small, 'filler'));
  });

  it('an export that does not fit: reported, and the previous model file is intact', async (t) => {
    if (!mounted) return t.skip(`cannot mount a tmpfs here (${why})`);
    const runDir = join(dir, 'run');
    await makeRandomRun(runDir, TINY_SPEC, ['a', 'b']);
    const model = join(small, 'model.onnx');
    await exportRun(runDir, model);
    const before = await readFile(model);
    await fill(before.length / 2);
    await assert.rejects(exportRun(runDir, model, { overwrite: true }), (e: unknown) => {
      assert.match((e as Error).message, /disk is full/);
      return true;
    });
    assert.deepEqual(await readFile(model), before);
    assert.deepEqual(await hiddenFiles(small), []);
    await rm(join(small, 'filler'));
  });

  it('an export whose model fits but whose sidecar does not: the old pair stays whole and readable', async (t) => {
    if (!mounted) return t.skip(`cannot mount a tmpfs here (${why})`);
    const runDir = join(dir, 'run-pair');
    await makeRandomRun(runDir, TINY_SPEC, ['a', 'b', 'c']);
    const model = join(small, 'pair.onnx');
    const first = await exportRun(runDir, model);
    const modelBefore = await readFile(model);
    const sidecarBefore = await readFile(sidecarPathFor(model), 'utf8');
    // The disk fills up between the two writes: after the new model is staged, before the sidecar.
    await assert.rejects(
      exportRun(runDir, model, {
        overwrite: true,
        onStage: async (stage) => {
          if (stage === 'model-staged') await fill(0);
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof StorageError, String(e));
        assert.equal(e.code, 'ENOSPC');
        assert.ok(e.path.endsWith('pair.json'), e.path);
        return true;
      },
    );
    assert.deepEqual(await readFile(model), modelBefore);
    assert.equal(await readFile(sidecarPathFor(model), 'utf8'), sidecarBefore);
    assert.equal((await readSidecar(model)).sidecar.modelId, first.sidecar.modelId);
    assert.deepEqual(await hiddenFiles(small), [], 'the staged model and the temporary sidecar were removed');
    await rm(join(small, 'filler'));
  });
});
