// The pointing game (Zhang et al., 2016), our test of whether attention looks at the object: for each
// image, take the peak of its attention map, map that cell's centre back to image pixels and count a hit
// when it falls inside the object's box. Maps may have any resolution (the finest attention level is S/4).
// Cell (row, col) of an h x w map over a W x H image has its centre at ((col + 0.5) * W / w,
// (row + 0.5) * H / h): the half-pixel convention of PyTorch align_corners=False, tfjs
// halfPixelCenters=true and ONNX Resize half_pixel. Pure: must not import electron or anything from
// main/electron, main/server, main/cli or renderer.

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
  /** Pixels of slack around each box (the original game uses 15 px at 224; default 0). */
  tolerance?: number;
}

export interface PointingPoint {
  /** The peak in image coordinates. */
  x: number;
  y: number;
  hit: boolean;
}

export interface PointingGameResult {
  hits: number;
  total: number;
  /** hits / total (0 when there are no images). */
  hitRate: number;
  points: PointingPoint[];
}

/** The peak cell of a map (first one in row-major order on ties; NaN ignored), in image coordinates. */
export function mapPeak(
  map: AttentionMap,
  imageWidth: number,
  imageHeight: number,
): { x: number; y: number; row: number; col: number } | undefined {
  if (map.data.length !== map.height * map.width) {
    throw new RangeError(`Map data has ${map.data.length} values, expected ${map.height} x ${map.width}`);
  }
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

/** Plays the game over images: maps[i] belongs to the image whose object box is boxes[i]. */
export function pointingGame(
  maps: readonly AttentionMap[],
  boxes: readonly ObjectBox[],
  options: PointingOptions,
): PointingGameResult {
  if (maps.length !== boxes.length) {
    throw new RangeError(`Expected one box per map, got ${maps.length} maps and ${boxes.length} boxes`);
  }
  const tolerance = options.tolerance ?? 0;
  const points = maps.map((map, i): PointingPoint => {
    const peak = mapPeak(map, options.imageWidth, options.imageHeight);
    if (!peak) return { x: NaN, y: NaN, hit: false };
    const [x0, y0, x1, y1] = boxes[i];
    const hit =
      peak.x >= x0 - tolerance &&
      peak.x <= x1 + tolerance &&
      peak.y >= y0 - tolerance &&
      peak.y <= y1 + tolerance;
    return { x: peak.x, y: peak.y, hit };
  });
  const hits = points.filter((p) => p.hit).length;
  return { hits, total: points.length, hitRate: points.length === 0 ? 0 : hits / points.length, points };
}
