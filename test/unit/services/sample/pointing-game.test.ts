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

  it('hits any of several boxes, and reports random-peak rate, energy and interval', () => {
    const options = { imageWidth: 8, imageHeight: 8 };
    // A 4 x 4 map over 8 x 8: cell centres at 1, 3, 5, 7. Mass 3 on (0, 0), 1 on (3, 3).
    const map = peakAt(4, 4, 0, 0, 3);
    (map.data as Float32Array)[15] = 1;
    // Two boxes: the first holds the centre (1, 1), the second (7, 7) and (5, 7)... and (7, 5), (5, 5).
    const boxes = [
      [0, 0, 2, 2],
      [4, 4, 8, 8],
    ] as const;
    const result = pointingGame([map, map], [boxes, [[4, 4, 8, 8]]], options);
    assert.deepEqual(
      result.points.map((p) => p.hit),
      [true, false],
    );
    // 5 of 16 cells inside the two boxes, 4 of 16 inside the second alone.
    assert.deepEqual(
      result.points.map((p) => p.chance),
      [5 / 16, 4 / 16],
    );
    assert.deepEqual(
      result.points.map((p) => p.energy),
      [1, 1 / 4],
    );
    assert.equal(result.chanceRate, (5 / 16 + 4 / 16) / 2);
    assert.equal(result.energy, (1 + 1 / 4) / 2);
    // Wilson interval of 1 hit in 2.
    assert.ok(result.hitInterval[0] < 0.5 && result.hitInterval[1] > 0.5);
    assert.ok(result.hitInterval[0] > 0 && result.hitInterval[1] < 1);
    // A map with no mass (all 0) has energy 0; negatives carry no mass.
    const empty = pointingGame([{ data: [0, -1, 0, 0], height: 2, width: 2 }], [[0, 0, 1, 1]], {
      imageWidth: 2,
      imageHeight: 2,
    });
    assert.equal(empty.energy, 0);
    assert.equal(empty.chanceRate, 1 / 4);
  });

  it('checks its inputs', () => {
    assert.throws(
      () => pointingGame([peakAt(2, 2, 0, 0)], [], { imageWidth: 4, imageHeight: 4 }),
      /boxes for each map/,
    );
    assert.throws(() => mapPeak({ data: [1, 2, 3], height: 2, width: 2 }, 4, 4), /expected 2 x 2/);
    assert.equal(pointingGame([], [], { imageWidth: 4, imageHeight: 4 }).hitRate, 0);
  });
});
