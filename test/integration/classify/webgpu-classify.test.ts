// Classification on onnxruntime's WebGPU provider (Mesa's lavapipe in CI) gives the CPU's classes and
// attention maps: a tiny run trained here, exported, and its images classified on both devices with raw
// maps written (probabilities and maps within 1e-4 relative error, the same top labels). Skipped with the
// reason where no WebGPU adapter exists.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyFolder } from '../../../main/services/classify/index.js';
import { exportRun } from '../../../main/services/export/index.js';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import { startTraining } from '../../../main/services/training/training-run.js';
import { relativeError } from '../../helpers/tf.js';
import { webgpuMissing } from '../../helpers/webgpu.js';
import { resultsOf } from '../../helpers/classify-results.js';

const missing = await webgpuMissing();
if (missing) console.log(`# skipped: ${missing}`);

let dir = '';
let data = '';
let modelPath = '';

before(async () => {
  if (missing) return;
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-webgpu-classify-'));
  data = join(dir, 'shapes');
  await generateShapesDataset(data, { classes: 3, size: 32, counts: { train: 3, val: 1, test: 2 }, seed: 4 });
  const run = await startTraining(
    { dataset: data, inputSize: 32, width: 0.125, epochs: 1, batchSize: 4, seed: 3 },
    { runDir: join(dir, 'run') },
  );
  assert.equal(run.status, 'completed');
  modelPath = (await exportRun(join(dir, 'run'), join(dir, 'model.onnx'))).modelPath;
});
after(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

interface RawMaps {
  maps: { level: number; values: number[][] }[];
}

test(
  'classify on webgpu gives the same classes and maps as on the CPU',
  { skip: missing ?? false },
  async () => {
    const outcomes = [];
    for (const device of ['cpu', 'webgpu'] as const) {
      const out = join(dir, `out-${device}`);
      const o = await classifyFolder(modelPath, [join(data, 'test')], out, {
        device,
        rawMaps: 'json',
        worker: false,
      });
      assert.equal(o.status, 'completed');
      const results = await resultsOf(o);
      assert.equal(results.settings.device, device);
      outcomes.push({ out, results: results.results });
    }
    const [cpu, gpu] = outcomes;
    assert.equal(cpu.results.length, 6); // 2 test images of each of 3 classes
    assert.deepEqual(
      gpu.results.map((r) => [r.file, r.label]),
      cpu.results.map((r) => [r.file, r.label]),
    );
    for (let i = 0; i < cpu.results.length; i++) {
      const a = cpu.results[i];
      const b = gpu.results[i];
      const e = relativeError(
        b.top.map((t) => t.probability),
        a.top.map((t) => t.probability),
      );
      assert.ok(e <= 1e-4, `${a.file}: probabilities differ by ${e}`);
      const mapsA = JSON.parse(await readFile(join(cpu.out, a.maps?.[0] as string), 'utf8')) as RawMaps;
      const mapsB = JSON.parse(await readFile(join(gpu.out, b.maps?.[0] as string), 'utf8')) as RawMaps;
      assert.equal(mapsB.maps.length, 3);
      for (let k = 0; k < mapsA.maps.length; k++) {
        const m = relativeError(mapsB.maps[k].values.flat(), mapsA.maps[k].values.flat());
        assert.ok(m <= 1e-4, `${a.file}: map ${k + 1} differs by ${m}`);
      }
    }
  },
);
