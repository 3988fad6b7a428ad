// Training-time augmentation on decoded 8-bit RGB images (size x size, interleaved): random horizontal
// flip, random resized crop or random translation, and light colour jitter. Every random choice comes from
// the Random passed in, so a given seed gives the same pictures. Pure: must not import sharp, electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.
import type { Random } from '../../../models/core/random.js';

export interface RandomCropOptions {
  /** Smallest and largest fraction of the image area kept (default 0.5 .. 1). */
  minScale?: number;
  maxScale?: number;
  /** Range of width/height ratios of the crop, sampled log-uniformly (default 3/4 .. 4/3). */
  minAspect?: number;
  maxAspect?: number;
}

export interface ColourJitterOptions {
  /** Brightness factor drawn from [1 - b, 1 + b] (default 0.2). */
  brightness?: number;
  /** Contrast factor drawn from [1 - c, 1 + c] around the image's mean grey (default 0.2). */
  contrast?: number;
  /** Saturation factor drawn from [1 - s, 1 + s] (0 = grey) (default 0.2). */
  saturation?: number;
}

export interface AugmentOptions {
  /** Mirror left-right with probability 0.5 (default true). */
  flip?: boolean;
  /** Cut a random part and scale it back to full size (torchvision's RandomResizedCrop). Default off. */
  crop?: RandomCropOptions | boolean;
  /** Shift by up to this fraction of the size in x and y, filling with black (pad-and-crop). Default 0. */
  translate?: number;
  /** Light colour jitter. Default off. */
  colourJitter?: ColourJitterOptions | boolean;
}

/**
 * Returns a new augmented image; `source` is not modified (it may be a cached image). Order: crop or
 * translate, then flip, then colour jitter. Random numbers are drawn only for the operations switched on.
 */
export function augmentRgb8(
  source: Uint8Array,
  size: number,
  options: AugmentOptions,
  random: Random,
): Uint8Array {
  if (source.length !== size * size * 3) {
    throw new RangeError(`Expected ${size}x${size}x3 = ${size * size * 3} values, got ${source.length}`);
  }
  let image: Uint8Array;
  if (options.crop)
    image = randomResizedCrop(source, size, options.crop === true ? {} : options.crop, random);
  else if (options.translate && options.translate > 0)
    image = randomTranslate(source, size, options.translate, random);
  else image = source.slice();
  if ((options.flip ?? true) && random.next() < 0.5) flipHorizontal(image, size);
  if (options.colourJitter)
    colourJitter(image, options.colourJitter === true ? {} : options.colourJitter, random);
  return image;
}

/** Mirrors in place. */
export function flipHorizontal(image: Uint8Array, size: number): void {
  for (let y = 0; y < size; y++) {
    const row = y * size * 3;
    for (let x = 0; x < size >> 1; x++) {
      const a = row + x * 3;
      const b = row + (size - 1 - x) * 3;
      for (let c = 0; c < 3; c++) {
        const t = image[a + c];
        image[a + c] = image[b + c];
        image[b + c] = t;
      }
    }
  }
}

function randomTranslate(source: Uint8Array, size: number, fraction: number, random: Random): Uint8Array {
  const max = Math.floor(fraction * size);
  const dx = random.int(2 * max + 1) - max;
  const dy = random.int(2 * max + 1) - max;
  const out = new Uint8Array(source.length); // black where nothing comes in
  for (let y = 0; y < size; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= size) continue;
    for (let x = 0; x < size; x++) {
      const sx = x - dx;
      if (sx < 0 || sx >= size) continue;
      const to = (y * size + x) * 3;
      const from = (sy * size + sx) * 3;
      out[to] = source[from];
      out[to + 1] = source[from + 1];
      out[to + 2] = source[from + 2];
    }
  }
  return out;
}

function randomResizedCrop(
  source: Uint8Array,
  size: number,
  options: RandomCropOptions,
  random: Random,
): Uint8Array {
  const minScale = options.minScale ?? 0.5;
  const maxScale = options.maxScale ?? 1;
  const logMin = Math.log(options.minAspect ?? 3 / 4);
  const logMax = Math.log(options.maxAspect ?? 4 / 3);
  const scale = minScale + (maxScale - minScale) * random.next();
  const aspect = Math.exp(logMin + (logMax - logMin) * random.next());
  const w = Math.min(size, Math.sqrt(scale * aspect) * size);
  const h = Math.min(size, Math.sqrt(scale / aspect) * size);
  const x0 = (size - w) * random.next();
  const y0 = (size - h) * random.next();
  return resampleBilinear(source, size, x0, y0, w, h);
}

/** Scales the region (x0, y0, w, h) of the image (continuous pixel coordinates) to size x size, half-pixel centres. */
function resampleBilinear(
  source: Uint8Array,
  size: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
): Uint8Array {
  const out = new Uint8Array(source.length);
  const clamp = (v: number): number => Math.min(size - 1, Math.max(0, v));
  for (let y = 0; y < size; y++) {
    const sy = clamp(y0 + ((y + 0.5) * h) / size - 0.5);
    const ya = Math.floor(sy);
    const yb = Math.min(size - 1, ya + 1);
    const fy = sy - ya;
    for (let x = 0; x < size; x++) {
      const sx = clamp(x0 + ((x + 0.5) * w) / size - 0.5);
      const xa = Math.floor(sx);
      const xb = Math.min(size - 1, xa + 1);
      const fx = sx - xa;
      for (let c = 0; c < 3; c++) {
        const top = source[(ya * size + xa) * 3 + c] * (1 - fx) + source[(ya * size + xb) * 3 + c] * fx;
        const bottom = source[(yb * size + xa) * 3 + c] * (1 - fx) + source[(yb * size + xb) * 3 + c] * fx;
        out[(y * size + x) * 3 + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return out;
}

/** Brightness, contrast and saturation factors applied in place (values clamped to 0..255). */
function colourJitter(image: Uint8Array, options: ColourJitterOptions, random: Random): void {
  const factor = (amount: number): number => 1 - amount + 2 * amount * random.next();
  const brightness = factor(options.brightness ?? 0.2);
  const contrast = factor(options.contrast ?? 0.2);
  const saturation = factor(options.saturation ?? 0.2);
  const pixels = image.length / 3;
  // Mean grey (ITU-R 601 luma) of the brightened image, the pivot of the contrast change.
  let sum = 0;
  for (let i = 0; i < image.length; i += 3) sum += luma(image[i], image[i + 1], image[i + 2]);
  const meanGrey = (sum / pixels) * brightness;
  for (let i = 0; i < image.length; i += 3) {
    let r = image[i] * brightness;
    let g = image[i + 1] * brightness;
    let b = image[i + 2] * brightness;
    r = (r - meanGrey) * contrast + meanGrey;
    g = (g - meanGrey) * contrast + meanGrey;
    b = (b - meanGrey) * contrast + meanGrey;
    const grey = luma(r, g, b);
    image[i] = clampByte(grey + (r - grey) * saturation);
    image[i + 1] = clampByte(grey + (g - grey) * saturation);
    image[i + 2] = clampByte(grey + (b - grey) * saturation);
  }
}

const luma = (r: number, g: number, b: number): number => 0.299 * r + 0.587 * g + 0.114 * b;
const clampByte = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));
