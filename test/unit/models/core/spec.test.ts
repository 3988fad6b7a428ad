import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  additiveHiddenWidth,
  countParameters,
  globalFeatureIsInert,
  parameterLayout,
  validateSpec,
  SpecError,
  type ModelSpec,
} from '../../../../models/core/spec.js';
import { checkWeights, initWeights, WeightsError } from '../../../../models/core/weights.js';
import { createRandom } from '../../../../models/core/random.js';

const base: ModelSpec = {
  inputSize: 64,
  width: 0.25,
  numClasses: 10,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

test('width 1.0 backbone has exactly torchvision vgg16_bn conv + BatchNorm parameter count', () => {
  // torchvision vgg16_bn `features`: 14,714,688 conv parameters + 2 x 4,224 BatchNorm affine parameters.
  const n = countParameters({ ...base, width: 1 }, (p) => p.block > 0 && p.trainable);
  assert.equal(n, 14_723_136);
});

test('parameter names follow the PyTorch state_dict of the peer model', () => {
  const names = parameterLayout(base).map((p) => p.name);
  assert.ok(names.includes('features.0.weight'));
  assert.ok(names.includes('features.41.running_var')); // BN of conv 13
  assert.ok(names.includes('project.weight'));
  assert.deepEqual(
    names.filter((n) => n.startsWith('u.')),
    ['u.0.weight', 'u.1.weight', 'u.2.weight'],
  );
  const head = parameterLayout(base).find((p) => p.name === 'head.weight');
  assert.deepEqual(head?.shape, [10, 3 * 128]);
  const g = parameterLayout(base).find((p) => p.name === 'g.weight');
  assert.deepEqual(g?.shape, [128, 128 * 4]);
});

test('dp has no u vectors; attention off has a single-width head', () => {
  assert.ok(!parameterLayout({ ...base, compatibility: 'dp' }).some((p) => p.name.startsWith('u.')));
  const plain = parameterLayout({ ...base, attention: false });
  assert.ok(!plain.some((p) => p.name.startsWith('u.') || p.name.startsWith('project')));
  assert.deepEqual(plain.find((p) => p.name === 'head.weight')?.shape, [10, 128]);
});

test('invalid specs are refused with what is wrong', () => {
  assert.throws(() => validateSpec({ ...base, inputSize: 48 }), SpecError);
  assert.throws(() => validateSpec({ ...base, inputSize: 0 }), /multiple of 32/);
  assert.throws(() => validateSpec({ ...base, numClasses: 1 }), /at least 2/);
  assert.throws(() => validateSpec({ ...base, compatibility: 'xx' as 'pc' }), /one of: pc, dp, additive/);
  assert.equal(validateSpec({ ...base, compatibility: 'additive' }).compatibility, 'additive');
});

test('additive has W_l, W_g and u per level, hidden width 256·w, initialised like PyTorch', () => {
  const spec: ModelSpec = { ...base, compatibility: 'additive' };
  const layout = parameterLayout(spec);
  const attention = layout.filter((p) => /^(wl|wg|u)\./.test(p.name));
  // C = 512·0.25 = 128, H = 256·0.25 = 64.
  assert.deepEqual(
    attention.map((p) => [p.name, p.shape, p.role]),
    [0, 1, 2].flatMap((k) => [
      [`wl.${k}.weight`, [64, 128, 1, 1], 'wl.weight'],
      [`wg.${k}.weight`, [64, 128], 'wg.weight'],
      [`u.${k}.weight`, [1, 64, 1, 1], 'u.weight'],
    ]),
  );
  assert.equal(additiveHiddenWidth({ width: 1 }), 256);
  assert.equal(additiveHiddenWidth({ width: 1 / 512 }), 1);
  assert.equal(countParameters(spec) - countParameters(base), 3 * (2 * 64 * 128 + 64) - 3 * 128);
  const weights = initWeights(spec, createRandom(3));
  checkWeights(spec, weights);
  const within = (name: string, fanIn: number) =>
    weights.get(name)!.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(fanIn));
  assert.ok(within('wl.1.weight', 128) && within('wg.1.weight', 128) && within('u.1.weight', 64));
});

test('g is inert only under pc with softmax', () => {
  assert.equal(globalFeatureIsInert(base), true);
  assert.equal(globalFeatureIsInert({ ...base, compatibility: 'additive' }), false);
  assert.equal(globalFeatureIsInert({ ...base, compatibility: 'additive', normalisation: 'sigmoid' }), false);
  assert.equal(globalFeatureIsInert({ ...base, compatibility: 'dp' }), false);
  assert.equal(globalFeatureIsInert({ ...base, normalisation: 'sigmoid' }), false);
});

test('initial weights are seeded and checked against the spec', () => {
  const a = initWeights(base, createRandom(1));
  const b = initWeights(base, createRandom(1));
  const c = initWeights(base, createRandom(2));
  assert.deepEqual(a.get('features.0.weight')?.data, b.get('features.0.weight')?.data);
  assert.notDeepEqual(a.get('features.0.weight')?.data, c.get('features.0.weight')?.data);
  // PyTorch default init: |w| <= 1/sqrt(fan_in); fan_in of conv 1 is 3*3*3.
  const bound = 1 / Math.sqrt(27);
  assert.ok(a.get('features.0.weight')!.data.every((v) => Math.abs(v) <= bound));
  assert.ok(a.get('features.1.running_var')!.data.every((v) => v === 1));
  checkWeights(base, a);
  a.delete('head.bias');
  assert.throws(() => checkWeights(base, a), WeightsError);
  assert.throws(() => checkWeights({ ...base, numClasses: 5 }, b), /head.weight: expected shape \[5,384\]/);
});
