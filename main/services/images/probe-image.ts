// Checks that a file is a usable image without decoding its pixels: format by content, size from the
// header (sharp metadata, or our own BMP header reader), the pixel limit, and a cheap look at the end of the
// file for truncation. Used by the dataset scan, which must get through 50,000 files quickly; a full decode
// check is optional. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.
import { openImageFile } from './open-image-file.js';
import sharp, { type Metadata } from 'sharp';
import { checkBmpSupported, readBmpHeader } from './bmp-decoder.js';
import {
  DEFAULT_MAX_PIXELS,
  corruptError,
  decodeImageBytesRgb8,
  decodeImageRgb8,
  emptyFileError,
  requireSupportedFormat,
  tooLargeError,
  truncatedError,
} from './decode-image.js';
import { ImageError, imageErrorFromFileSystem } from './image-error.js';
import {
  FORMAT_HEAD_BYTES,
  FORMAT_TAIL_BYTES,
  formatName,
  looksTruncated,
  type ImageFormat,
} from './image-format.js';

export interface ImageProbe {
  format: ImageFormat;
  /** Size after EXIF orientation (what the decoder will see). */
  width: number;
  height: number;
  /** Frames (animated GIF/WebP) or pages (TIFF); only the first is used. */
  pages: number;
}

export interface ProbeOptions {
  /** Largest accepted width x height (default sharp's 268,402,689). */
  maxPixels?: number;
  /** Also decode every pixel (slower; finds damage in the middle of a file). Default false. */
  fullDecode?: boolean;
  /** The first FORMAT_HEAD_BYTES and last FORMAT_TAIL_BYTES of the file and its size, if the caller already
   * read them (the dataset scan does while hashing); otherwise they are read here. */
  head?: Uint8Array;
  tail?: Uint8Array;
  fileSize?: number;
  /** The whole file, if the caller has it (small files in the scan): the header is then read from memory. */
  content?: Uint8Array;
}

/** Validates an image file from its header. Throws ImageError with the reason it cannot be used. */
export async function probeImage(path: string, options: ProbeOptions = {}): Promise<ImageProbe> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { head, tail, fileSize } =
    options.head && options.tail && options.fileSize !== undefined
      ? { head: options.head, tail: options.tail, fileSize: options.fileSize }
      : await readHeadAndTail(path);
  if (fileSize === 0) throw emptyFileError(path);
  const format = requireSupportedFormat(head, path);
  const probe =
    format === 'bmp'
      ? probeBmp(head, maxPixels, path)
      : await probeWithSharp(path, options.content, format, maxPixels, head, tail, fileSize);
  if (options.fullDecode || looksTruncated(format, head, tail, fileSize)) {
    // A truncation hint is confirmed by decoding (a JPEG may carry data after its end marker).
    const check = { size: 8, resize: 'stretch', kernel: 'nearest', maxPixels } as const;
    if (options.content) await decodeImageBytesRgb8(options.content, check, path);
    else await decodeImageRgb8(path, check);
  }
  return probe;
}

function probeBmp(head: Uint8Array, maxPixels: number, path: string): ImageProbe {
  const header = readBmpHeader(head, path);
  checkBmpSupported(header, path);
  if (header.width * header.height > maxPixels)
    throw tooLargeError(header.width, header.height, maxPixels, path);
  return { format: 'bmp', width: header.width, height: header.height, pages: 1 };
}

async function probeWithSharp(
  path: string,
  content: Uint8Array | undefined,
  format: ImageFormat,
  maxPixels: number,
  head: Uint8Array,
  tail: Uint8Array,
  fileSize: number,
): Promise<ImageProbe> {
  let metadata: Metadata;
  try {
    // limitInputPixels: false here so we can report the real size; the limit is applied just below.
    metadata = await sharp(content ?? path, { limitInputPixels: false }).metadata();
  } catch (error) {
    // The reason comes from the file, not from libvips' message (shared between threads: see decode-image).
    const detail = error instanceof Error ? error.message : String(error);
    if (!content) await readHeadAndTail(path); // throws 'missing' or 'unreadable' if the file went away
    if (looksTruncated(format, head, tail, fileSize)) throw truncatedError(format, path, detail);
    throw corruptError(format, path, detail);
  }
  const width = metadata.autoOrient?.width ?? metadata.width;
  const height = metadata.autoOrient?.height ?? metadata.height;
  if (!(width > 0 && height > 0)) {
    throw new ImageError('corrupt', `The ${formatName(format)} header gives no image size.`, { path });
  }
  if (width * height > maxPixels) throw tooLargeError(width, height, maxPixels, path);
  return { format, width, height, pages: metadata.pages ?? 1 };
}

/** Reads the first and last bytes of a file, and its size. Throws ImageError on OS errors. */
export async function readHeadAndTail(
  path: string,
): Promise<{ head: Uint8Array; tail: Uint8Array; fileSize: number }> {
  let handle;
  try {
    let stat;
    ({ handle, stat } = await openImageFile(path));
    const fileSize = stat.size;
    const head = new Uint8Array(Math.min(FORMAT_HEAD_BYTES, fileSize));
    await handle.read(head, 0, head.length, 0);
    const tailLength = Math.min(FORMAT_TAIL_BYTES, fileSize);
    const tail = new Uint8Array(tailLength);
    await handle.read(tail, 0, tailLength, fileSize - tailLength);
    return { head, tail, fileSize };
  } catch (error) {
    throw imageErrorFromFileSystem(error, path);
  } finally {
    await handle?.close();
  }
}
