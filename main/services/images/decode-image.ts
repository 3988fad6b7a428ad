// The one image decoder of the app: training, evaluation and classification all call it, so an image is
// turned into network input the same way everywhere. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.
//
// What it does, in order:
// 1. Reads the file and recognises the format by content (magic bytes), never by extension: JPEG, PNG, WebP,
//    GIF (first frame only), BMP (decoded with bmp-ts, since sharp cannot), TIFF (first page).
// 2. Applies the EXIF orientation (a phone photo taken upright comes out upright).
// 3. Resizes to size x size with the chosen policy:
//    - 'crop' (default): scale so the SHORTER side is `size`, then cut the centre square. Keeps the aspect
//      ratio, loses the edges of long images. (sharp fit 'cover', position 'centre'.)
//    - 'stretch': scale each axis independently to `size` (distorts the aspect ratio, keeps everything).
//    - 'pad': scale so the LONGER side is `size`, centre it and fill the rest with `padColour` (default
//      black). (sharp fit 'contain'.)
//    Resampling is lanczos3 by default.
// 4. Converts any colour layout to 8-bit sRGB with 3 channels: grayscale is replicated, CMYK is converted
//    with the embedded or libvips' default profile, 16-bit is reduced to 8-bit, and alpha is flattened onto
//    `alphaBackground`, WHITE by default: transparent product shots, logos and icons are drawn to be seen on
//    a light page, which is how a person labelling them saw them.
// 5. decodeImage only: normalises to float, (pixel/255 - mean[c]) / std[c], NHWC (see normalise.ts).
//
// Images over `maxPixels` (width x height, default sharp's 268,402,689 = 0x3FFF squared) are refused from the
// header, before any pixel memory is allocated.
import { openImageFile } from './open-image-file.js';
import sharp, { type Sharp } from 'sharp';
import { decodeBmp, readBmpHeader, checkBmpSupported } from './bmp-decoder.js';
import { ImageError, imageErrorFromFileSystem } from './image-error.js';
import {
  FORMAT_HEAD_BYTES,
  FORMAT_TAIL_BYTES,
  detectFormat,
  formatName,
  looksTruncated,
  type ImageFormat,
} from './image-format.js';
import { normaliseRgb8, type NormaliseOptions, type Rgb } from './normalise.js';

export type ResizePolicy = 'crop' | 'stretch' | 'pad';
export const RESIZE_POLICIES: readonly ResizePolicy[] = ['crop', 'stretch', 'pad'];

export type ResizeKernel = 'nearest' | 'linear' | 'cubic' | 'lanczos3';

/** sharp's default pixel limit: 0x3FFF x 0x3FFF. */
export const DEFAULT_MAX_PIXELS = 268_402_689;
/** Files larger than this are refused before being read (no real training image is this big). */
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;

export interface DecodeOptions {
  /** Output width and height in pixels (the model input size S). */
  size: number;
  /** How the picture is fitted into size x size (default 'crop': shorter side to S, centre crop). */
  resize?: ResizePolicy;
  /** Colour that transparent pixels are flattened onto, 0..255 (default white [255, 255, 255]). */
  alphaBackground?: Rgb;
  /** Colour of the bars added by the 'pad' policy, 0..255 (default black [0, 0, 0]). */
  padColour?: Rgb;
  /** Resampling kernel (default 'lanczos3'). */
  kernel?: ResizeKernel;
  /** Largest accepted width x height (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /** Largest accepted file size in bytes (default DEFAULT_MAX_FILE_BYTES). */
  maxFileBytes?: number;
}

interface DecodedInfo {
  /** Always `size`. */
  width: number;
  height: number;
  channels: 3;
  format: ImageFormat;
  /** Size of the picture after EXIF orientation, before resizing. */
  sourceWidth: number;
  sourceHeight: number;
}

/** 8-bit sRGB pixels, interleaved R G B, rows top to bottom (length size * size * 3). */
export interface Rgb8Image extends DecodedInfo {
  data: Uint8Array;
}

/** Normalised float pixels, NHWC without the N (length size * size * 3). */
export interface FloatImage extends DecodedInfo {
  data: Float32Array;
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/** Decodes an image file to size x size 8-bit RGB (for caching and display). Throws ImageError. */
export async function decodeImageRgb8(path: string, options: DecodeOptions): Promise<Rgb8Image> {
  const bytes = await readImageFile(path, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
  return decodeImageBytesRgb8(bytes, options, path);
}

/** Decodes an image file to normalised float network input (NHWC, length size * size * 3). Throws ImageError. */
export async function decodeImage(
  path: string,
  options: DecodeOptions & NormaliseOptions,
): Promise<FloatImage> {
  const image = await decodeImageRgb8(path, options);
  return { ...image, data: normaliseRgb8(image.data, options) };
}

/** Like decodeImageRgb8, for bytes already in memory; `path` only labels errors. Throws ImageError. */
export async function decodeImageBytesRgb8(
  bytes: Uint8Array,
  options: DecodeOptions,
  path?: string,
): Promise<Rgb8Image> {
  checkDecodeOptions(options);
  if (bytes.length === 0) throw emptyFileError(path);
  const format = requireSupportedFormat(bytes.subarray(0, FORMAT_HEAD_BYTES), path);
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const bmp = format === 'bmp' ? bmpAsSharpInput(bytes, maxPixels, path) : undefined;
  let sourceWidth: number;
  let sourceHeight: number;
  if (bmp) {
    [sourceWidth, sourceHeight] = [bmp.width, bmp.height];
  } else {
    // The header first, without sharp's limit, so a huge image is refused with its real size.
    let metadata;
    try {
      metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
    } catch (error) {
      throw imageErrorFromDecoder(error, format, bytes, path);
    }
    sourceWidth = metadata.autoOrient?.width ?? metadata.width;
    sourceHeight = metadata.autoOrient?.height ?? metadata.height;
    if (metadata.width * metadata.height > maxPixels) {
      throw tooLargeError(metadata.width, metadata.height, maxPixels, path);
    }
  }
  try {
    const image = bmp
      ? sharp(bmp.rgba, { raw: { width: bmp.width, height: bmp.height, channels: 4 } })
      : sharp(bytes, { failOn: 'error', limitInputPixels: maxPixels });
    const pixels = await resizeToRgb(image.autoOrient(), options);
    return {
      data: pixels,
      width: options.size,
      height: options.size,
      channels: 3,
      format,
      sourceWidth,
      sourceHeight,
    };
  } catch (error) {
    throw imageErrorFromDecoder(error, format, bytes, path);
  }
}

async function resizeToRgb(image: Sharp, options: DecodeOptions): Promise<Uint8Array> {
  const size = options.size;
  const [br, bg, bb] = options.alphaBackground ?? WHITE;
  const [pr, pg, pb] = options.padColour ?? BLACK;
  const fit = { crop: 'cover', stretch: 'fill', pad: 'contain' } as const;
  const { data, info } = await image
    .resize(size, size, {
      fit: fit[options.resize ?? 'crop'],
      position: 'centre',
      kernel: options.kernel ?? 'lanczos3',
      background: { r: pr, g: pg, b: pb, alpha: 1 },
    })
    .flatten({ background: { r: br, g: bg, b: bb } })
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size) {
    throw new Error(`Resize produced ${info.width}x${info.height} instead of ${size}x${size}`);
  }
  // Copy into a buffer JavaScript owns: no external backing store (Electron's memory cage), no pooled slab.
  return toRgb(new Uint8Array(data), info.channels, size * size);
}

/** Makes 3 interleaved channels from whatever sharp returned (it should already be 3). */
function toRgb(data: Uint8Array, channels: number, pixels: number): Uint8Array {
  if (channels === 3) return data;
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = channels < 3 ? data[i * channels] : data[i * channels + c];
  }
  return out;
}

function checkDecodeOptions(options: DecodeOptions): void {
  if (!Number.isInteger(options.size) || options.size < 1) {
    throw new RangeError(`Expected size to be a positive integer, got ${options.size}`);
  }
  const policy = options.resize ?? 'crop';
  if (!RESIZE_POLICIES.includes(policy)) {
    throw new RangeError(
      `Unknown resize policy "${policy}". Should be one of: ${RESIZE_POLICIES.join(', ')}`,
    );
  }
}

/** Opens, size-checks and reads a file, turning OS errors into ImageError. */
export async function readImageFile(
  path: string,
  maxFileBytes = DEFAULT_MAX_FILE_BYTES,
): Promise<Uint8Array> {
  let handle;
  try {
    let stat;
    ({ handle, stat } = await openImageFile(path));
    if (stat.size > maxFileBytes) {
      throw new ImageError(
        'too-large',
        `The file is ${megabytes(stat.size)} MB, over the limit of ${megabytes(maxFileBytes)} MB for one image.`,
        { path },
      );
    }
    const bytes = await handle.readFile();
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (error) {
    throw imageErrorFromFileSystem(error, path);
  } finally {
    await handle?.close();
  }
}

/** The format of `head`, or the ImageError that explains why it is not one we read. */
export function requireSupportedFormat(head: Uint8Array, path?: string): ImageFormat {
  const guess = detectFormat(head);
  if (guess.kind === 'image') return guess.format;
  if (guess.kind === 'unsupported-image') {
    throw new ImageError(
      'unsupported-format',
      `This is ${guess.name} image, which the app cannot read. Convert it to PNG or JPEG.`,
      { path },
    );
  }
  if (head.length === 0) throw emptyFileError(path);
  throw new ImageError(
    'not-an-image',
    `This is not an image: its content is ${guess.description}, whatever its name says. ` +
      'The app reads JPEG, PNG, WebP, GIF, BMP and TIFF. Remove the file or replace it.',
    { path },
  );
}

export function emptyFileError(path?: string): ImageError {
  return new ImageError(
    'empty',
    'The file is empty (0 bytes): it was probably not fully copied or downloaded. Copy it again or remove it.',
    { path },
  );
}

export function truncatedError(format: ImageFormat, path?: string, detail?: string): ImageError {
  return new ImageError(
    'truncated',
    `The ${formatName(format)} file ends early: it was probably not fully copied or downloaded. ` +
      'Copy it again or remove it.',
    { path, detail },
  );
}

export function tooLargeError(width: number, height: number, maxPixels: number, path?: string): ImageError {
  const mp = (n: number): string => (n / 1e6).toFixed(1);
  return new ImageError(
    'too-large',
    `The image is ${width} x ${height} pixels (${mp(width * height)} megapixels), over the limit of ` +
      `${mp(maxPixels)} megapixels. Shrink it, or remove it from the folder.`,
    { path },
  );
}

function bmpAsSharpInput(
  bytes: Uint8Array,
  maxPixels: number,
  path?: string,
): { rgba: Uint8Array; width: number; height: number } {
  const header = readBmpHeader(bytes, path);
  checkBmpSupported(header, path);
  if (header.width * header.height > maxPixels)
    throw tooLargeError(header.width, header.height, maxPixels, path);
  if (looksTruncated('bmp', bytes.subarray(0, FORMAT_HEAD_BYTES), new Uint8Array(0), bytes.length)) {
    throw truncatedError('bmp', path);
  }
  return decodeBmp(bytes, path);
}

/**
 * Maps a decoder failure to a reason from the file's own structure, never from the decoder's message:
 * libvips keeps one error buffer for all threads, so under concurrent decodes a message can describe another
 * file. The message stays in `detail` for --debug.
 */
function imageErrorFromDecoder(
  error: unknown,
  format: ImageFormat,
  bytes: Uint8Array,
  path?: string,
): ImageError {
  if (error instanceof ImageError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const head = bytes.subarray(0, FORMAT_HEAD_BYTES);
  const tail = bytes.subarray(Math.max(0, bytes.length - FORMAT_TAIL_BYTES));
  if (looksTruncated(format, head, tail, bytes.length)) return truncatedError(format, path, detail);
  return corruptError(format, path, detail);
}

export function corruptError(format: ImageFormat, path?: string, detail?: string): ImageError {
  return new ImageError(
    'corrupt',
    `The ${formatName(format)} file is damaged and cannot be decoded. Remove it or replace it.`,
    { path, detail },
  );
}

function megabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
