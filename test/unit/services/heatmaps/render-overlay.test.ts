// Overlays: PNG dimensions with and without the legend, the blend at opacity 0 and 1, a hand-made 2x2 map
// drawn over a 4x4 picture pixel by pixel, and the legend's colour bar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  OverlayError,
  colormapLut,
  legendWidth,
  overlayPixels,
  renderAttentionOverlay,
  resizeBilinear,
  type AttentionMap,
  type RgbImage,
} from '../../../../main/services/heatmaps/index.js';

function picture(
  width: number,
  height: number,
  fill: (x: number, y: number) => [number, number, number],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(fill(x, y), (y * width + x) * 3);
  return { width, height, data };
}

const map2x2: AttentionMap = { width: 2, height: 2, data: new Float32Array([0, 1, 2, 3]) };

test('the PNG has the picture size, plus the legend strip when asked', async () => {
  const image = picture(40, 30, (x, y) => [x * 6, y * 8, 100]);
  const plain = await sharp(await renderAttentionOverlay(image, map2x2)).metadata();
  assert.deepEqual([plain.format, plain.width, plain.height, plain.channels], ['png', 40, 30, 3]);
  const withLegend = await sharp(await renderAttentionOverlay(image, [map2x2], { legend: true })).metadata();
  assert.deepEqual([withLegend.width, withLegend.height], [40 + legendWidth(30), 30]);
});

test('the PNG decodes to exactly the overlay pixels', async () => {
  const image = picture(9, 7, (x, y) => [(x * 29) % 256, (y * 37) % 256, 200]);
  const options = { level: 1, colormap: 'inferno', opacity: 0.6, base: 'colour' } as const;
  const { data } = await sharp(await renderAttentionOverlay(image, [map2x2], options))
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.deepEqual(new Uint8Array(data), overlayPixels(image, [map2x2], options).data);
});

test('opacity 1 shows the colour map of the up-sampled map, pixel by pixel (2x2 map, 4x4 picture)', () => {
  const image = picture(4, 4, () => [255, 255, 255]);
  const out = overlayPixels(image, [map2x2], { level: 1, colormap: 'jet', opacity: 1 });
  // 'max' normalisation divides by 3, then the half-pixel bilinear values of the 2x2 map.
  const heat = resizeBilinear({ ...map2x2, data: map2x2.data.map((v) => v / 3) }, 4, 4).data;
  const lut = colormapLut('jet');
  for (let p = 0; p < 16; p++) {
    const e = Math.round(heat[p] * 255) * 3;
    assert.deepEqual(
      Array.from(out.data.subarray(p * 3, p * 3 + 3)),
      Array.from(lut.subarray(e, e + 3)),
      `pixel ${p}`,
    );
  }
  // Corners: the map's minimum (0) and maximum (1) are the colour map's ends.
  assert.deepEqual(Array.from(out.data.subarray(0, 3)), [0, 0, 128]);
  assert.deepEqual(Array.from(out.data.subarray(45, 48)), [128, 0, 0]);
});

test('opacity 0 shows the picture: as it is, or as contrast-compressed grey', () => {
  const image = picture(3, 2, (x, y) => [x * 100, y * 200, 50]);
  assert.deepEqual(overlayPixels(image, map2x2, { opacity: 0, base: 'colour' }).data, image.data);
  const grey = overlayPixels(image, map2x2, { opacity: 0 }).data;
  for (let p = 0; p < 6; p++) {
    const [r, g, b] = image.data.subarray(p * 3, p * 3 + 3);
    const luma = (77 * r + 150 * g + 29 * b) >> 8;
    const expected = Math.floor(40 + (luma * 180) / 255 + 0.5);
    assert.deepEqual(Array.from(grey.subarray(p * 3, p * 3 + 3)), [expected, expected, expected]);
  }
  // Black stays above 40 and white below 221, so both ends of any colour map stay visible over them.
  const extremes = overlayPixels(
    picture(2, 1, (x) => (x === 0 ? [0, 0, 0] : [255, 255, 255])),
    map2x2,
    { opacity: 0 },
  );
  assert.deepEqual(Array.from(extremes.data), [40, 40, 40, 220, 220, 220]);
});

test('the legend bar runs from the colour of 1 at the top to the colour of 0 at the bottom', () => {
  const h = 200; // legend scale 2
  const out = overlayPixels(
    picture(50, h, () => [128, 128, 128]),
    map2x2,
    { legend: true, colormap: 'turbo' },
  );
  const lut = colormapLut('turbo');
  const at = (x: number, y: number): number[] =>
    Array.from(out.data.subarray((y * out.width + x) * 3, (y * out.width + x) * 3 + 3));
  const barX = 50 + 3 * 2 + 1; // strip start + 3 s + inside the bar
  const top = 4 * 2;
  const bottom = h - 1 - 4 * 2;
  assert.deepEqual(at(barX, top), Array.from(lut.subarray(765, 768)));
  assert.deepEqual(at(barX, bottom), Array.from(lut.subarray(0, 3)));
  assert.deepEqual(at(50 + legendWidth(h) - 1, 0), [255, 255, 255], 'white background');
});

test('refusals in plain words', () => {
  const image = picture(4, 4, () => [0, 0, 0]);
  assert.throws(() => overlayPixels(image, map2x2, { opacity: 1.5 }), /between 0 and 1/);
  assert.throws(() => overlayPixels({ ...image, data: new Uint8Array(5) }, map2x2), OverlayError);
  assert.throws(() => overlayPixels(image, [], {}), /No attention map/);
  assert.throws(() => overlayPixels(image, map2x2, { level: 2 }), /only 1 maps exist/);
});
