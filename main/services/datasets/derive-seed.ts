// Derives independent 32-bit seeds from a user's seed and a few labels (a class name, an epoch, an item's
// position), so each sub-task gets its own reproducible random stream that does not depend on the order in
// which concurrent work finishes. Pure: must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

/** FNV-1a hash of a string, 32 bits. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes a seed with further numbers or strings into a new 32-bit seed (murmur3's finaliser per step). */
export function deriveSeed(seed: number, ...parts: (number | string)[]): number {
  let h = seed >>> 0;
  for (const part of parts) {
    const v = typeof part === 'string' ? hashString(part) : part >>> 0;
    h = Math.imul(h ^ v, 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}
