import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { boxToInput, boxesToInput, pictureToInput } from '../../../../main/services/boxes/map-box.js';
import { decodeImageRgb8, RESIZE_POLICIES } from '../../../../main/services/images/decode-image.js';
import type { ObjectBox } from '../../../../main/services/sample/pointing-game.js';

/** Bounding box [x0, y0, x1, y1] of the pixels where `test` holds, or undefined if none. */
function pixelsBox(
  rgb: Uint8Array,
  size: number,
  test: (r: number, g: number, b: number) => boolean,
): ObjectBox | undefined {
  let [x0, y0, x1, y1] = [size, size, 0, 0];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      if (!test(rgb[i], rgb[i + 1], rgb[i + 2])) continue;
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
    }
  return x1 > x0 ? [x0, y0, x1, y1] : undefined;
}

const red = (r: number, g: number, b: number): boolean => r > 160 && g < 90 && b < 90;
const green = (r: number, g: number, b: number): boolean => g > 160 && r < 90 && b < 90;

describe('boxes through the resize policy', () => {
  let dir: string;
  let file: string;
  // As displayed: 100 wide x 60 high, a red block and a green block near the right edge.
  const redBox: ObjectBox = [40, 10, 60, 30];
  const greenBox: ObjectBox = [86, 36, 98, 56];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attnvgg-mapbox-'));
    const w = 100;
    const h = 60;
    const rgb = new Uint8Array(w * h * 3).fill(128);
    const paint = ([x0, y0, x1, y1]: ObjectBox, colour: [number, number, number]): void => {
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) rgb.set(colour, (y * w + x) * 3);
    };
    paint(redBox, [230, 20, 20]);
    paint(greenBox, [20, 230, 20]);
    // Stored sideways (60 wide x 100 high) with EXIF orientation 6, "turn 90 degrees clockwise to show":
    // what a phone writes when held upright.
    const stored = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
      .rotate(270)
      .jpeg({ quality: 98, chromaSubsampling: '4:4:4' })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const meta = await sharp(stored).metadata();
    assert.equal(meta.orientation, 6);
    assert.deepEqual([meta.width, meta.height], [60, 100]);
    file = join(dir, 'sideways.jpg');
    await writeFile(file, stored);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const resize of RESIZE_POLICIES)
    it(`lands on the same pixels as the decoder (${resize}, EXIF-rotated, not square)`, async () => {
      const size = 32;
      const decoded = await decodeImageRgb8(file, { size, resize, kernel: 'nearest' });
      assert.deepEqual([decoded.sourceWidth, decoded.sourceHeight], [100, 60]);
      const geometry = { width: decoded.sourceWidth, height: decoded.sourceHeight, size, resize };
      for (const [box, test] of [
        [redBox, red],
        [greenBox, green],
      ] as const) {
        const mapped = boxToInput(box, geometry);
        const seen = pixelsBox(decoded.data, size, test);
        if (resize === 'crop' && box === greenBox) {
          // Outside the centre square: cut away by the crop, so no box is left.
          assert.equal(mapped, undefined);
          assert.equal(seen, undefined);
          continue;
        }
        assert.ok(mapped && seen, `${resize}: mapped ${String(mapped)}, seen ${String(seen)}`);
        for (let k = 0; k < 4; k++)
          assert.ok(
            Math.abs(mapped[k] - seen[k]) <= 1.01,
            `${resize}: mapped ${mapped.join(',')}, pixels ${seen.join(',')}`,
          );
      }
    });

  it('computes the policies exactly', () => {
    // crop: 200 x 100 to 50: resized 100 x 50, centre cut from x = 25.
    assert.deepEqual(pictureToInput({ width: 200, height: 100, size: 50, resize: 'crop' }), {
      sx: 0.5,
      sy: 0.5,
      ox: -25,
      oy: 0,
    });
    // pad: 100 x 200 to 50: resized 25 x 50, placed at x = 12.
    assert.deepEqual(pictureToInput({ width: 100, height: 200, size: 50, resize: 'pad' }), {
      sx: 0.25,
      sy: 0.25,
      ox: 12,
      oy: 0,
    });
    assert.deepEqual(pictureToInput({ width: 200, height: 100, size: 50, resize: 'stretch' }), {
      sx: 0.25,
      sy: 0.5,
      ox: 0,
      oy: 0,
    });
    // Clipped at the edge of the input; a box left with no area is dropped, labels kept.
    assert.deepEqual(boxToInput([40, 0, 80, 20], { width: 200, height: 100, size: 50 }), [0, 0, 15, 10]);
    assert.deepEqual(
      boxesToInput(
        [
          { box: [0, 0, 10, 10], label: 'a' },
          { box: [60, 10, 100, 20], label: 'b' },
        ],
        { width: 200, height: 100, size: 50 },
      ),
      [{ box: [5, 5, 25, 10], label: 'b' }],
    );
    assert.throws(() => pictureToInput({ width: 0, height: 10, size: 5 }), /Cannot map boxes/);
  });
});
