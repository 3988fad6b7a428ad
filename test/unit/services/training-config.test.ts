import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
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
