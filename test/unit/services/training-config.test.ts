import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BACKBONE_PRESETS,
  ConfigError,
  DEFAULT_CONFIG,
  PRESETS,
  resolveConfig,
} from '../../../main/services/training/training-config.js';

test('defaults, presets and explicit settings combine in that order', () => {
  const plain = resolveConfig({ dataset: '/d' });
  assert.equal(plain.epochs, DEFAULT_CONFIG.epochs);
  const quick = resolveConfig({ dataset: '/d' }, 'quick');
  assert.equal(quick.epochs, PRESETS.quick.epochs);
  const explicit = resolveConfig({ dataset: '/d', epochs: 3, lr: undefined }, 'full');
  assert.equal(explicit.epochs, 3);
  assert.equal(explicit.lr, DEFAULT_CONFIG.lr, 'an undefined setting does not erase the default');
});

test('invalid settings are refused, listing every problem and the valid choices', () => {
  assert.throws(
    () => resolveConfig({ dataset: '/d' }, 'fast' as 'quick'),
    /Unsupported preset "fast". Should be one of: quick, balanced, full/,
  );
  assert.throws(
    () => resolveConfig({ dataset: '/d', inputSize: 50, epochs: 0, optimizer: 'rmsprop' as 'sgd' }),
    (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /multiple of 32/);
      assert.match(e.message, /epochs must be an integer in \[1, /);
      assert.match(e.message, /Unsupported optimizer "rmsprop". Should be one of: sgd, adam, adamw/);
      return true;
    },
  );
  assert.throws(() => resolveConfig({ dataset: '/d', freezeBlocks: 6 }), /freezeBlocks/);
});

test('with a backbone the presets set the frozen blocks and the transfer recipe', () => {
  const quick = resolveConfig({ dataset: '/d', backbone: '/b/vgg16_bn.onnx' }, 'quick');
  assert.equal(quick.freezeBlocks, 5);
  assert.equal(quick.optimizer, 'adam');
  assert.equal(quick.lr, 1e-3);
  assert.equal(quick.batchSize, 32);
  assert.equal(quick.epochs, 5);
  assert.equal(quick.width, 1, 'the width defaults to 1.0, the width of ImageNet weights');
  assert.equal(quick.inputSize, 224, 'the input size defaults to the 224 px ImageNet weights were learnt at');
  assert.equal(resolveConfig({ dataset: '/d', backbone: '/b.onnx', inputSize: 128 }).inputSize, 128);
  assert.equal(quick.cachedViews, 1);
  assert.equal(quick.backbone, '/b/vgg16_bn.onnx');
  const balanced = resolveConfig({ dataset: '/d', backbone: '/b.onnx' }, 'balanced');
  assert.equal(balanced.freezeBlocks, 4);
  assert.ok(balanced.lr < quick.lr, 'fine-tuning block 5 uses a smaller rate than the heads alone');
  assert.equal(resolveConfig({ dataset: '/d', backbone: '/b.onnx' }, 'full').freezeBlocks, 0);
  // No preset with a backbone: the quick one.
  assert.equal(resolveConfig({ dataset: '/d', backbone: '/b.onnx' }).freezeBlocks, 5);
  // Explicit settings still win over the preset.
  const explicit = resolveConfig(
    { dataset: '/d', backbone: '/b.onnx', epochs: 2, cachedViews: 3, featureCacheMemoryBytes: 1000 },
    'quick',
  );
  assert.equal(explicit.epochs, 2);
  assert.equal(explicit.cachedViews, 3);
  assert.equal(explicit.featureCacheMemoryBytes, 1000);
  assert.equal(explicit.freezeBlocks, BACKBONE_PRESETS.quick.freezeBlocks);
});

test('without a backbone the presets are unchanged and train from scratch', () => {
  for (const backbone of [undefined, null]) {
    const quick = resolveConfig({ dataset: '/d', backbone }, 'quick');
    assert.equal(quick.freezeBlocks, DEFAULT_CONFIG.freezeBlocks);
    assert.equal(quick.optimizer, DEFAULT_CONFIG.optimizer);
    assert.equal(quick.width, DEFAULT_CONFIG.width);
    assert.equal(quick.epochs, PRESETS.quick.epochs);
    assert.equal(resolveConfig({ dataset: '/d', backbone }, 'full').freezeBlocks, 0);
  }
});

test('a backbone needs width 1.0; views and the cache budget are checked', () => {
  assert.throws(
    () => resolveConfig({ dataset: '/d', backbone: '/b.onnx', width: 0.25 }, 'quick'),
    (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /width 1\.0, but the width is 0\.25: set the width to 1\.0/);
      return true;
    },
  );
  assert.throws(() => resolveConfig({ dataset: '/d', cachedViews: 0 }), /cachedViews must be an integer/);
  assert.throws(
    () => resolveConfig({ dataset: '/d', featureCacheMemoryBytes: -1 }),
    /featureCacheMemoryBytes must be a non-negative integer/,
  );
});

test('the feature cache precision defaults to float16, takes float32, refuses anything else, and survives run.json', () => {
  assert.equal(
    resolveConfig({ dataset: '/d', backbone: '/b.onnx' }, 'quick').featureCachePrecision,
    'float16',
  );
  const f32 = resolveConfig(
    { dataset: '/d', backbone: '/b.onnx', featureCachePrecision: 'float32' },
    'balanced',
  );
  assert.equal(f32.featureCachePrecision, 'float32');
  // run.json holds the resolved config as JSON; resuming reads it back and resolving it again keeps it.
  const reread = JSON.parse(JSON.stringify(f32)) as typeof f32;
  assert.equal(reread.featureCachePrecision, 'float32');
  assert.deepEqual(resolveConfig(reread), f32);
  assert.throws(
    () =>
      resolveConfig({
        dataset: '/d',
        featureCachePrecision: 'float64' as unknown as typeof f32.featureCachePrecision,
      }),
    (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(
        e.message,
        /Unsupported feature cache precision "float64"\. Should be one of: float16, float32/,
      );
      return true;
    },
  );
});
