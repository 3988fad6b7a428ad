// Turns 8-bit RGB pixels into the float input of the network: x = (pixel / 255 - mean[c]) / std[c], per
// channel c, in NHWC order (pixel after pixel, R G B). The mean and std travel with the model (its sidecar),
// so training and deployment cannot drift. Pure: must not import sharp, electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

export type Rgb = readonly [number, number, number];

/** torchvision's ImageNet statistics of RGB in [0, 1]. */
export const IMAGENET_MEAN: Rgb = [0.485, 0.456, 0.406];
export const IMAGENET_STD: Rgb = [0.229, 0.224, 0.225];

export interface NormaliseOptions {
  /** Per-channel mean of pixel/255 (default ImageNet's). */
  mean?: Rgb;
  /** Per-channel standard deviation of pixel/255 (default ImageNet's). */
  std?: Rgb;
}

/**
 * Writes (rgb[i] / 255 - mean[c]) / std[c] for every value of `rgb` (interleaved RGB) into `out` starting at
 * `offset`, and returns `out`. With the ImageNet defaults the output lies in about [-2.1, 2.6].
 */
export function normaliseRgb8(
  rgb: Uint8Array,
  options: NormaliseOptions = {},
  out: Float32Array = new Float32Array(rgb.length),
  offset = 0,
): Float32Array {
  const mean = options.mean ?? IMAGENET_MEAN;
  const std = options.std ?? IMAGENET_STD;
  if (rgb.length % 3 !== 0)
    throw new RangeError(`Expected interleaved RGB (a multiple of 3 values), got ${rgb.length}`);
  if (offset + rgb.length > out.length) {
    throw new RangeError(`Output too small: need ${offset + rgb.length} values, have ${out.length}`);
  }
  for (const s of std)
    if (!(s > 0)) throw new RangeError(`Each std must be above 0, got [${std.join(', ')}]`);
  // Precompute per channel: x = pixel * scale[c] + shift[c].
  const scale = [0, 1, 2].map((c) => 1 / (255 * std[c]));
  const shift = [0, 1, 2].map((c) => -mean[c] / std[c]);
  for (let i = 0; i < rgb.length; i += 3) {
    out[offset + i] = rgb[i] * scale[0] + shift[0];
    out[offset + i + 1] = rgb[i + 1] * scale[1] + shift[1];
    out[offset + i + 2] = rgb[i + 2] * scale[2] + shift[2];
  }
  return out;
}

/** The inverse, for showing a network input as an image: clamps to 0..255 and rounds. */
export function denormaliseToRgb8(x: Float32Array, options: NormaliseOptions = {}): Uint8Array {
  const mean = options.mean ?? IMAGENET_MEAN;
  const std = options.std ?? IMAGENET_STD;
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % 3;
    out[i] = Math.min(255, Math.max(0, Math.round((x[i] * std[c] + mean[c]) * 255)));
  }
  return out;
}
