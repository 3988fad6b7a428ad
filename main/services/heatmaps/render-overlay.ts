// Draws an attention map over the picture it was computed on and encodes the result as PNG (sharp).
// Readable on light and on dark pictures: the picture underneath is shown as grey with its contrast
// compressed into 40..220 (by default), so the colour of the map never competes with the picture's own
// colours and neither a white nor a black background swallows the map's dark or light ends; the map is
// then blended over it with a constant opacity. `base: 'colour'` keeps the picture's colours instead.
// Map normalisation, up-sampling and the combination of levels: see attention-map.ts. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import sharp from 'sharp';
import {
  AttentionMapError,
  MAP_NORMALISATIONS,
  mapForOverlay,
  type AttentionMap,
  type MapLevel,
  type MapNormalisation,
} from './attention-map.js';
import { COLORMAP_NAMES, colormapLut, type ColormapName } from './colormap.js';
import { drawLegend, legendWidth } from './legend.js';

/** 8-bit RGB pixels, interleaved, rows top to bottom (length width * height * 3). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface OverlayOptions {
  /** Which map: level 1, 2 or 3 (1-based index into the maps given) or 'combined' (default). */
  level?: MapLevel;
  /** Default 'turbo'. */
  colormap?: ColormapName;
  /** Weight of the map's colour over the picture, 0 (picture only) to 1 (map only). Default 0.5. */
  opacity?: number;
  /** Adds a colour bar with the labels 1, 0.5, 0 to the right of the picture (default false). */
  legend?: boolean;
  /** Default 'max' (see attention-map.ts). */
  normalisation?: MapNormalisation;
  /** The picture under the map: 'grey' (default, contrast-compressed) or 'colour' (as it is). */
  base?: 'grey' | 'colour';
  /** PNG zlib level 0-9 (default 6); lower is faster and larger. */
  compressionLevel?: number;
}

export const DEFAULT_OVERLAY_OPACITY = 0.5;
/** The grey base spans [GREY_LOW, GREY_LOW + GREY_RANGE] of 0..255. */
const GREY_LOW = 40;
const GREY_RANGE = 180;

export class OverlayError extends Error {
  override name = 'OverlayError';
}

function checkImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new OverlayError(`The picture has an impossible size ${width} x ${height}.`);
  if (data.length !== width * height * 3)
    throw new OverlayError(
      `The picture is ${width} x ${height} but holds ${data.length} bytes instead of ${width * height * 3} (RGB).`,
    );
}

function checkOptions(options: OverlayOptions): void {
  const opacity = options.opacity ?? DEFAULT_OVERLAY_OPACITY;
  if (!(opacity >= 0 && opacity <= 1))
    throw new OverlayError(`The opacity must be between 0 and 1, got ${opacity}.`);
  const colormap = options.colormap ?? 'turbo';
  if (!COLORMAP_NAMES.includes(colormap))
    throw new OverlayError(
      `Unknown colour map "${String(colormap)}". Should be one of: ${COLORMAP_NAMES.join(', ')}.`,
    );
  const normalisation = options.normalisation ?? 'max';
  if (!MAP_NORMALISATIONS.includes(normalisation))
    throw new OverlayError(
      `Unknown normalisation "${String(normalisation)}". Should be one of: ${MAP_NORMALISATIONS.join(', ')}.`,
    );
  if (options.base !== undefined && options.base !== 'grey' && options.base !== 'colour')
    throw new OverlayError(`Unknown base "${String(options.base)}". Should be one of: grey, colour.`);
}

/**
 * The overlay as raw RGB pixels: the picture's size, plus legendWidth(height) columns on the right when
 * `legend` is set. What renderAttentionOverlay encodes.
 */
export function overlayPixels(
  image: RgbImage,
  maps: AttentionMap | readonly AttentionMap[],
  options: OverlayOptions = {},
): RgbImage {
  checkImage(image);
  checkOptions(options);
  const list = Array.isArray(maps) ? (maps as readonly AttentionMap[]) : [maps as AttentionMap];
  const { width, height } = image;
  let heat: AttentionMap;
  try {
    heat = mapForOverlay(list, width, height, options.level ?? 'combined', options.normalisation ?? 'max');
  } catch (e) {
    if (e instanceof AttentionMapError) throw new OverlayError(e.message);
    throw e;
  }
  const lut = colormapLut(options.colormap ?? 'turbo');
  const alpha = options.opacity ?? DEFAULT_OVERLAY_OPACITY;
  const grey = (options.base ?? 'grey') === 'grey';
  // out = (1 - alpha) * base + alpha * colour, from two small tables: the weighted colour map and, for
  // the grey base, the weighted grey of each 8-bit luma (BT.601 weights 77/150/29 of 256).
  const colour = new Float32Array(256 * 3);
  for (let i = 0; i < colour.length; i++) colour[i] = alpha * lut[i] + 0.5; // + 0.5: round on truncation
  const greyOf = new Float32Array(256);
  for (let l = 0; l < 256; l++) greyOf[l] = (1 - alpha) * (GREY_LOW + (l * GREY_RANGE) / 255);
  const keep = 1 - alpha;
  const extra = options.legend ? legendWidth(height) : 0;
  const stride = width + extra;
  const out = new Uint8Array(stride * height * 3);
  const src = image.data;
  const h = heat.data;
  for (let y = 0; y < height; y++) {
    let p = y * width;
    let i = p * 3;
    let o = y * stride * 3;
    for (let x = 0; x < width; x++, p++, i += 3, o += 3) {
      const t = h[p];
      const e = ((t <= 0 ? 0 : t >= 1 ? 255 : (t * 255 + 0.5) | 0) * 3) | 0;
      if (grey) {
        const b = greyOf[(77 * src[i] + 150 * src[i + 1] + 29 * src[i + 2]) >> 8];
        out[o] = b + colour[e];
        out[o + 1] = b + colour[e + 1];
        out[o + 2] = b + colour[e + 2];
      } else {
        out[o] = keep * src[i] + colour[e];
        out[o + 1] = keep * src[i + 1] + colour[e + 1];
        out[o + 2] = keep * src[i + 2] + colour[e + 2];
      }
    }
  }
  if (options.legend) drawLegend(out, stride, height, width, options.colormap ?? 'turbo');
  return { width: stride, height, data: out };
}

/** Encodes 8-bit RGB pixels as PNG bytes. */
export async function encodePng(image: RgbImage, compressionLevel = 6): Promise<Uint8Array> {
  checkImage(image);
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png({ compressionLevel, adaptiveFiltering: false })
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/**
 * The attention overlay of `image` as PNG bytes: the chosen map (or the combination) normalised,
 * up-sampled bilinearly to the picture's size, coloured and blended (see the module comment).
 */
export async function renderAttentionOverlay(
  image: RgbImage,
  maps: AttentionMap | readonly AttentionMap[],
  options: OverlayOptions = {},
): Promise<Uint8Array> {
  return encodePng(overlayPixels(image, maps, options), options.compressionLevel ?? 6);
}
