// Training runs on a chosen device: bad device names are refused with the choices; a GPU device that
// fails mid-run (the trainer's fault-injection hook) stops the run with the reason after periodic GPU
// checkpoints, and the run resumes from the last one on the CPU; run.json names the device; `auto` times
// the GPU against the CPU, takes the CPU on lavapipe (a software adapter) and caches its verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDevice, VERDICT_FILE } from '../../../main/services/device/resolve-device.js';
import { readRunRecord } from '../../../main/services/training/run-folder.js';
import type { TrainingEvent } from '../../../main/services/training/training-events.js';
import { resumeTraining, startTraining } from '../../../main/services/training/training-run.js';
import { cli } from '../../helpers/cli.js';
import { webgpuMissing } from '../../helpers/webgpu.js';
import { makeTinyShapes, TINY_SETTINGS } from './tiny-run.js';

const missing = await webgpuMissing();
if (missing) console.log(`# skipped: ${missing}`);

test('a device name that does not exist is refused with the valid choices', async () => {
  const r = await cli('train', '/nonexistent', '--device', 'tpu');
  assert.notEqual(r.code, 0);
  assert.match(r.err + r.out, /Unsupported --device "tpu"\. Should be one of: auto, cpu, webgpu, dml, cuda/);
  for (const argv of [
    ['bench', 'infer', 'model.onnx', '--batch', '1', '--device', 'tpu'],
    ['classify', 'model.onnx', 'photos', '--out', 'out', '--device', 'tpu'],
    ['eval', 'run', 'folder', '--device', 'tpu'],
    ['resume', 'run', '--device', 'tpu'],
  ]) {
    const e = await cli(...argv);
    assert.equal(e.code, 2, argv.join(' '));
    assert.match(e.err + e.out, /Unsupported --device "tpu"/, argv.join(' '));
  }
  await assert.rejects(
    resolveDevice({ env: { ATTNVGG_DEVICE: 'gpu0' } }),
    /Unknown ATTNVGG_DEVICE "gpu0"\. Should be one of: auto, cpu, webgpu, dml, cuda/,
  );
  // DirectML exists on Windows only: asked for elsewhere, the CPU runs and says why.
  const dml = await resolveDevice({ device: 'dml', platform: 'linux' });
  assert.equal(dml.device, 'cpu');
  assert.match(
    dml.reasons.join(' '),
    /dml was asked for \(--device dml\) but DirectML exists on Windows only/,
  );
});

test(
  'a GPU failure mid-run stops it with the reason; it resumes from the last GPU checkpoint on the CPU',
  { skip: missing ?? false },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attnvgg-device-'));
    try {
      const data = await makeTinyShapes(join(dir, 'shapes'));
      const runDir = join(dir, 'run');
      const events: TrainingEvent[] = [];
      await assert.rejects(
        startTraining(
          { ...TINY_SETTINGS, epochs: 1, dataset: data },
          {
            runDir,
            device: 'webgpu',
            gpuCheckpointSeconds: 0, // a checkpoint after every step on the GPU
            failAtStep: 3,
            onEvent: (e) => events.push(e),
          },
        ),
        /The webgpu device failed at epoch 1, step 3: .*injected fault at step 3.*resume continues from its last checkpoint/,
      );
      const started = events.find((e) => e.type === 'started');
      assert.equal(started?.type === 'started' && started.device, 'webgpu');
      assert.equal(events.filter((e) => e.type === 'checkpoint').length, 2, 'after steps 1 and 2');
      const failed = await readRunRecord(runDir);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.device, 'webgpu');
      assert.equal(failed.deviceRequested, 'webgpu');
      assert.equal(failed.engine, 'onnxruntime');

      const resumed: TrainingEvent[] = [];
      const result = await resumeTraining({ runDir, device: 'cpu', onEvent: (e) => resumed.push(e) });
      assert.equal(result.status, 'completed');
      const again = resumed.find((e) => e.type === 'started');
      assert.deepEqual(again?.type === 'started' && again.resumedAt, { epoch: 0, stepInEpoch: 2 });
      const record = await readRunRecord(runDir);
      assert.equal(record.device, 'cpu');
      assert.deepEqual(record.deviceReasons, ['cpu: --device cpu']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  'auto times a step on each GPU device, keeps the CPU on lavapipe, and caches the verdict',
  { skip: missing ?? false },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attnvgg-auto-'));
    try {
      const probe = {
        spec: {
          inputSize: 32,
          width: 0.125,
          numClasses: 3,
          attention: true,
          compatibility: 'pc',
          normalisation: 'softmax',
        },
        batch: 4,
        steps: 2,
      } as const;
      const first = await resolveDevice({ device: 'auto', cacheDir: dir, probe });
      assert.equal(first.requested, 'auto');
      // lavapipe runs on the CPU's cores through Vulkan: always slower than onnxruntime's own CPU kernels.
      assert.equal(first.device, 'cpu');
      assert.match(first.reasons[0], /auto: no GPU device beats the CPU here/);
      assert.match(first.reasons.join('\n'), /webgpu: \d+ ms per training step against the CPU's \d+ ms/);
      const cached = JSON.parse(await readFile(join(dir, VERDICT_FILE), 'utf8'));
      assert.equal(cached.device, 'cpu');
      const second = await resolveDevice({ device: 'auto', cacheDir: dir, probe });
      assert.match(second.reasons[0], /cached/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
