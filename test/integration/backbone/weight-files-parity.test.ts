// Issue 16's parity test: torchvision's vgg16_bn (width 1.0, random weights and BatchNorm statistics,
// nothing downloaded) saved by torch.save in the zip and the legacy format, as safetensors, and as a
// Model-Zoo-structured ONNX file in a .tar.gz, each imported by loadBackboneWeights and run in
// TensorFlow.js at S=224: conv 13's features (after BatchNorm and ReLU) must equal PyTorch's on the same
// input to a relative error under 1e-5.
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
import { pythonMissing } from '../../helpers/python.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';
import { relativeError } from '../../helpers/tf.js';
import { testWeights } from '../../helpers/weights.js';
import { makeWeightFiles, WEIGHT_FILE_FORMS } from '../../helpers/weight-files.js';

const missing = skipOrFail(pythonMissing(['torch', 'torchvision']));
if (missing) console.log(`# skipping the weight-file parity test: ${missing}`);

const spec: ModelSpec = {
  inputSize: 224,
  width: 1,
  numClasses: 10,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};
const FORMS: Record<(typeof WEIGHT_FILE_FORMS)[number], string> = {
  'zip.pth': 'torch-zip',
  'legacy.pth': 'torch-legacy',
  'model.safetensors': 'safetensors',
  'vgg16-bn-7.tar.gz': 'onnx-tar-gz',
};
let dir = '';

before(async () => {
  if (missing) return;
  const report = await selectBackend({ prefer: 'wasm', env: {} });
  console.log(`# TensorFlow.js backend: ${report.chosen}`);
  dir = mkdtempSync(join(tmpdir(), 'attnvgg-weight-files-'));
  await makeWeightFiles(dir, 224);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const file of WEIGHT_FILE_FORMS) {
  test(`${file}: conv 13 features match torchvision's at S=224`, { skip: missing }, async () => {
    const path = join(dir, file);
    const report = await checkBackbone(path);
    assert.equal(report.usable, true, report.problem);
    assert.equal(report.backbone?.form, FORMS[file]);
    assert.equal(report.backbone?.width, 1);
    assert.equal(report.backbone?.batchNorm, 'kept');

    const backbone = await loadBackboneWeights(path, spec);
    assert.deepEqual([...backbone.keys()].sort(), backboneTensorNames(spec).sort());
    const full = testWeights(spec, 2);
    for (const [name, a] of backbone) full.set(name, a);
    const model = AttentionVgg.fromWeights(spec, full);
    const io = decodeSafetensors(readFileSync(join(dir, 'io.safetensors'))).tensors;
    const x = io.get('x')!;
    const conv13 = tf.tidy(() => {
      const f = model.backbone(tf.tensor4d(x.data, x.shape as [number, number, number, number]), {
        training: false,
      });
      return tf.transpose(f.locals[2], [0, 3, 1, 2]).dataSync();
    });
    model.dispose();
    const err = relativeError(conv13, io.get('conv13')!.data);
    console.log(`# ${file}: conv 13 relative error ${err.toExponential(2)}`);
    assert.ok(err < 1e-5, `${file}: conv 13 relative error ${err.toExponential(2)}`);
  });
}
