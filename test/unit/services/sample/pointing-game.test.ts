import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapPeak, pointingGame, type AttentionMap } from '../../../../main/services/sample/pointing-game.js';

/** An h x w map that is 0 except `value` at (row, col). */
function peakAt(height: number, width: number, row: number, col: number, value = 1): AttentionMap {
  const data = new Float32Array(height * width);
  data[row * width + col] = value;
  return { data, height, width };
}

describe('pointing game', () => {
  it('maps a cell centre back to image pixels with the half-pixel convention', () => {
    // A 4x4 map over a 64x64 image: cell (1, 2) has its centre at x = 2.5 * 16 = 40, y = 1.5 * 16 = 24.
    assert.deepEqual(mapPeak(peakAt(4, 4, 1, 2), 64, 64), { x: 40, y: 24, row: 1, col: 2 });
    // Non-square maps and images: 2 rows x 8 cols over 64 wide x 32 high.
    assert.deepEqual(mapPeak(peakAt(2, 8, 1, 0), 64, 32), { x: 4, y: 24, row: 1, col: 0 });
    // Ties go to the first cell in row-major order; NaN is ignored; all-NaN has no peak.
    const tie = { data: Float32Array.from([0, 5, 5, NaN]), height: 2, width: 2 };
    assert.deepEqual(mapPeak(tie, 2, 2), { x: 1.5, y: 0.5, row: 0, col: 1 });
    assert.equal(mapPeak({ data: [NaN, NaN], height: 1, width: 2 }, 2, 2), undefined);
  });

  it('counts a hit when the peak falls inside the box, edges included', () => {
    const options = { imageWidth: 64, imageHeight: 64 };
    const maps = [
      peakAt(4, 4, 1, 2), // (40, 24)
      peakAt(4, 4, 3, 3), // (56, 56)
      peakAt(16, 16, 0, 0), // (2, 2)
      peakAt(8, 8, 4, 4), // (36, 36): on the box edge
    ];
    const boxes = [
      [32, 16, 48, 32],
      [0, 0, 32, 32],
      [0, 0, 4, 4],
      [20, 20, 36, 36],
    ] as const;
    const result = pointingGame(maps, boxes, options);
    assert.deepEqual(
      result.points.map((p) => p.hit),
      [true, false, true, true],
    );
    assert.equal(result.hits, 3);
    assert.equal(result.hitRate, 0.75);
    // With 24 px of tolerance the miss at (56, 56) reaches the box [0, 0, 32, 32].
    assert.equal(pointingGame(maps, boxes, { ...options, tolerance: 24 }).hitRate, 1);
  });

  it('checks its inputs', () => {
    assert.throws(
      () => pointingGame([peakAt(2, 2, 0, 0)], [], { imageWidth: 4, imageHeight: 4 }),
      /one box per map/,
    );
    assert.throws(() => mapPeak({ data: [1, 2, 3], height: 2, width: 2 }, 4, 4), /expected 2 x 2/);
    assert.equal(pointingGame([], [], { imageWidth: 4, imageHeight: 4 }).hitRate, 0);
  });
});
