// Seeds for the randomised reliability tests (kills, fuzzing): a new seed each run unless
// ATTNVGG_TEST_SEED is set, always printed by the test so a failure can be repeated. Test code only.

/** The seed of this test run: ATTNVGG_TEST_SEED, or a fresh 32-bit number. */
export function testSeed(): number {
  const fixed = process.env.ATTNVGG_TEST_SEED;
  if (fixed !== undefined && /^\d+$/.test(fixed)) return Number(fixed) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** mulberry32: a small, fast generator of floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}
