// Reads BMP files, which sharp 0.35 cannot decode: the header is parsed here (so a huge or odd file is
// rejected before any pixel memory is allocated) and the pixels are decoded with bmp-ts, then handed to
// sharp as raw RGBA. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or
// renderer.
import { decode as decodeBmpPixels } from 'bmp-ts';
import { ImageError } from './image-error.js';

export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  /** 0 none, 1 RLE8, 2 RLE4, 3 bit fields, 4 JPEG, 5 PNG, 6 alpha bit fields. */
  compression: number;
  headerSize: number;
}

/** Decoded BMP pixels: RGBA, 8 bits per channel, rows top to bottom. */
export interface BmpPixels {
  width: number;
  height: number;
  rgba: Uint8Array;
  /** False when the file has no real alpha (all BMPs under 16 bits, and 32-bit ones whose alpha is all 0). */
  hasAlpha: boolean;
}

/** Parses the BMP file and info headers (needs the first 34 bytes). Throws ImageError. */
export function readBmpHeader(bytes: Uint8Array, path?: string): BmpHeader {
  if (bytes.length < 26) {
    throw new ImageError('truncated', 'The BMP file ends inside its header. Copy it again or remove it.', {
      path,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = view.getUint32(14, true);
  if (headerSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit sizes. bmp-ts does not read it.
    throw new ImageError(
      'unsupported-format',
      'This is an old OS/2-style BMP, which the app cannot read. Save it again as PNG or a Windows BMP.',
      { path },
    );
  }
  if (![40, 52, 56, 108, 124].includes(headerSize)) {
    throw new ImageError('corrupt', `The BMP header is damaged (unknown header size ${headerSize}).`, {
      path,
    });
  }
  if (bytes.length < 34) {
    throw new ImageError('truncated', 'The BMP file ends inside its header. Copy it again or remove it.', {
      path,
    });
  }
  return {
    width: Math.abs(view.getInt32(18, true)),
    height: Math.abs(view.getInt32(22, true)),
    bitsPerPixel: view.getUint16(28, true),
    compression: view.getUint32(30, true),
    headerSize,
  };
}

/** Throws ImageError when the header describes something this decoder does not handle. */
export function checkBmpSupported(header: BmpHeader, path?: string): void {
  if (header.compression === 1 || header.compression === 2) {
    // bmp-ts 1.0.9 writes RLE pixels at the wrong offsets, so we refuse rather than return wrong pixels.
    throw new ImageError(
      'unsupported-format',
      'This BMP uses RLE compression, which the app cannot read. Save it again as an uncompressed BMP or PNG.',
      { path },
    );
  }
  if (header.compression === 4 || header.compression === 5) {
    throw new ImageError(
      'unsupported-format',
      'This BMP wraps a JPEG or PNG stream, which the app cannot read. Save it again as PNG or JPEG.',
      { path },
    );
  }
  if (![1, 4, 8, 16, 24, 32].includes(header.bitsPerPixel)) {
    throw new ImageError('corrupt', `The BMP header is damaged (${header.bitsPerPixel} bits per pixel).`, {
      path,
    });
  }
  if (header.width === 0 || header.height === 0) {
    throw new ImageError('corrupt', 'The BMP header says the image has no pixels.', { path });
  }
}

/** Decodes a whole BMP file. The caller checks the header (size limit) first. Throws ImageError. */
export function decodeBmp(bytes: Uint8Array, path?: string): BmpPixels {
  const header = readBmpHeader(bytes, path);
  checkBmpSupported(header, path);
  let decoded: ReturnType<typeof decodeBmpPixels>;
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Default layout is ABGR per pixel; bmp-ts's `toRGBA` layout is wrong for palette images in 1.0.9.
    decoded = decodeBmpPixels(buffer);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    if (error instanceof RangeError) {
      throw new ImageError('truncated', 'The BMP file ends early. Copy it again or remove it.', {
        path,
        detail,
      });
    }
    throw new ImageError('corrupt', `The BMP file is damaged and cannot be decoded (${detail}).`, {
      path,
      detail,
    });
  }
  const { width, height, data } = decoded;
  const pixels = width * height;
  const rgba = new Uint8Array(pixels * 4);
  const alphaMeaningful = header.bitsPerPixel >= 16;
  let anyAlpha = false;
  for (let i = 0; i < pixels; i++) {
    const a = alphaMeaningful ? data[i * 4] : 255;
    rgba[i * 4] = data[i * 4 + 3];
    rgba[i * 4 + 1] = data[i * 4 + 2];
    rgba[i * 4 + 2] = data[i * 4 + 1];
    rgba[i * 4 + 3] = a;
    if (a !== 0) anyAlpha = true;
  }
  // Many writers leave the alpha byte of 32-bit BMPs at 0 and mean "opaque" (browsers read them so too).
  const hasAlpha = alphaMeaningful && anyAlpha && rgba.some((v, i) => i % 4 === 3 && v !== 255);
  if (!hasAlpha) for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  return { width, height, rgba, hasAlpha };
}
