// The choice of the cached-features engine: a pretrained backbone with blocks 1..5 or 1..4 frozen, with
// its reason; either engine (TensorFlow.js, onnxruntime) refuses other frozen blocks and a cache made for
// other frozen blocks.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createHeadTrainingEngine,
  featureCacheReason,
  usesFeatureCache,
} from '../../../../main/services/training/head-training-engine.js';
import type { EngineChoice, EngineSetup } from '../../../../main/services/training/training-engine.js';
import type { FeatureBatch } from '../../../../models/core/cached-features.js';
import { useCpuBackend } from '../../../helpers/tf.js';
import { testWeights } from '../../../helpers/weights.js';
import { TRANSFER_SPEC } from './transfer-fixtures.js';

before(useCpuBackend);

test('cached features are used for a backbone with 4 or 5 frozen blocks, and only then', () => {
  for (const freezeBlocks of [0, 1, 2, 3, 4, 5]) {
    assert.equal(
      usesFeatureCache({ backbone: 'vgg.onnx', freezeBlocks }),
      freezeBlocks >= 4,
      `${freezeBlocks}`,
    );
    assert.equal(usesFeatureCache({ backbone: null, freezeBlocks }), false);
    assert.equal(usesFeatureCache({ backbone: '', freezeBlocks }), false);
    assert.equal(usesFeatureCache({ freezeBlocks }), false);
  }
  assert.match(
    featureCacheReason(5, 'onnxruntime'),
    /whole pretrained backbone is frozen.*heads train on onnxruntime/,
  );
  assert.match(
    featureCacheReason(4, 'tfjs'),
    /blocks 1-4 are frozen.*block 5 and the heads train on TensorFlow\.js/,
  );
});

for (const engineName of ['tfjs', 'onnxruntime'] as const)
  test(`the ${engineName} engine refuses other frozen blocks and a cache of other frozen blocks`, async () => {
    const setup = (frozenBlocks: number): EngineSetup => ({
      spec: TRANSFER_SPEC,
      weights: testWeights(TRANSFER_SPEC, 1),
      optimizer: { name: 'adam', momentum: 0.9, weightDecay: 0 },
      frozenBlocks,
      labelSmoothing: 0,
    });
    const choice = (): EngineChoice => ({ engine: engineName, reasons: [], forced: true });
    await assert.rejects(
      createHeadTrainingEngine(choice(), setup(3)),
      /blocks 1\.\.4 or 1\.\.5 frozen, got 3/,
    );
    const engine = await createHeadTrainingEngine(choice(), setup(4));
    assert.equal(engine.name, engineName);
    assert.equal(engine.frozenBlocks, 4);
    assert.equal(engine.reason, featureCacheReason(4, engineName));
    const batch: FeatureBatch = {
      frozenBlocks: 5,
      precision: 'float32',
      locals: [],
      labels: new Int32Array(0),
      size: 0,
    };
    await assert.rejects(engine.stepCached(batch, { lr: 1e-3 }), /5 frozen blocks was given to a run with 4/);
    await engine.dispose();
  });
