// loadBackboneWeights / checkBackbone on files in the ONNX Model Zoo's vgg16-bn structure and our own
// folded exports: what they import, that the imported conv 13 features equal onnxruntime's on the file,
// and what a mismatching file is told (layer, expected versus found).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../../../../models/core/spec.js';
import { exportBackboneOnnx } from '../../../../models/onnx/export.js';
import { openOnnxSession } from '../../../../models/onnx/session.js';
import { AttentionVgg } from '../../../../models/tfjs/model.js';
import {
  BackboneError,
  backboneTensorNames,
  checkBackbone,
  loadBackboneWeights,
} from '../../../../main/services/backbone/load-backbone.js';
import { modelZooVgg16BnBytes } from '../../../fixtures/model-zoo-vgg16bn.js';
import { relativeError, useCpuBackend } from '../../../helpers/tf.js';
import { testWeights } from '../../../helpers/weights.js';

const spec: ModelSpec = {
  inputSize: 64,
  width: 1 / 16,
  numClasses: 4,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};
const dir = mkdtempSync(join(tmpdir(), 'attnvgg-backbone-'));
const source = testWeights(spec, 3);
const file = (name: string, bytes: Uint8Array | string) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

before(useCpuBackend);
after(() => rmSync(dir, { recursive: true, force: true }));

test('a Model Zoo-structure file imports by structure, tensor for tensor', async () => {
  const path = file('zoo.onnx', modelZooVgg16BnBytes(spec, source));
  const report = await checkBackbone(path);
  assert.equal(report.usable, true, report.problem);
  assert.equal(report.backbone?.width, spec.width);
  assert.equal(report.backbone?.batchNorm, 'kept');
  assert.equal(report.backbone?.opset, 7);
  // The walk stops at the first Gemm: the classifier is described, never imported.
  assert.equal(report.backbone?.classifier, 'Flatten -> Gemm [128 -> 256]');
  assert.ok(report.notes.some((n) => /Width 0\.0625/.test(n)));
  const weights = await loadBackboneWeights(path, spec);
  assert.deepEqual([...weights.keys()].sort(), backboneTensorNames(spec).sort());
  for (const [name, a] of weights) assert.deepEqual(a.data, source.get(name)!.data, name);
});

test('imported Zoo-structure weights give onnxruntime conv 13 features in TF.js', async () => {
  const bytes = modelZooVgg16BnBytes(spec, source);
  const weights = await loadBackboneWeights(file('zoo-rt.onnx', bytes), spec);
  const full = testWeights(spec, 9);
  for (const [k, v] of weights) full.set(k, v);
  const model = AttentionVgg.fromWeights(spec, full);
  const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const nchw = { shape: [1, 3, 64, 64], data: tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array };
  const session = await openOnnxSession(bytes, { intraOpThreads: 1 });
  const expected = (await session.run(nchw, { outputs: ['conv13'] })).conv13;
  await session.release();
  const ours = tf.tidy(() =>
    tf.transpose(model.backbone(x, { training: false }).locals[2], [0, 3, 1, 2]).dataSync(),
  );
  const err = relativeError(ours, expected.data);
  assert.ok(err < 1e-4, `conv 13 relative error ${err.toExponential(2)}`);
  x.dispose();
  model.dispose();
});

test('BatchNorm in training mode (opset 15, training_mode=1) is read by its running statistics', async () => {
  const path = file('zoo-train.onnx', modelZooVgg16BnBytes(spec, source, { trainingMode: true }));
  const report = await checkBackbone(path);
  assert.equal(report.usable, true, report.problem);
  assert.equal(report.backbone?.trainingModeBatchNorm, 13);
  const weights = await loadBackboneWeights(path, spec);
  assert.deepEqual(weights.get('features.41.running_var')!.data, source.get('features.41.running_var')!.data);
});

test('a folded file imports as conv + identity BatchNorm, with a note saying so', async () => {
  const path = file('ours.onnx', exportBackboneOnnx(spec, source));
  const report = await checkBackbone(path);
  assert.equal(report.usable, true, report.problem);
  assert.equal(report.backbone?.batchNorm, 'folded');
  assert.ok(report.notes.some((n) => /folded/.test(n)));
  const weights = await loadBackboneWeights(path, spec);
  assert.deepEqual([...weights.get('features.1.weight')!.data].slice(0, 3), [1, 1, 1]);
  assert.deepEqual([...weights.get('features.1.running_mean')!.data].slice(0, 3), [0, 0, 0]);
});

test('mismatching files are refused with what differs', async () => {
  const zoo = file('zoo-w.onnx', modelZooVgg16BnBytes(spec, source));
  await assert.rejects(loadBackboneWeights(zoo, { ...spec, width: 1 }), (e: Error) => {
    assert.ok(e instanceof BackboneError);
    assert.match(
      e.message,
      /width 0\.0625 \(conv 13 has 32 channels\); the model spec has width 1 \(512 channels\)/,
    );
    return true;
  });
  const wide = await checkBackbone(
    file('zoo-c3.onnx', modelZooVgg16BnBytes(spec, source, { convChannels: { 3: 16 } })),
  );
  assert.equal(wide.usable, false);
  assert.match(
    wide.problem ?? '',
    /weight of conv 3 has shape \[16,4,3,3\]; the model spec expects \[8,4,3,3\]/,
  );
  const noPool = await checkBackbone(
    file('zoo-p7.onnx', modelZooVgg16BnBytes(spec, source, { dropPoolAfter: 7 })),
  );
  assert.match(noPool.problem ?? '', /max-pool after conv 7; the file has none there/);
  const junk = await checkBackbone(file('junk.onnx', 'this is not an ONNX file'));
  assert.equal(junk.usable, false);
  assert.equal(junk.problemKind, 'malformed');
  await assert.rejects(checkBackbone(join(dir, 'absent.onnx')), BackboneError);
});
