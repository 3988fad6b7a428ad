// The structural matcher on files torch.onnx.export really writes: a narrow torchvision VGG16_bn with
// random weights and BatchNorm statistics, exported with BatchNorm folded (eval) and kept (preserve).
// Its conv stack, read by graph order, must give TF.js the conv 13 features PyTorch computes.
// (The full 224 px, width 1.0 parity test and the classifier mapping are issue 6.)
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from '../../../models/core/spec.js';
import { decodeSafetensors } from '../../../models/core/safetensors.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { matchVggBackbone } from '../../../models/onnx/backbone-match.js';
import { readOnnx } from '../../../models/onnx/read.js';
import { pythonMissing, runPython } from '../../helpers/python.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';
import { relativeError, useCpuBackend } from '../../helpers/tf.js';
import { testWeights } from '../../unit/models/onnx/onnx-fixtures.js';

const missing = skipOrFail(pythonMissing(['torch', 'torchvision']));
if (missing) console.log(`# skipping the torchvision export tests: ${missing}`);

before(useCpuBackend);

test('torchvision VGG16_bn exports (BatchNorm folded and kept) map by structure', { skip: missing }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'attnvgg-torchvision-'));
  try {
    runPython(['test/fixtures/torchvision_vgg_onnx.py', '16', '64', dir]);
    const io = decodeSafetensors(readFileSync(join(dir, 'io.safetensors'))).tensors;
    const spec: ModelSpec = {
      inputSize: 64,
      width: 1 / 16,
      numClasses: 10,
      attention: true,
      compatibility: 'pc',
      normalisation: 'softmax',
    };
    for (const form of ['folded', 'kept'] as const) {
      const match = matchVggBackbone(readOnnx(readFileSync(join(dir, `${form}.onnx`))));
      assert.equal(match.batchNorm, form);
      assert.equal(match.width, spec.width);
      assert.deepEqual(
        match.stack.tail.map((n) => n.opType).slice(-2),
        ['Flatten', 'Gemm'],
        'the classifier follows the conv stack',
      );
      const weights = testWeights(spec, 1);
      for (const [name, a] of match.weights) weights.set(name, a);
      const model = AttentionVgg.fromWeights(spec, weights);
      const x = io.get('x')!;
      const conv13 = tf.tidy(() => {
        const f = model.backbone(tf.tensor4d(x.data, x.shape as [number, number, number, number]), {
          training: false,
        });
        return tf.transpose(f.locals[2], [0, 3, 1, 2]).dataSync();
      });
      const err = relativeError(conv13, io.get('conv13')!.data);
      assert.ok(err < 1e-4, `${form}: conv 13 relative error ${err.toExponential(2)}`);
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
