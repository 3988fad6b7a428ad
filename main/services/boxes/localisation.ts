// Scores where a model's attention looks, over a set of pictures with object boxes: the pointing game
// (sample/pointing-game.ts) for each attention level at its own cells and for the combined map the app
// draws (heatmaps/attention-map.ts) at input resolution, each with its 95 % interval, random-peak rate and
// energy share. Boxes come in input pixels (map-box.ts), already narrowed to the picture's own class
// (find-boxes.ts boxesOfClass). Pure: must not import Node, electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import {
  DEFAULT_COMBINATION,
  mapForOverlay,
  type AttentionMap,
  type MapCombination,
} from '../heatmaps/attention-map.js';
import {
  pointAt,
  summarisePoints,
  type ObjectBox,
  type PointingGameResult,
  type PointingPoint,
} from '../sample/pointing-game.js';

/** One map's pointing game over the pictures: the result without its per-picture points. */
export type LocalisationScore = Omit<PointingGameResult, 'points'>;

export interface LocalisationReport {
  /** Pictures scored (those with at least one box of their class left in the input). */
  images: number;
  /** Level 1 (finest) first. */
  levels: LocalisationScore[];
  /** The combined map, as the app draws it by default. */
  combined: LocalisationScore & { combination: MapCombination };
  /** Every combination asked for (the bench compares them), by name. */
  combinations?: Partial<Record<MapCombination, LocalisationScore>>;
}

function score(points: readonly PointingPoint[]): LocalisationScore {
  const { points: _points, ...summary } = summarisePoints(points);
  return summary;
}

/** Collects scored pictures one at a time (an evaluation's batches) and sums them up. */
export class LocalisationTally {
  private readonly levels: PointingPoint[][] = [];
  private readonly combos = new Map<MapCombination, PointingPoint[]>();

  constructor(
    /** The input side S: boxes and the combined map are in S x S pixels. */
    private readonly size: number,
    private readonly combinations: readonly MapCombination[] = [DEFAULT_COMBINATION],
  ) {
    for (const c of new Set([DEFAULT_COMBINATION, ...combinations])) this.combos.set(c, []);
  }

  /** Scores one picture's maps (level 1 first) against its boxes in input pixels; no boxes: skipped. */
  add(maps: readonly AttentionMap[], boxes: readonly ObjectBox[]): void {
    if (boxes.length === 0 || maps.length === 0) return;
    const geometry = { imageWidth: this.size, imageHeight: this.size };
    maps.forEach((map, k) => {
      (this.levels[k] ??= []).push(pointAt(map, boxes, geometry));
    });
    for (const [combination, points] of this.combos)
      points.push(
        pointAt(mapForOverlay(maps, this.size, this.size, 'combined', 'max', combination), boxes, geometry),
      );
  }

  get images(): number {
    return this.levels[0]?.length ?? 0;
  }

  report(): LocalisationReport {
    const combined = score(this.combos.get(DEFAULT_COMBINATION) as PointingPoint[]);
    const report: LocalisationReport = {
      images: this.images,
      levels: this.levels.map(score),
      combined: { ...combined, combination: DEFAULT_COMBINATION },
    };
    if (this.combinations.length > 1 || this.combinations[0] !== DEFAULT_COMBINATION)
      report.combinations = Object.fromEntries(
        this.combinations.map((c) => [c, score(this.combos.get(c) as PointingPoint[])]),
      );
    return report;
  }
}
