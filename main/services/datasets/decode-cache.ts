// Keeps decoded 8-bit images in memory, up to a byte budget, so epochs after the first do not decode the
// same files again (worth it for small datasets: a 64x64 RGB image is 12 KB, so 256 MB hold ~20,000).
// Policy: fill until the budget is reached, then stop adding. Not LRU on purpose: training reads every
// image once per epoch in a new order, and LRU under that cyclic access evicts each image just before it is
// needed again, so it would cost memory and save nothing. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.
import type { DecodeOptions } from '../images/decode-image.js';

export interface DecodeCacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  /** Images not kept because the budget was full. */
  refused: number;
}

export interface DecodeCache {
  get(key: string): Uint8Array | undefined;
  /** Keeps `pixels` if the budget allows; returns whether it was kept. The caller must not modify it after. */
  set(key: string, pixels: Uint8Array): boolean;
  stats(): DecodeCacheStats;
  clear(): void;
}

/** Default budget: 256 MB. */
export const DEFAULT_DECODE_CACHE_BYTES = 256 * 1024 * 1024;

export function createDecodeCache(options: { maxBytes?: number } = {}): DecodeCache {
  const maxBytes = options.maxBytes ?? DEFAULT_DECODE_CACHE_BYTES;
  const entries = new Map<string, Uint8Array>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let refused = 0;
  return {
    get(key) {
      const pixels = entries.get(key);
      if (pixels) hits++;
      else misses++;
      return pixels;
    },
    set(key, pixels) {
      if (entries.has(key)) return true;
      if (bytes + pixels.byteLength > maxBytes) {
        refused++;
        return false;
      }
      entries.set(key, pixels);
      bytes += pixels.byteLength;
      return true;
    },
    stats: () => ({ entries: entries.size, bytes, maxBytes, hits, misses, refused }),
    clear() {
      entries.clear();
      bytes = 0;
    },
  };
}

/** The cache key of a file decoded with given settings (a different size or policy is a different image). */
export function decodeCacheKey(path: string, options: DecodeOptions): string {
  return JSON.stringify([
    options.size,
    options.resize ?? 'crop',
    options.kernel ?? 'lanczos3',
    options.alphaBackground ?? null,
    options.padColour ?? null,
    path,
  ]);
}
