import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { AttentionVgg } from '../../../../models/tfjs/model.js';
import { initWeights } from '../../../../models/core/weights.js';
import { createRandom } from '../../../../models/core/random.js';
import type { ModelSpec } from '../../../../models/core/spec.js';
import { randomInput, relativeError, useCpuBackend } from '../../../helpers/tf.js';

const base: ModelSpec = {
  inputSize: 32,
  width: 0.125,
  numClasses: 3,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

before(useCpuBackend);

function build(spec: ModelSpec, seed = 0): AttentionVgg {
  return AttentionVgg.fromWeights(spec, initWeights(spec, createRandom(seed)));
}

for (const [size, width] of [
  [32, 0.125],
  [64, 0.0625],
  [96, 0.125],
] as const) {
  test(`shapes at S=${size}, width ${width}`, () => {
    const spec = { ...base, inputSize: size, width };
    const model = build(spec);
    tf.tidy(() => {
      const { logits, maps } = model.forward(randomInput(2, size, 1));
      assert.deepEqual(logits.shape, [2, 3]);
      assert.deepEqual(
        maps.map((m) => m.shape),
        [
          [2, size / 4, size / 4],
          [2, size / 8, size / 8],
          [2, size / 16, size / 16],
        ],
      );
    });
    model.dispose();
  });
}

for (const compatibility of ['pc', 'dp', 'additive'] as const)
  for (const normalisation of ['softmax', 'sigmoid'] as const)
    test(`attention ${compatibility}/${normalisation}: maps are weights over positions`, () => {
      const model = build({ ...base, compatibility, normalisation });
      tf.tidy(() => {
        const { maps } = model.forward(randomInput(2, 32, 2));
        for (const m of maps) {
          const values = m.dataSync();
          assert.ok(values.every((v) => v >= 0 && v <= 1 && Number.isFinite(v)));
          if (normalisation === 'softmax') {
            const sums = tf.sum(m, [1, 2]).dataSync();
            for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, `map sums to ${s}`);
          }
        }
      });
      model.dispose();
    });

/** The maps of the same images with g shifted by a random vector (through g's bias), against as they were. */
function mapChangeWhenGMoves(spec: ModelSpec): number {
  const weights = initWeights(spec, createRandom(4));
  const model = AttentionVgg.fromWeights(spec, weights);
  const x = randomInput(2, spec.inputSize, 5);
  const before = tf.tidy(() => model.forward(x).maps.map((m) => m.dataSync()));
  const bias = weights.get('g.bias')!;
  const r = createRandom(6);
  model.assignWeights(
    new Map([['g.bias', { shape: bias.shape, data: bias.data.map((v) => v + 2 * r.next() - 1) }]]),
    ['g.bias'],
  );
  const after = tf.tidy(() => model.forward(x).maps.map((m) => m.dataSync()));
  x.dispose();
  model.dispose();
  return Math.max(...before.map((b, k) => relativeError(after[k], b)));
}

test('additive attention depends on g: moving g moves the softmax maps, which pc/softmax ignores', () => {
  const pc = mapChangeWhenGMoves(base);
  const additive = mapChangeWhenGMoves({ ...base, compatibility: 'additive' });
  assert.ok(pc < 1e-6, `pc/softmax maps moved by ${pc} (g should cancel in the softmax)`);
  // At PyTorch's initialisation the scores are small, so the maps move by little (1.3e-3 measured), but by
  // orders of magnitude more than float rounding.
  assert.ok(additive > 1e-4, `additive/softmax maps moved by only ${additive}`);
});

test('attention off: logits only, no maps', () => {
  const model = build({ ...base, attention: false });
  tf.tidy(() => {
    const { logits, maps } = model.forward(randomInput(1, 32, 3));
    assert.deepEqual(logits.shape, [1, 3]);
    assert.equal(maps.length, 0);
  });
  model.dispose();
});

test('weights round-trip through the TensorFlow.js layout unchanged', async () => {
  const weights = initWeights(base, createRandom(4));
  const model = AttentionVgg.fromWeights(base, weights);
  const back = await model.toWeights();
  for (const [name, a] of weights) {
    assert.deepEqual(back.get(name)?.shape, a.shape, name);
    assert.equal(relativeError(back.get(name)!.data, a.data), 0, name);
  }
  model.dispose();
});

test('training forward uses batch statistics and updates running averages the PyTorch way', async () => {
  const model = build(base);
  const x = randomInput(4, 32, 5);
  const evalOut = tf.tidy(() => model.forward(x, { training: false }).logits.dataSync());
  const trainOut = tf.tidy(() => model.forward(x, { training: true }).logits.dataSync());
  assert.ok(relativeError(trainOut, evalOut) > 1e-3, 'batch statistics differ from the initial running ones');
  // Conv 1's batch mean, computed by hand, must move running_mean by 10 %.
  const expected = tf.tidy(() => {
    const h = tf.add(
      tf.conv2d(x, model.variable('features.0.weight') as tf.Tensor4D, 1, 'same'),
      model.variable('features.0.bias'),
    );
    return tf.mul(tf.moments(h, [0, 1, 2]).mean, 0.1).dataSync();
  });
  model.commitBatchStats();
  const rm = model.variable('features.1.running_mean').dataSync();
  assert.ok(relativeError(rm, expected) < 1e-5);
  x.dispose();
  model.dispose();
});

test('frozen blocks use running statistics in training mode', () => {
  const model = build(base);
  const x = randomInput(2, 32, 6);
  tf.tidy(() => {
    const a = model.backbone(x, { training: false }).locals[0].dataSync();
    const b = model.backbone(x, { training: true, frozenBlocks: 3 }).locals[0].dataSync();
    assert.equal(relativeError(b, a), 0);
  });
  model.discardBatchStats();
  x.dispose();
  model.dispose();
});

test('forward and dispose leak no tensors', () => {
  const before = tf.memory().numTensors;
  const model = build(base);
  tf.tidy(() => {
    model.forward(randomInput(2, 32, 7), { training: true });
  });
  model.commitBatchStats();
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('a wrong input shape is refused with expected versus found', () => {
  const model = build(base);
  assert.throws(
    () =>
      tf.tidy(() => {
        model.forward(randomInput(1, 64, 1));
      }),
    /Expected input of shape \[N, 32, 32, 3\], got \[1,64,64,3\]/,
  );
  model.dispose();
});
