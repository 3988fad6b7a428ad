import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRandom } from '../../../../models/core/random.js';
import { augmentRgb8, flipHorizontal } from '../../../../main/services/datasets/augment-image.js';
import {
  createBatchStream,
  epochOrder,
  type Batch,
  type BatchItem,
  type SkippedFile,
} from '../../../../main/services/datasets/batch-stream.js';
import { createDecodeCache } from '../../../../main/services/datasets/decode-cache.js';
import { decodeImage } from '../../../../main/services/images/decode-image.js';
import { writeDatasetFolder } from '../../../fixtures/make-dataset-folder.js';

const S = 8;
let base: string;
let items: BatchItem[];

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'attnvgg-batches-'));
  const written = await writeDatasetFolder(base, { a: 6, b: 5 });
  items = [
    ...written.a.map((path) => ({ path, classIndex: 0 })),
    ...written.b.map((path) => ({ path, classIndex: 1 })),
  ];
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<Batch>): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of stream) batches.push(batch);
  return batches;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createBatchStream', () => {
  it('yields every image once per epoch, in the seeded order, with its label and normalised pixels', async () => {
    const stream = createBatchStream(items, { batchSize: 3, inputSize: S, seed: 5, prefetch: 2 });
    assert.equal(stream.batchCount, 4);
    const batches = await collect(stream);
    assert.deepEqual(
      batches.map((b) => b.size),
      [3, 3, 3, 2],
    );
    const paths = batches.flatMap((b) => b.paths);
    assert.deepEqual(
      paths,
      epochOrder(items.length, { seed: 5 }).map((i) => items[i].path),
    );
    assert.equal(new Set(paths).size, items.length);
    const first = batches[0];
    assert.equal(first.x.length, 3 * S * S * 3);
    for (let k = 0; k < first.size; k++) {
      const item = items.find((i) => i.path === first.paths[k]) as BatchItem;
      assert.equal(first.labels[k], item.classIndex);
      const alone = await decodeImage(item.path, { size: S });
      assert.deepEqual(first.x.subarray(k * S * S * 3, (k + 1) * S * S * 3), alone.data);
    }
  });

  it('the order depends on seed and epoch only', async () => {
    const order = async (seed: number, epoch: number) =>
      (
        await collect(
          createBatchStream(items, { batchSize: 4, inputSize: S, seed, epoch, decodeConcurrency: 1 }),
        )
      ).flatMap((b) => b.paths);
    assert.deepEqual(await order(1, 0), await order(1, 0));
    assert.notDeepEqual(await order(1, 0), await order(1, 1));
    assert.notDeepEqual(await order(1, 0), await order(2, 0));
    const unshuffled = await collect(
      createBatchStream(items, { batchSize: 4, inputSize: S, shuffle: false }),
    );
    assert.deepEqual(
      unshuffled.flatMap((b) => b.paths),
      items.map((i) => i.path),
    );
  });

  it('decodes ahead: while the consumer holds a batch, the next `prefetch` batches are decoded', async () => {
    const cache = createDecodeCache();
    const stream = createBatchStream(items, { batchSize: 2, inputSize: S, prefetch: 2, cache });
    const first = await stream.next();
    assert.ok(!first.done);
    await sleep(300); // the consumer "computes"
    assert.equal(cache.stats().entries, 2 + 2 * 2, 'batch 0 and the two batches after it are decoded');
    await collect(stream);
    assert.equal(cache.stats().entries, items.length);
  });

  it('skips a file deleted mid-stream and reports it, without stopping', async () => {
    const dir = join(base, 'deleted');
    const written = await writeDatasetFolder(dir, { x: 12 });
    const own = written.x.map((path, i) => ({ path, classIndex: i % 2 }));
    const options = { batchSize: 2, inputSize: S, seed: 9, prefetch: 1, decodeConcurrency: 1 };
    const victim = own[epochOrder(own.length, options).at(-1) as number].path; // in the last batch
    const skipped: SkippedFile[] = [];
    const stream = createBatchStream(own, { ...options, onSkip: (s) => skipped.push(s) });
    const batches: Batch[] = [];
    for await (const batch of stream) {
      if (batches.length === 0) await unlink(victim);
      batches.push(batch);
    }
    assert.deepEqual(
      skipped.map((s) => [s.path, s.error.reason]),
      [[victim, 'missing']],
    );
    const paths = batches.flatMap((b) => b.paths);
    assert.equal(paths.length, own.length - 1);
    assert.ok(!paths.includes(victim));
    assert.equal(batches.at(-1)?.size, 1);
  });

  it('augmentation is deterministic per seed and epoch; the cache saves decoding in epoch 2', async () => {
    const cache = createDecodeCache({ maxBytes: 1024 * 1024 });
    const augment = { flip: true, translate: 0.25, colourJitter: true };
    const run = async (seed: number, epoch: number) =>
      collect(
        createBatchStream(items, {
          batchSize: 4,
          inputSize: S,
          seed,
          epoch,
          augment,
          cache,
          decodeConcurrency: 3,
        }),
      );
    const a = await run(3, 0);
    const misses = cache.stats().misses;
    const b = await run(3, 0);
    assert.equal(cache.stats().misses, misses, 'no decoding in the second pass');
    assert.ok(cache.stats().hits >= items.length);
    assert.deepEqual(
      a.map((batch) => batch.x),
      b.map((batch) => batch.x),
    );
    const c = await run(3, 1);
    assert.notDeepEqual(
      a.map((batch) => batch.x),
      c.map((batch) => batch.x),
    );
  });

  it("an image's augmentation does not depend on its position (a resumed epoch matches)", async () => {
    const augment = { flip: true, crop: true, colourJitter: true };
    const byPath = async (list: BatchItem[]) => {
      const out = new Map<string, Float32Array>();
      for (const b of await collect(
        createBatchStream(list, { batchSize: 3, inputSize: S, shuffle: false, seed: 2, epoch: 1, augment }),
      )) {
        b.paths.forEach((p, k) => out.set(p, b.x.slice(k * S * S * 3, (k + 1) * S * S * 3)));
      }
      return out;
    };
    const forward = await byPath(items);
    const backward = await byPath([...items].reverse().slice(2));
    for (const [path, x] of backward) assert.deepEqual(x, forward.get(path), path);
  });

  it('dropLast leaves out a short last batch; bad options are refused', async () => {
    const batches = await collect(createBatchStream(items, { batchSize: 4, inputSize: S, dropLast: true }));
    assert.deepEqual(
      batches.map((b) => b.size),
      [4, 4],
    );
    assert.throws(() => createBatchStream(items, { batchSize: 0, inputSize: S }), /batchSize/);
  });
});

describe('augmentRgb8', () => {
  const size = 4;
  const image = new Uint8Array(size * size * 3).map((_, i) => (i * 11) % 256);

  it('flip mirrors left-right and twice is the identity', () => {
    const flipped = image.slice();
    flipHorizontal(flipped, size);
    assert.deepEqual([...flipped.subarray(0, 3)], [...image.subarray(9, 12)]);
    flipHorizontal(flipped, size);
    assert.deepEqual(flipped, image);
  });

  it('does not modify its input and is deterministic per random stream', () => {
    const copy = image.slice();
    const options = { flip: true, crop: true, colourJitter: true };
    const a = augmentRgb8(image, size, options, createRandom(1));
    const b = augmentRgb8(image, size, options, createRandom(1));
    assert.deepEqual(image, copy);
    assert.deepEqual(a, b);
  });

  it('translate shifts and fills with black; a full-size crop and zero jitter change nothing', () => {
    let shifted: Uint8Array | undefined;
    for (let seed = 0; seed < 50 && !shifted; seed++) {
      const out = augmentRgb8(image, size, { flip: false, translate: 0.25 }, createRandom(seed));
      if (out.some((v, i) => v !== image[i])) shifted = out;
    }
    assert.ok(shifted, 'some seed shifts the image');
    assert.ok(shifted.some((v) => v === 0));
    const same = augmentRgb8(
      image,
      size,
      {
        flip: false,
        crop: { minScale: 1, maxScale: 1, minAspect: 1, maxAspect: 1 },
        colourJitter: { brightness: 0, contrast: 0, saturation: 0 },
      },
      createRandom(4),
    );
    assert.deepEqual(same, image);
  });
});
