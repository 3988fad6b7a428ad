// The per-image files of a classification (classify-folder.ts) under <out>/heatmaps/, mirroring the
// input's layout: the overlay PNG of the chosen attention map, and the raw maps as one .json (all
// levels) or one .npy per level. Must not import electron or anything from main/electron, main/backend, main/server,
// main/cli or renderer.

import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AttentionMap } from '../heatmaps/attention-map.js';
import { renderAttentionOverlay } from '../heatmaps/render-overlay.js';
import { decodeImageRgb8 } from '../images/decode-image.js';
import { writeFileAtomic } from '../storage/atomic-write.js';
import { HEATMAPS_FOLDER } from './classify-options.js';
import type { ClassifySetup } from './classify-setup.js';
import { relativeSlashes } from './collect-files.js';
import type { DecodedImage } from './decode-batch.js';
import { encodeNpyFloat32 } from './npy.js';

/** What was written for one image, relative to the output folder (the fields of its row). */
export interface ImageOutputs {
  overlay?: string;
  maps?: string[];
}

/** Writes one image's files from its attention maps. */
export type ImageOutputWriter = (entry: DecodedImage, maps: AttentionMap[]) => Promise<ImageOutputs>;

function rawMapsJson(maps: readonly AttentionMap[]): string {
  return `${JSON.stringify({
    format: 'attnvgg-attention-maps/1',
    note: 'attention_k[y][x] as the model output it (softmax maps sum to 1 over positions), before any normalisation for display',
    maps: maps.map((m, k) => ({
      level: k + 1,
      height: m.height,
      width: m.width,
      values: Array.from({ length: m.height }, (_, y) =>
        Array.from(m.data.subarray(y * m.width, (y + 1) * m.width), (v) => Number(v.toPrecision(7))),
      ),
    })),
  })}\n`;
}

/** Per-image files: atomic (never half-written) but not flushed one by one (thousands of them). */
function writeBulkFile(path: string, data: Uint8Array | string): Promise<void> {
  return writeFileAtomic(path, data, { durable: false });
}

async function writeOverlay(
  setup: ClassifySetup,
  entry: DecodedImage,
  maps: AttentionMap[],
  base: string,
): Promise<string> {
  const { options, settings } = setup;
  const side = setup.overlaySide(entry.sourceWidth, entry.sourceHeight);
  const pixels =
    entry.pixels ?? (await decodeImageRgb8(entry.file.path, { ...setup.decode, size: side })).data;
  const png = await renderAttentionOverlay({ width: side, height: side, data: pixels }, maps, {
    level: setup.level,
    colormap: options.colormap ?? 'turbo',
    opacity: settings.opacity,
    legend: settings.legend,
    compressionLevel: options.pngCompression ?? 3,
  });
  await writeBulkFile(`${base}.png`, png);
  return relativeSlashes(setup.out, `${base}.png`);
}

async function writeRawMaps(
  setup: ClassifySetup,
  format: 'json' | 'npy',
  maps: AttentionMap[],
  base: string,
): Promise<string[]> {
  if (format === 'json') {
    await writeBulkFile(`${base}.maps.json`, rawMapsJson(maps));
    return [relativeSlashes(setup.out, `${base}.maps.json`)];
  }
  const written: string[] = [];
  for (let k = 0; k < maps.length; k++) {
    const path = `${base}.attention_${k + 1}.npy`;
    await writeBulkFile(path, encodeNpyFloat32([maps[k].height, maps[k].width], maps[k].data));
    written.push(relativeSlashes(setup.out, path));
  }
  return written;
}

/** The writer of a run's per-image files; each folder under <out>/heatmaps/ is made once. */
export function imageOutputWriter(setup: ClassifySetup): ImageOutputWriter {
  const madeFolders = new Map<string, Promise<void>>();
  return async (entry, maps) => {
    const written: ImageOutputs = {};
    const base = join(setup.out, HEATMAPS_FOLDER, ...entry.file.key.split('/'));
    const folder = dirname(base);
    if (!madeFolders.has(folder)) {
      madeFolders.set(
        folder,
        mkdir(folder, { recursive: true }).then(() => undefined),
      );
    }
    await madeFolders.get(folder);
    if (setup.heatmaps) written.overlay = await writeOverlay(setup, entry, maps, base);
    const { rawMaps } = setup.options;
    if (rawMaps) written.maps = await writeRawMaps(setup, rawMaps, maps, base);
    return written;
  };
}
