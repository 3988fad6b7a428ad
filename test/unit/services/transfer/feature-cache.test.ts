// The feature cache: onnxruntime's backbone features equal TF.js's frozen backbone on the same images,
// half precision stays within its rounding bound, spilling to disk changes nothing, views are seeded,
// limits are checked up front, bad files are skipped, and epochs visit every image once. With 4 frozen
// blocks only l1 and l2 are cached.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  buildFeatureCache,
  defaultMemoryBudget,
  MEMORY_BUDGET_BOUNDS,
  FeatureCacheError,
  splitMemoryBudget,
  type FeatureCacheOptions,
} from '../../../../main/services/transfer/feature-cache.js';
import { asFloat32, float32Features, valuesPerView } from '../../../../models/core/cached-features.js';
import { fromHalf, toHalf } from '../../../../models/core/half-float.js';
import { modelWithBackbone } from '../../../../models/tfjs/head-trainer.js';
import { relativeError, useCpuBackend } from '../../../helpers/tf.js';
import { testWeights } from '../../../helpers/weights.js';
import { plainBatch, TRANSFER_SPEC as spec, writeNoiseImages } from './transfer-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'attnvgg-feature-cache-'));
const weights = testWeights(spec, 5);
const backbone = new Map([...weights].filter(([k]) => k.startsWith('features.')));
const base: FeatureCacheOptions = { spec, backbone, threads: 1, runBatch: 4 };
let items: Awaited<ReturnType<typeof writeNoiseImages>>;

before(async () => {
  await useCpuBackend();
  items = await writeNoiseImages(join(dir, 'images'), 10);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const all = (n: number, view = 0) => Array.from({ length: n }, (_, image) => ({ image, view }));

test('cached features (float32) equal the TF.js frozen backbone on the same images', async () => {
  const cache = await buildFeatureCache(items, { ...base, precision: 'float32' });
  assert.equal(cache.count, 10);
  const got = await cache.batch(all(10));
  assert.deepEqual(
    [...got.labels],
    items.map((i) => i.classIndex),
  );
  const model = modelWithBackbone(spec, backbone, 1);
  const x = await plainBatch(items, spec.inputSize);
  tf.tidy(() => {
    const f = model.backbone(tf.tensor4d(x, [10, 32, 32, 3]), { training: true, frozenBlocks: 5 });
    f.locals.forEach((l, level) => {
      const err = relativeError(got.locals[level].data, l.dataSync());
      assert.ok(err < 1e-4, `l${level + 1}: relative error ${err.toExponential(2)}`);
    });
    const err = relativeError(got.pool5!.data, f.pool5.dataSync());
    assert.ok(err < 1e-4, `pool5: relative error ${err.toExponential(2)}`);
  });
  model.discardBatchStats();
  model.dispose();
  await cache.dispose();
});

test('half precision is within its rounding bound, and spilled views read back the same', async () => {
  const f32 = await buildFeatureCache(items, { ...base, precision: 'float32' });
  const perView = valuesPerView(spec) * 2;
  const spillDir = join(dir, 'spill');
  const f16 = await buildFeatureCache(items, { ...base, memoryLimitBytes: 4 * perView, spillDir });
  const stats = f16.stats();
  assert.equal(stats.memoryBytes, 4 * perView);
  assert.equal(stats.diskBytes, 6 * perView);
  const [folder] = readdirSync(spillDir);
  assert.equal(readdirSync(join(spillDir, folder)).length, 6);
  const a = float32Features(await f32.batch(all(10)));
  const stored = await f16.batch(all(10));
  assert.equal(stored.precision, 'float16');
  assert.ok(
    stored.locals.every((t) => t.data instanceof Uint16Array),
    'a float16 batch is the stored bits',
  );
  assert.deepEqual(stored.pool5!.data, toHalf(a.pool5!.data));
  const b = float32Features(stored);
  for (let level = 0; level < 3; level++) {
    let worst = 0;
    a.locals[level].data.forEach((v, i) => {
      if (Math.abs(v) > 1e-3) worst = Math.max(worst, Math.abs(b.locals[level].data[i] - v) / Math.abs(v));
    });
    assert.ok(worst <= 2 ** -11 + 1e-7, `l${level + 1}: worst relative rounding ${worst}`);
    assert.ok(worst > 0, 'half precision is really used');
  }
  // The half-precision cache holds exactly the float32 features rounded to half precision.
  assert.deepEqual(b.pool5!.data, fromHalf(toHalf(a.pool5!.data)));
  assert.deepEqual(b.locals[0].data, fromHalf(toHalf(a.locals[0].data)));
  const inMemory = await buildFeatureCache(items, base);
  const c = float32Features(await inMemory.batch(all(10)));
  assert.deepEqual(c.locals[2].data, b.locals[2].data, 'spilled and in-memory views are identical');
  assert.deepEqual(c.pool5!.data, b.pool5!.data);
  await f16.dispose();
  assert.equal(existsSync(join(spillDir, folder)), false, 'dispose deletes the spilled files');
  await Promise.all([f32.dispose(), inMemory.dispose()]);
});

test('augmented views are seeded: view 0 is plain, others differ and rebuild identically', async () => {
  const options = { ...base, views: 3, augment: { flip: false, translate: 0.25 }, seed: 7 };
  const one = await buildFeatureCache(items.slice(0, 4), options);
  const two = await buildFeatureCache(items.slice(0, 4), options);
  const plain = await buildFeatureCache(items.slice(0, 4), base);
  const v0 = await one.batch(all(4, 0));
  assert.deepEqual(v0.pool5!.data, (await plain.batch(all(4, 0))).pool5!.data);
  const v1 = await one.batch(all(4, 1));
  // (pool5 at S=32 is one max over the picture: a shift of noise barely moves it; l1 shows the shift.)
  assert.notDeepEqual(v1.locals[0].data, v0.locals[0].data);
  assert.deepEqual(v1.locals[0].data, (await two.batch(all(4, 1))).locals[0].data);
  const seen: number[] = [];
  for await (const batch of one.epoch({ epoch: 0, batchSize: 3 })) {
    assert.ok(batch.size <= 3);
    seen.push(batch.size);
  }
  assert.deepEqual(seen, [3, 1]);
  // A stream of batches writes two sets of arrays in turn; each batch, while current, equals a fresh read.
  const lists = [all(4, 1), all(4, 2), [{ image: 3, view: 0 }], all(2, 2)];
  const buffers: ArrayBufferLike[] = [];
  let k = 0;
  for await (const batch of one.batches(lists)) {
    const fresh = await one.batch(lists[k]);
    assert.equal(batch.size, lists[k].length);
    batch.locals.forEach((t, level) => {
      assert.deepEqual(t.shape, fresh.locals[level].shape);
      assert.deepEqual(t.data, fresh.locals[level].data, `batch ${k}, l${level + 1}`);
    });
    assert.deepEqual(batch.pool5!.data, fresh.pool5!.data);
    buffers.push(batch.locals[0].data.buffer);
    k++;
  }
  assert.equal(k, 4);
  assert.equal(buffers[2], buffers[0], 'batch 3 reuses the arrays of batch 1');
  assert.equal(buffers[3], buffers[1]);
  assert.notEqual(buffers[1], buffers[0]);
  // A finished stream gives its arrays back: the next stream of no larger batches writes into them.
  const again: ArrayBufferLike[] = [];
  for await (const batch of one.epoch({ epoch: 1, batchSize: 3 })) again.push(batch.locals[0].data.buffer);
  assert.deepEqual(new Set(again), new Set(buffers.slice(0, 2)));
  await Promise.all([one.dispose(), two.dispose(), plain.dispose()]);
});

test('float32 takes twice the bytes: a budget that holds the half-precision cache refuses it', async () => {
  const halfBytes = items.length * valuesPerView(spec) * 2;
  const half = await buildFeatureCache(items, { ...base, memoryLimitBytes: halfBytes });
  assert.equal(half.stats().memoryBytes, halfBytes);
  await half.dispose();
  await assert.rejects(
    buildFeatureCache(items, { ...base, precision: 'float32', memoryLimitBytes: halfBytes }),
    (e: Error) =>
      e instanceof FeatureCacheError &&
      /MiB in float32 at S=/.test(e.message) &&
      /float16 \(half the bytes\)/.test(e.message),
  );
});

test('limits are checked before any work; unreadable files are skipped and reported', async () => {
  await assert.rejects(
    buildFeatureCache(items, { ...base, views: 4, memoryLimitBytes: 1000 }),
    (e: Error) =>
      e instanceof FeatureCacheError &&
      /10 images x 4 views/.test(e.message) &&
      /raise the limits/.test(e.message),
  );
  const broken = join(dir, 'broken.png');
  writeFileSync(broken, 'not a png');
  const skipped: string[] = [];
  const cache = await buildFeatureCache([...items.slice(0, 2), { path: broken, classIndex: 1 }, items[2]], {
    ...base,
    onSkip: (s) => skipped.push(s.path),
  });
  assert.deepEqual(skipped, [broken]);
  assert.equal(cache.count, 3);
  assert.deepEqual([...cache.labels], [0, 1, 2]);
  await cache.dispose();
});

test('with 4 frozen blocks only l1 and l2 are cached: equal to TF.js, in half precision, spilled alike', async () => {
  // Block 5's tensors are not needed: the sub-graph ends at conv 10.
  const upToBlock4 = new Map([...backbone].filter(([name]) => Number(name.split('.')[1]) < 34));
  const options = { ...base, backbone: upToBlock4, frozenBlocks: 4 };
  const f32 = await buildFeatureCache(items, { ...options, precision: 'float32' });
  assert.equal(f32.frozenBlocks, 4);
  assert.deepEqual(f32.shapes, {
    locals: [
      [8, 8, 16],
      [4, 4, 32],
    ],
  });
  assert.equal(valuesPerView(spec, 4), 8 * 8 * 16 + 4 * 4 * 32);
  const got = await f32.batch(all(10));
  assert.equal(got.frozenBlocks, 4);
  assert.equal(got.locals.length, 2);
  assert.equal(got.pool5, undefined);
  const model = modelWithBackbone(spec, backbone, 1);
  const x = await plainBatch(items, spec.inputSize);
  tf.tidy(() => {
    const f = model.backbone(tf.tensor4d(x, [10, 32, 32, 3]), { training: false });
    for (let level = 0; level < 2; level++) {
      const err = relativeError(got.locals[level].data, f.locals[level].dataSync());
      assert.ok(err < 1e-4, `l${level + 1}: relative error ${err.toExponential(2)}`);
    }
  });
  model.dispose();
  const whole = await buildFeatureCache(items, { ...base, precision: 'float32' });
  const all5 = await whole.batch(all(10));
  for (let level = 0; level < 2; level++)
    assert.ok(
      relativeError(got.locals[level].data, all5.locals[level].data) < 1e-6,
      'the same l1, l2 as k = 5',
    );

  const perView = valuesPerView(spec, 4) * 2;
  const spillDir = join(dir, 'spill-4');
  const f16 = await buildFeatureCache(items, { ...options, memoryLimitBytes: 3 * perView, spillDir });
  assert.deepEqual(
    { memory: f16.stats().memoryBytes, disk: f16.stats().diskBytes },
    { memory: 3 * perView, disk: 7 * perView },
  );
  const half = float32Features(await f16.batch(all(10)));
  for (let level = 0; level < 2; level++)
    assert.deepEqual(
      half.locals[level].data,
      fromHalf(toHalf(asFloat32(got.locals[level]).data)),
      `l${level + 1}`,
    );
  await Promise.all([f32.dispose(), f16.dispose(), whole.dispose()]);
  assert.deepEqual(readdirSync(spillDir), [], 'dispose deletes the spilled files');

  await assert.rejects(
    buildFeatureCache(items, { ...base, frozenBlocks: 3 }),
    (e: Error) => e instanceof FeatureCacheError && /1\.\.4 or 1\.\.5/.test(e.message),
  );
});

test("a run's two caches share one memory budget in proportion to the views they store", () => {
  assert.deepEqual(splitMemoryBudget(1000, { train: 300, val: 100 }), { train: 750, val: 250 });
  assert.deepEqual(splitMemoryBudget(1001, { train: 1, val: 2 }), { train: 333, val: 668 });
  assert.deepEqual(splitMemoryBudget(1000, { train: 10, val: 0 }), { train: 1000, val: 0 });
  const byDefault = splitMemoryBudget(undefined, { train: 3000, val: 1000 });
  const total = byDefault.train + byDefault.val;
  assert.ok(total >= MEMORY_BUDGET_BOUNDS.least && total <= MEMORY_BUDGET_BOUNDS.most, `${total}`);
  assert.ok(Math.abs(byDefault.train - 3 * byDefault.val) <= 3);
});

test('the default memory budget is half the free memory, from 1 GiB to 32 GiB', () => {
  const GiB = 1024 ** 3;
  assert.equal(defaultMemoryBudget(20 * GiB), 10 * GiB);
  assert.equal(defaultMemoryBudget(0.5 * GiB), GiB);
  assert.equal(defaultMemoryBudget(200 * GiB), 32 * GiB);
});
