import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import {
  DEBIAN_FASHION_MNIST,
  FASHION_MNIST_CLASSES,
  FashionMnistError,
  loadFashionMnist,
  writeFashionMnist,
} from '../../../../main/services/datasets/fashion-mnist.js';
import { scanDataset } from '../../../../main/services/datasets/scan-dataset.js';
import { skipOrFail } from '../../../helpers/skip-or-fail.js';

let base: string;
let fake: string;
// Labels of the fake train file, in file order: class 3 appears at 0, 2, 5; class 7 at 1, 3, 4.
const fakeLabels = [3, 7, 3, 7, 7, 3];

function idx(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'attnvgg-fmnist-'));
  fake = join(base, 'fake-source');
  await mkdir(fake);
  const images = new Uint8Array(fakeLabels.length * 28 * 28).map(
    (_, i) => Math.floor(i / 784) * 40 + (i % 7),
  );
  await writeFile(
    join(fake, 'train-images-idx3-ubyte.gz'),
    gzipSync(idx([fakeLabels.length, 28, 28], images)),
  );
  await writeFile(
    join(fake, 'train-labels-idx1-ubyte.gz'),
    gzipSync(idx([fakeLabels.length], Uint8Array.from(fakeLabels))),
  );
  // The test files uncompressed: both forms are read.
  await writeFile(join(fake, 't10k-images-idx3-ubyte'), idx([2, 28, 28], new Uint8Array(2 * 784).fill(9)));
  await writeFile(join(fake, 't10k-labels-idx1-ubyte'), idx([2], Uint8Array.from([0, 9])));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('Fashion-MNIST', () => {
  it('perClass keeps the first N images of each class in file order', async () => {
    const set = await loadFashionMnist({ source: fake, split: 'train', perClass: 2 });
    assert.deepEqual([...set.fileIndex], [0, 1, 2, 3]);
    assert.deepEqual([...set.labels], [3, 7, 3, 7]);
    assert.equal(set.images.length, 4 * 784);
    assert.equal(set.images[784 * 2], 80); // image 2 starts with 2 * 40
    const all = await loadFashionMnist({ source: fake, split: 'train' });
    assert.equal(all.count, 6);
  });

  it('writes class folders of grey PNGs; with "both", train/ and test/ layouts', async () => {
    const out = join(base, 'out-fake');
    const summary = await writeFashionMnist(out, { source: fake, perClass: 2, split: 'both' });
    assert.equal(summary.images, 4 + 2);
    assert.deepEqual(await readdir(join(out, 'train', 'Dress')), ['00000.png', '00002.png']);
    assert.deepEqual(await readdir(join(out, 'train', 'Sneaker')), ['00001.png', '00003.png']);
    assert.deepEqual(await readdir(join(out, 'test', 'Ankle_boot')), ['00001.png']);
    assert.equal(summary.counts.train?.Dress, 2);
    const png = join(out, 'train', 'Dress', '00002.png');
    const metadata = await sharp(png).metadata();
    assert.deepEqual([metadata.width, metadata.height, metadata.channels], [28, 28, 1]);
    const { data } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([...data.subarray(0, 8)], [80, 81, 82, 83, 84, 85, 86, 80]);
  });

  it('a missing source says what to install', async () => {
    await assert.rejects(
      loadFashionMnist({ source: join(base, 'nowhere'), split: 'train' }),
      (e: Error) => e instanceof FashionMnistError && /apt-get install dataset-fashion-mnist/.test(e.message),
    );
  });

  it("Debian's files: a tiny perClass writes a dataset the scan accepts", async (t) => {
    const missing = skipOrFail(
      existsSync(join(DEBIAN_FASHION_MNIST, 'train-images-idx3-ubyte.gz'))
        ? null
        : `${DEBIAN_FASHION_MNIST} is missing: apt-get install dataset-fashion-mnist`,
    );
    if (missing) return t.skip(missing);
    const out = join(base, 'out-debian');
    const summary = await writeFashionMnist(out, { perClass: 3, split: 'train' });
    assert.equal(summary.images, 30);
    for (const name of FASHION_MNIST_CLASSES) assert.equal((await readdir(join(out, name))).length, 3, name);
    const scan = await scanDataset(out, { seed: 1 });
    assert.deepEqual(scan.errors, []);
    assert.deepEqual(
      scan.classes.map((c) => c.name),
      [...FASHION_MNIST_CLASSES].sort(),
    );
    assert.ok(scan.items.every((i) => i.width === 28 && i.height === 28));
    const test = await loadFashionMnist({ split: 'test', perClass: 1 });
    assert.equal(test.count, 10);
    assert.deepEqual([...test.labels].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
