import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { scanDataset } from '../../../../main/services/datasets/scan-dataset.js';
import {
  MANIFEST_FILE,
  generateShapesDataset,
  readShapesBoxes,
} from '../../../../main/services/sample/generate-shapes-dataset.js';
import { SHAPE_CLASSES, renderShapesImage } from '../../../../main/services/sample/render-shapes-image.js';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'attnvgg-shapes-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('renderShapesImage', () => {
  it('is deterministic per seed', () => {
    const a = renderShapesImage('star', 64, 11);
    const b = renderShapesImage('star', 64, 11);
    const c = renderShapesImage('star', 64, 12);
    assert.deepEqual(a.rgb, b.rgb);
    assert.deepEqual(a.box, b.box);
    assert.notDeepEqual(a.rgb, c.rgb);
  });

  it("the box is the tight box of the object's pixels, and the object changes nothing outside it", () => {
    for (const label of SHAPE_CLASSES) {
      for (let seed = 0; seed < 10; seed++) {
        const size = seed % 2 === 0 ? 64 : 48;
        const image = renderShapesImage(label, size, seed);
        const without = renderShapesImage(label, size, seed, { withoutObject: true });
        const [x0, y0, x1, y1] = image.box;
        assert.ok(
          0 <= x0 && x0 < x1 && x1 <= size && 0 <= y0 && y0 < y1 && y1 <= size,
          `${label} ${seed}: ${image.box}`,
        );
        let touchesLeft = false;
        let touchesRight = false;
        let touchesTop = false;
        let touchesBottom = false;
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            const inBox = x >= x0 && x < x1 && y >= y0 && y < y1;
            const i = y * size + x;
            if (image.objectMask[i]) {
              assert.ok(inBox, `${label} ${seed}: object pixel (${x},${y}) outside ${image.box}`);
              touchesLeft ||= x === x0;
              touchesRight ||= x === x1 - 1;
              touchesTop ||= y === y0;
              touchesBottom ||= y === y1 - 1;
            }
            const changed = [0, 1, 2].some((c) => image.rgb[i * 3 + c] !== without.rgb[i * 3 + c]);
            if (changed)
              assert.ok(
                image.objectMask[i],
                `${label} ${seed}: drawn pixel (${x},${y}) not in the object mask`,
              );
          }
        }
        assert.ok(
          touchesLeft && touchesRight && touchesTop && touchesBottom,
          `${label} ${seed}: box not tight`,
        );
        // The object is big enough to see: at least 3 % of the picture (a small triangle or star).
        const area = image.objectMask.reduce((n, v) => n + v, 0);
        assert.ok(area >= 0.03 * size * size, `${label} ${seed}: object area ${area}`);
      }
    }
  });

  it('refuses unknown shapes and tiny sizes', () => {
    // @ts-expect-error: testing untyped input
    assert.throws(() => renderShapesImage('hexagon', 64, 0), /circle, square, triangle, cross, star/);
    assert.throws(() => renderShapesImage('circle', 8, 0), /at least 16/);
  });
});

describe('generateShapesDataset', () => {
  it('writes a train/val/test layout of PNGs with boxes, deterministically, that scans cleanly', async () => {
    const options = { size: 32, counts: { train: 3, val: 2, test: 1 }, seed: 5 };
    const one = await generateShapesDataset(join(base, 'one'), options);
    await generateShapesDataset(join(base, 'two'), options);
    assert.deepEqual(one.classes, ['circle', 'square', 'triangle', 'cross']);
    assert.equal(one.images, 4 * 6);
    const boxes = await readShapesBoxes(one.root);
    assert.equal(Object.keys(boxes).length, 24);
    assert.deepEqual(boxes, await readShapesBoxes(join(base, 'two')));
    for (const relative of ['train/circle/0000.png', 'val/cross/0001.png', 'test/triangle/0000.png']) {
      const a = await readFile(join(base, 'one', relative));
      assert.deepEqual(a, await readFile(join(base, 'two', relative)), relative);
    }
    // The PNG holds the rendered picture, and its box is the rendered box.
    const { data, info } = await sharp(join(base, 'one', 'train/square/0002.png'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [32, 32, 3]);
    assert.ok(boxes['train/square/0002.png'].every((v) => Number.isInteger(v)));
    assert.equal(data.length, 32 * 32 * 3);
    const manifest = JSON.parse(await readFile(join(base, 'one', MANIFEST_FILE), 'utf8'));
    assert.equal(manifest.seed, 5);
    assert.deepEqual(
      (await readdir(join(base, 'one', 'val', 'star')).catch(() => [])).length,
      0,
      'star is not among the 4 default classes',
    );
    const scan = await scanDataset(one.root);
    assert.equal(scan.layout, 'folders');
    assert.deepEqual(scan.errors, []);
    assert.deepEqual(scan.problems, []);
    assert.deepEqual(scan.duplicates, []);
    assert.deepEqual(
      scan.classes.map((c) => [c.name, c.splits]),
      ['circle', 'cross', 'square', 'triangle'].map((name) => [name, { train: 3, val: 2, test: 1 }]),
    );
    const other = await generateShapesDataset(join(base, 'three'), { ...options, seed: 6 });
    assert.notDeepEqual(await readShapesBoxes(other.root), boxes);
  });

  it('takes 5 classes or a list, and refuses bad counts', async () => {
    const five = await generateShapesDataset(join(base, 'five'), {
      classes: 5,
      size: 16,
      counts: { train: 1, val: 0, test: 0 },
    });
    assert.deepEqual(five.classes, [...SHAPE_CLASSES]);
    await assert.rejects(generateShapesDataset(join(base, 'bad'), { classes: 1 }), /2 to 5 classes/);
    await assert.rejects(generateShapesDataset(join(base, 'bad'), { counts: { train: -1 } }), /whole number/);
  });
});
