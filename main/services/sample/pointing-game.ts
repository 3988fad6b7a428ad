// The pointing game (Zhang et al., 2016), our test of whether attention looks at the object: for each
// image, take the peak of its attention map, map that cell's centre back to image pixels and count a hit
// when it falls inside any of the image's object boxes (several boxes: any of them). Beside the hits it
// reports, per image and over the set:
//   - the random-peak rate: the share of the map's cells whose centre lies inside a box, i.e. how often a
//     peak placed on a uniformly random cell would hit (the baseline the hit rate must beat);
//   - the energy pointing game (Wang et al., Score-CAM, 2020): the share of the map's mass (values below 0
//     count as 0) on cells whose centre lies inside a box.
// The same rule decides "inside" for all three: a cell counts when its centre is in a box.
// Maps may have any resolution (the finest attention level is S/4). Cell (row, col) of an h x w map over a
// W x H image has its centre at ((col + 0.5) * W / w, (row + 0.5) * H / h): the half-pixel convention of
// PyTorch align_corners=False, tfjs halfPixelCenters=true and ONNX Resize half_pixel. Pure: must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { wilsonInterval } from '../../../models/core/metrics.js';

/** [x0, y0, x1, y1] in image pixels, edges in continuous coordinates: pixel x covers [x, x+1), so a box of
 * pixels 3..5 is [3, y0, 6, y1]. */
export type ObjectBox = readonly [number, number, number, number];

export interface AttentionMap {
  /** Row-major, height x width. */
  data: ArrayLike<number>;
  height: number;
  width: number;
}

export interface PointingOptions {
  /** Size of the images the boxes refer to. */
  imageWidth: number;
  imageHeight: number;
  /** Pixels of slack around each box for the hit (the original game uses 15 px at 224; default 0). */
  tolerance?: number;
}

export interface PointingPoint {
  /** The peak in image coordinates. */
  x: number;
  y: number;
  hit: boolean;
  /** Share of the map's mass inside the boxes (0 for a map without mass). */
  energy: number;
  /** Share of the map's cells inside the boxes. */
  chance: number;
}

export interface PointingGameResult {
  hits: number;
  total: number;
  /** hits / total (0 when there are no images). */
  hitRate: number;
  /** 95 % Wilson interval of the hit rate. */
  hitInterval: [number, number];
  /** Mean random-peak rate over the images. */
  chanceRate: number;
  /** Mean energy share over the images. */
  energy: number;
  points: PointingPoint[];
}

/** The peak cell of a map (first one in row-major order on ties; NaN ignored), in image coordinates. */
export function mapPeak(
  map: AttentionMap,
  imageWidth: number,
  imageHeight: number,
): { x: number; y: number; row: number; col: number } | undefined {
  checkMapSize(map);
  let best = -Infinity;
  let at = -1;
  for (let i = 0; i < map.data.length; i++) {
    const v = map.data[i];
    if (v > best) {
      best = v;
      at = i;
    }
  }
  if (at < 0) return undefined; // empty or all NaN
  const row = Math.floor(at / map.width);
  const col = at % map.width;
  return { x: ((col + 0.5) * imageWidth) / map.width, y: ((row + 0.5) * imageHeight) / map.height, row, col };
}

function checkMapSize(map: AttentionMap): void {
  if (map.data.length !== map.height * map.width) {
    throw new RangeError(`Map data has ${map.data.length} values, expected ${map.height} x ${map.width}`);
  }
}

function inside(boxes: readonly ObjectBox[], x: number, y: number, tolerance: number): boolean {
  return boxes.some(
    ([x0, y0, x1, y1]) =>
      x >= x0 - tolerance && x <= x1 + tolerance && y >= y0 - tolerance && y <= y1 + tolerance,
  );
}

/** Scores one map against its image's boxes (see the module comment). */
export function pointAt(
  map: AttentionMap,
  boxes: readonly ObjectBox[],
  options: PointingOptions,
): PointingPoint {
  const { imageWidth, imageHeight } = options;
  const tolerance = options.tolerance ?? 0;
  checkMapSize(map);
  let mass = 0;
  let massIn = 0;
  let cellsIn = 0;
  for (let row = 0; row < map.height; row++) {
    const y = ((row + 0.5) * imageHeight) / map.height;
    for (let col = 0; col < map.width; col++) {
      const v = map.data[row * map.width + col];
      const positive = v > 0 ? v : 0; // NaN and negatives carry no mass
      const isIn = inside(boxes, ((col + 0.5) * imageWidth) / map.width, y, 0);
      mass += positive;
      if (isIn) {
        massIn += positive;
        cellsIn++;
      }
    }
  }
  const cells = map.height * map.width;
  const energy = mass > 0 ? massIn / mass : 0;
  const chance = cells > 0 ? cellsIn / cells : 0;
  const peak = mapPeak(map, imageWidth, imageHeight);
  if (!peak) return { x: NaN, y: NaN, hit: false, energy, chance };
  return { x: peak.x, y: peak.y, hit: inside(boxes, peak.x, peak.y, tolerance), energy, chance };
}

/** Sums up scored images. */
export function summarisePoints(points: readonly PointingPoint[]): PointingGameResult {
  const hits = points.filter((p) => p.hit).length;
  const total = points.length;
  const mean = (f: (p: PointingPoint) => number): number =>
    total === 0 ? 0 : points.reduce((a, p) => a + f(p), 0) / total;
  return {
    hits,
    total,
    hitRate: total === 0 ? 0 : hits / total,
    hitInterval: wilsonInterval(hits, total),
    chanceRate: mean((p) => p.chance),
    energy: mean((p) => p.energy),
    points: [...points],
  };
}

/**
 * Plays the game over images: maps[i] belongs to the image whose object boxes are boxes[i] (one box, or a
 * list of which any may be hit).
 */
export function pointingGame(
  maps: readonly AttentionMap[],
  boxes: readonly (ObjectBox | readonly ObjectBox[])[],
  options: PointingOptions,
): PointingGameResult {
  if (maps.length !== boxes.length) {
    throw new RangeError(`Expected boxes for each map, got ${maps.length} maps and ${boxes.length} boxes`);
  }
  return summarisePoints(maps.map((map, i) => pointAt(map, boxList(boxes[i]), options)));
}

function boxList(b: ObjectBox | readonly ObjectBox[]): readonly ObjectBox[] {
  return typeof b[0] === 'number' ? [b as ObjectBox] : (b as readonly ObjectBox[]);
}
