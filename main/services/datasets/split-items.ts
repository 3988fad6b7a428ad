// Splits a labelled set into train / val / test, stratified by class and reproducible from a seed. Exact
// duplicates (same content hash) within a class always land in the same split, so validation never scores
// a picture the model trained on. Pure: must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.
import { createRandom, permutation } from '../../../models/core/random.js';
import type { Split } from './dataset-types.js';
import { deriveSeed } from './derive-seed.js';

export interface SplitOptions {
  /** Fraction of each class for validation (default 0.2). */
  valFraction?: number;
  /** Fraction of each class for test (default 0). */
  testFraction?: number;
  /** Seed of the shuffle (default 0). Each class is shuffled with its own stream derived from seed + name. */
  seed?: number;
}

export interface SplittableItem {
  label: string;
  relativePath: string;
  sha256: string;
}

export const DEFAULT_VAL_FRACTION = 0.2;

/**
 * Returns the split of each item (same order as `items`). Per class with n images: round(n * testFraction)
 * go to test and round(n * valFraction) to val, but a class with at least 2 images keeps at least 1 for
 * training and gives at least 1 to val (when valFraction > 0); a class with 1 image trains only. The result
 * depends only on the items' labels, paths and hashes and the options, not on the input order.
 */
export function splitItems(items: readonly SplittableItem[], options: SplitOptions = {}): Split[] {
  const valFraction = options.valFraction ?? DEFAULT_VAL_FRACTION;
  const testFraction = options.testFraction ?? 0;
  const seed = options.seed ?? 0;
  if (!(valFraction >= 0 && testFraction >= 0 && valFraction + testFraction < 1)) {
    throw new RangeError(
      `valFraction and testFraction must be at least 0 and add up to less than 1, got ${valFraction} and ${testFraction}`,
    );
  }
  const byClass = new Map<string, number[]>();
  items.forEach((item, i) => {
    const list = byClass.get(item.label) ?? [];
    list.push(i);
    byClass.set(item.label, list);
  });
  const splits: Split[] = new Array(items.length);
  for (const [label, indices] of byClass) {
    // Groups of identical content, in path order, so the input order does not matter.
    const groups = new Map<string, number[]>();
    for (const i of [...indices].sort((a, b) => compare(items[a].relativePath, items[b].relativePath))) {
      const group = groups.get(items[i].sha256) ?? [];
      group.push(i);
      groups.set(items[i].sha256, group);
    }
    const ordered = [...groups.values()];
    const order = permutation(ordered.length, createRandom(deriveSeed(seed, 'split', label)));
    const n = indices.length;
    let nTest = Math.round(n * testFraction);
    let nVal = Math.round(n * valFraction);
    if (n >= 2 && valFraction > 0) nVal = Math.max(1, nVal);
    if (n >= 3 && testFraction > 0) nTest = Math.max(1, nTest);
    while (nTest + nVal > n - 1 && (nTest > 0 || nVal > 0)) {
      if (nTest >= nVal && nTest > 0) nTest--;
      else nVal--;
    }
    let test = 0;
    let val = 0;
    let train = 0;
    order.forEach((g, k) => {
      const group = ordered[g];
      let split: Split = 'train';
      if (train === 0 && k === order.length - 1)
        split = 'train'; // never leave a class without training images
      else if (test < nTest) split = 'test';
      else if (val < nVal) split = 'val';
      if (split === 'train') train += group.length;
      if (split === 'test') test += group.length;
      if (split === 'val') val += group.length;
      for (const i of group) splits[i] = split;
    });
  }
  return splits;
}

/** Code-point order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
