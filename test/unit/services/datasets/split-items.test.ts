import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitItems, type SplittableItem } from '../../../../main/services/datasets/split-items.js';

const make = (label: string, n: number, sha = (i: number) => `${label}-${i}`): SplittableItem[] =>
  Array.from({ length: n }, (_, i) => ({
    label,
    relativePath: `${label}/${String(i).padStart(3, '0')}.png`,
    sha256: sha(i),
  }));

const count = (splits: string[], which: string) => splits.filter((s) => s === which).length;

describe('splitItems', () => {
  it('is stratified: each class gives its own fraction', () => {
    const items = [...make('a', 50), ...make('b', 10)];
    const splits = splitItems(items, { valFraction: 0.2, testFraction: 0.1, seed: 4 });
    assert.deepEqual([count(splits.slice(0, 50), 'val'), count(splits.slice(0, 50), 'test')], [10, 5]);
    assert.deepEqual([count(splits.slice(50), 'val'), count(splits.slice(50), 'test')], [2, 1]);
  });

  it('does not depend on the input order, and does depend on the seed', () => {
    const items = [...make('a', 30), ...make('b', 30)];
    const splits = splitItems(items, { seed: 1 });
    const reversed = [...items].reverse();
    const again = splitItems(reversed, { seed: 1 }).reverse();
    assert.deepEqual(again, splits);
    assert.notDeepEqual(splitItems(items, { seed: 2 }), splits);
  });

  it('keeps copies of one picture in one split; never leaves a class without training images', () => {
    const dupes = make('a', 20, (i) => `h${i % 5}`); // 5 distinct pictures, 4 copies each
    const splits = splitItems(dupes, { valFraction: 0.2, seed: 3 });
    for (let h = 0; h < 5; h++) {
      assert.equal(new Set(splits.filter((_, i) => i % 5 === h)).size, 1);
    }
    assert.deepEqual(splitItems(make('one', 1), { seed: 1 }), ['train']);
    assert.deepEqual(splitItems(make('two', 2), { seed: 1 }).sort(), ['train', 'val']);
    assert.deepEqual(
      splitItems(
        make('same', 4, () => 'x'),
        { seed: 1 },
      ),
      ['train', 'train', 'train', 'train'],
    );
  });

  it('refuses fractions that leave nothing to train on', () => {
    assert.throws(() => splitItems(make('a', 4), { valFraction: 0.6, testFraction: 0.5 }), /less than 1/);
  });
});
