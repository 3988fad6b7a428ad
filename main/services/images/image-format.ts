// Recognises an image file by its content (magic bytes), never by its extension, and checks the end of
// the file for signs of truncation without decoding it. Pure functions over bytes: must not import sharp,
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

/** The formats the app reads. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp' | 'tiff';

export const SUPPORTED_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'webp', 'gif', 'bmp', 'tiff'];

/** What the first bytes of a file say it is. */
export type FormatGuess =
  | { kind: 'image'; format: ImageFormat }
  | { kind: 'unsupported-image'; name: string } // e.g. 'an AVIF': an image format we recognise but do not read
  | { kind: 'other'; description: string }; // not an image: text, PDF, archive, unknown binary

/** How many leading bytes detectFormat looks at. */
export const FORMAT_HEAD_BYTES = 64;

/** How many trailing bytes looksTruncated looks at. */
export const FORMAT_TAIL_BYTES = 32;

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0): boolean =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);

const ascii = (bytes: Uint8Array, from: number, to: number): string =>
  String.fromCharCode(...bytes.subarray(from, Math.min(to, bytes.length)));

/** Identifies the format from the first bytes of a file (FORMAT_HEAD_BYTES are enough). */
export function detectFormat(head: Uint8Array): FormatGuess {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: 'image', format: 'png' };
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a')
    return { kind: 'image', format: 'gif' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { kind: 'image', format: 'webp' };
  if (ascii(head, 0, 2) === 'BM' && head.length >= 18) return { kind: 'image', format: 'bmp' };
  // TIFF: little-endian "II*\0", big-endian "MM\0*", and BigTIFF (43 instead of 42).
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a]))
    return { kind: 'image', format: 'tiff' };
  if (startsWith(head, [0x49, 0x49, 0x2b, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2b]))
    return { kind: 'image', format: 'tiff' };
  const unsupported = detectUnsupportedImage(head);
  if (unsupported !== undefined) return { kind: 'unsupported-image', name: unsupported };
  return { kind: 'other', description: describeNonImage(head) };
}

function detectUnsupportedImage(head: Uint8Array): string | undefined {
  if (ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    if (brand.startsWith('avi')) return 'an AVIF';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'a HEIC/HEIF';
    return undefined; // other ISO media (mp4, mov): not an image
  }
  if (ascii(head, 0, 4) === '8BPS') return 'a Photoshop (PSD)';
  if (startsWith(head, [0x00, 0x00, 0x01, 0x00]) && head.length >= 6 && head[4] + head[5] > 0)
    return 'a Windows icon (ICO)';
  if (
    startsWith(head, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) ||
    startsWith(head, [0xff, 0x4f, 0xff, 0x51])
  )
    return 'a JPEG 2000';
  if (startsWith(head, [0xff, 0x0a]) || ascii(head, 4, 8) === 'JXL ') return 'a JPEG XL';
  if (ascii(head, 0, 8) === 'qoif') return 'a QOI';
  const text = ascii(head, 0, head.length).trimStart().toLowerCase();
  if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg')))
    return 'an SVG (vector drawing)';
  return undefined;
}

function describeNonImage(head: Uint8Array): string {
  if (head.length === 0) return 'empty';
  if (ascii(head, 0, 5) === '%PDF-') return 'a PDF document';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'a ZIP archive (or an Office document)';
  if (startsWith(head, [0x1f, 0x8b])) return 'a gzip archive';
  const text = ascii(head, 0, head.length).trimStart().toLowerCase();
  if (text.startsWith('<!doctype html') || text.startsWith('<html')) return 'a web page (HTML)';
  const printable = head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128);
  if (printable) return 'text';
  return 'unknown binary data';
}

/** Human name of a format, for messages. */
export function formatName(format: ImageFormat): string {
  return { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF', bmp: 'BMP', tiff: 'TIFF' }[format];
}

/**
 * True when the end of the file shows it was cut short. Cheap structural checks only, so a `false` does not
 * prove the file is whole (damage in the middle is found by decoding), and a `true` for JPEG is only a hint
 * (some cameras append data after the end marker): callers confirm a JPEG hint by decoding.
 * - PNG: must end with the IEND chunk (type + fixed CRC AE 42 60 82).
 * - JPEG: the end-of-image marker FF D9 must be among the last bytes.
 * - GIF: must end with the trailer byte 0x3B.
 * - WebP: the RIFF size in the header must fit in the file.
 * - BMP: the pixel rows the header announces must fit in the file (uncompressed BMPs only).
 * - TIFF: no cheap check (data can be anywhere); decoding finds it.
 */
export function looksTruncated(
  format: ImageFormat,
  head: Uint8Array,
  tail: Uint8Array,
  fileSize: number,
): boolean {
  switch (format) {
    case 'png':
      return !(tail.length >= 8 && ascii(tail, tail.length - 8, tail.length - 4) === 'IEND');
    case 'jpeg': {
      for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return false;
      return true;
    }
    case 'gif':
      return tail.length === 0 || tail[tail.length - 1] !== 0x3b;
    case 'webp': {
      if (head.length < 8) return true;
      const riffSize = head[4] | (head[5] << 8) | (head[6] << 16) | (head[7] << 24);
      return (riffSize >>> 0) + 8 > fileSize;
    }
    case 'bmp': {
      const needed = bmpBytesNeeded(head);
      return needed !== undefined && needed > fileSize;
    }
    case 'tiff':
      return false;
  }
}

/** Bytes an uncompressed BMP needs (pixel offset + rows), from its header; undefined when not computable. */
function bmpBytesNeeded(head: Uint8Array): number | undefined {
  if (head.length < 34) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const offset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) return undefined;
  const width = Math.abs(view.getInt32(18, true));
  const height = Math.abs(view.getInt32(22, true));
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (compression !== 0 && compression !== 3 && compression !== 6) return undefined;
  const rowBytes = Math.floor((bitsPerPixel * width + 31) / 32) * 4;
  return offset + rowBytes * height;
}
