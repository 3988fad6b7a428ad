// Issue 6's parity test: torchvision's real vgg16_bn (width 1.0, random weights and BatchNorm statistics,
// nothing downloaded) exported by torch.onnx.export with BatchNorm folded (the default eval export) and
// kept (a training-mode export), imported by loadBackboneWeights, and run in TensorFlow.js at S=224:
// conv 13's features after BatchNorm and ReLU (the l3 attention input) must equal PyTorch's on the same
// input to a relative error under 1e-4.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { decodeSafetensors } from '../../../models/core/safetensors.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import { selectBackend } from '../../../models/tfjs/backend.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import {
  backboneTensorNames,
  checkBackbone,
  loadBackboneWeights,
} from '../../../main/services/backbone/load-backbone.js';
import { pythonMissing, runPython } from '../../helpers/python.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';
import { relativeError } from '../../helpers/tf.js';
import { testWeights } from '../../helpers/weights.js';

const missing = skipOrFail(pythonMissing(['torch', 'torchvision']));
if (missing) console.log(`# skipping the torchvision vgg16_bn parity test: ${missing}`);

const spec: ModelSpec = {
  inputSize: 224,
  width: 1,
  numClasses: 10,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};
const FORMS = ['folded', 'kept'] as const;
let dir = '';

before(async () => {
  if (missing) return;
  // wasm (XNNPACK) when it loads: a 224 px forward on the plain-JS cpu backend takes half a minute.
  const report = await selectBackend({ prefer: 'wasm', env: {} });
  console.log(`# TensorFlow.js backend: ${report.chosen}`);
  dir = mkdtempSync(join(tmpdir(), 'attnvgg-vgg16bn-'));
  runPython(['test/fixtures/torchvision_vgg16bn_onnx.py', '224', dir, ...FORMS], 300_000);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const form of FORMS) {
  test(
    `torchvision vgg16_bn, BatchNorm ${form}: conv 13 features match PyTorch at S=224`,
    { skip: missing },
    async () => {
      const file = join(dir, `${form}.onnx`);
      const report = await checkBackbone(file);
      assert.equal(report.usable, true, report.problem);
      assert.equal(report.backbone?.width, 1);
      assert.equal(report.backbone?.batchNorm, form);
      assert.match(report.backbone?.classifier ?? '', /Gemm \[25088 -> 4096\]/);
      if (form === 'kept') assert.equal(report.backbone?.trainingModeBatchNorm, 13);

      const backbone = await loadBackboneWeights(file, spec);
      assert.deepEqual([...backbone.keys()].sort(), backboneTensorNames(spec).sort());
      // The head's tensors are random; the backbone's come from the file.
      const full = testWeights(spec, 2);
      for (const [name, a] of backbone) full.set(name, a);
      const model = AttentionVgg.fromWeights(spec, full);
      const io = decodeSafetensors(readFileSync(join(dir, 'io.safetensors'))).tensors;
      const x = io.get('x')!;
      const expected = io.get(`conv13_${form}`)!;
      // Frozen blocks (the "quick" preset) run BatchNorm on running statistics, in training mode too.
      for (const options of [{ training: false }, { training: true, frozenBlocks: 5 }]) {
        const conv13 = tf.tidy(() => {
          const f = model.backbone(tf.tensor4d(x.data, x.shape as [number, number, number, number]), options);
          return tf.transpose(f.locals[2], [0, 3, 1, 2]).dataSync();
        });
        model.discardBatchStats();
        const err = relativeError(conv13, expected.data);
        console.log(`# ${form}, ${JSON.stringify(options)}: conv 13 relative error ${err.toExponential(2)}`);
        assert.ok(err < 1e-4, `${form}: conv 13 relative error ${err.toExponential(2)}`);
      }
      model.dispose();
    },
  );
}
