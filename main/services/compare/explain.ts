// Where the two models look: for a sample of evaluation pictures, the attention model's own maps
// (TensorFlow.js) and Grad-CAM of the plain model at conv 13 (plain-grad-cam.ts: onnxruntime, on the
// run's device), drawn with the heat-map module; and, on a dataset with object boxes, the pointing game
// for both. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { AttentionVgg } from '../../../models/tfjs/model.js';
import { predictArrays } from '../../../models/tfjs/predict.js';
import { createBatchStream } from '../datasets/batch-stream.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import { encodePng, mapForOverlay, renderAttentionOverlay, type AttentionMap } from '../heatmaps/index.js';
import { decodeImageRgb8 } from '../images/decode-image.js';
import type { Rgb } from '../images/normalise.js';
import { pointingGame, type ObjectBox, type PointingGameResult } from '../sample/index.js';
import type { PlainGradCam } from './plain-grad-cam.js';

export interface ModelPair {
  attention: AttentionVgg;
  /** Grad-CAM of the plain model (its maps and predictions). */
  plain: Pick<PlainGradCam, 'explain'>;
  classes: readonly string[];
  inputSize: number;
  mean: Rgb;
  std: Rgb;
}

/** The maps and predictions of both models for one picture. */
export interface PairedMaps {
  item: DatasetItem;
  /** Attention levels 1..3 at their native sizes. */
  attentionMaps: AttentionMap[];
  attentionPredicted: number;
  attentionConfidence: number;
  /** Grad-CAM of the plain model at conv 13 (S/16), for its predicted class. */
  gradCam: AttentionMap;
  plainPredicted: number;
  plainConfidence: number;
}

function argMax(p: ArrayLike<number>, from: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (p[from + c] > p[from + best]) best = c;
  return best;
}

/** Runs both models over `items` in batches and hands each picture's maps to `visit`. */
export async function forEachPairedMaps(
  pair: ModelPair,
  items: readonly DatasetItem[],
  visit: (maps: PairedMaps) => void | Promise<void>,
  batchSize = 16,
): Promise<void> {
  const byPath = new Map(items.map((i) => [i.path, i]));
  const k = pair.classes.length;
  const s = pair.inputSize;
  const stream = createBatchStream(items, {
    batchSize,
    inputSize: s,
    shuffle: false,
    mean: pair.mean,
    std: pair.std,
  });
  for await (const batch of stream) {
    const att = predictArrays(pair.attention, batch.x, batch.size);
    const cam = await pair.plain.explain(batch.x, batch.size);
    for (let i = 0; i < batch.size; i++) {
      const a = argMax(att.probabilities, i * k, k);
      const p = cam.classIndices[i];
      await visit({
        item: byPath.get(batch.paths[i]) as DatasetItem,
        attentionMaps: att.maps.map(({ shape: [, h, w], data }) => ({
          width: w,
          height: h,
          data: data.slice(i * h * w, (i + 1) * h * w),
        })),
        attentionPredicted: a,
        attentionConfidence: att.probabilities[i * k + a],
        gradCam: { width: cam.width, height: cam.height, data: cam.maps[i] },
        plainPredicted: p,
        plainConfidence: cam.probabilities[i * k + p],
      });
    }
  }
}

/** Up to `count` pictures, taking the classes in turn (first pictures of each class in path order). */
export function sampleForExplanations(items: readonly DatasetItem[], count: number): DatasetItem[] {
  const byClass = new Map<number, DatasetItem[]>();
  for (const item of [...items].sort((a, b) => a.relativePath.localeCompare(b.relativePath))) {
    const list = byClass.get(item.classIndex) ?? [];
    list.push(item);
    byClass.set(item.classIndex, list);
  }
  const queues = [...byClass.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l);
  const out: DatasetItem[] = [];
  for (let round = 0; out.length < count && queues.some((q) => q.length > round); round++)
    for (const q of queues) if (round < q.length && out.length < count) out.push(q[round]);
  return out;
}

export interface ExplanationImage {
  item: DatasetItem;
  picture: Uint8Array;
  attentionOverlay: Uint8Array;
  gradCamOverlay: Uint8Array;
  attentionPredicted: string;
  attentionConfidence: number;
  plainPredicted: string;
  plainConfidence: number;
}

/** Overlays for the given pictures, drawn at `displaySize` (the crop the model sees, re-decoded larger). */
export async function renderExplanations(
  pair: ModelPair,
  items: readonly DatasetItem[],
  displaySize: number,
): Promise<ExplanationImage[]> {
  const out: ExplanationImage[] = [];
  await forEachPairedMaps(pair, items, async (m) => {
    const picture = await decodeImageRgb8(m.item.path, { size: displaySize });
    const image = { width: picture.width, height: picture.height, data: picture.data };
    out.push({
      item: m.item,
      picture: await encodePng(image),
      attentionOverlay: await renderAttentionOverlay(image, m.attentionMaps, { level: 'combined' }),
      gradCamOverlay: await renderAttentionOverlay(image, [m.gradCam], { level: 1 }),
      attentionPredicted: pair.classes[m.attentionPredicted],
      attentionConfidence: m.attentionConfidence,
      plainPredicted: pair.classes[m.plainPredicted],
      plainConfidence: m.plainConfidence,
    });
  });
  return out;
}

export interface PointingScore {
  hits: number;
  total: number;
  hitRate: number;
  resolution: string;
}

export interface PairedPointing {
  images: number;
  chanceRate: number;
  attentionFinest: PointingScore;
  attentionCombined: PointingScore;
  attentionConv13: PointingScore;
  gradCamConv13: PointingScore;
}

function score(result: PointingGameResult, resolution: string): PointingScore {
  return { hits: result.hits, total: result.total, hitRate: result.hitRate, resolution };
}

/**
 * The pointing game for both models on the pictures that have a box (`boxes` keyed by relativePath, one
 * box or a list of which any may be hit, in pixels of imageSize x imageSize pictures). Native maps are scored at their own cells (as
 * attention-pointing.ts does); the combined attention map is scored where it is drawn, at picture size.
 */
export async function pairedPointingGame(
  pair: ModelPair,
  items: readonly DatasetItem[],
  boxes: Readonly<Record<string, ObjectBox | readonly ObjectBox[]>>,
  imageSize: number,
): Promise<PairedPointing> {
  const withBoxes = items.filter((i) => boxes[i.relativePath]);
  const finest: AttentionMap[] = [];
  const combined: AttentionMap[] = [];
  const conv13: AttentionMap[] = [];
  const cams: AttentionMap[] = [];
  const picked: (ObjectBox | readonly ObjectBox[])[] = [];
  await forEachPairedMaps(pair, withBoxes, (m) => {
    finest.push(m.attentionMaps[0]);
    conv13.push(m.attentionMaps[2]);
    combined.push(mapForOverlay(m.attentionMaps, imageSize, imageSize, 'combined'));
    cams.push(m.gradCam);
    picked.push(boxes[m.item.relativePath]);
  });
  const geometry = { imageWidth: imageSize, imageHeight: imageSize };
  const finestGame = pointingGame(finest, picked, geometry);
  const side = (m: AttentionMap[]): string =>
    m.length > 0 ? `native ${m[0].width} x ${m[0].height}` : 'native';
  return {
    images: picked.length,
    // A random peak on the finest map's cells: the share of them inside the box (as the demo reports it).
    chanceRate: finestGame.chanceRate,
    attentionFinest: score(finestGame, side(finest)),
    attentionCombined: score(
      pointingGame(combined, picked, geometry),
      `picture ${imageSize} x ${imageSize} (bilinear)`,
    ),
    attentionConv13: score(pointingGame(conv13, picked, geometry), side(conv13)),
    gradCamConv13: score(pointingGame(cams, picked, geometry), side(cams)),
  };
}
