import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DatasetItem } from '../../../../main/services/datasets/dataset-types.js';
import { sampleForExplanations } from '../../../../main/services/compare/explain.js';

const item = (label: string, classIndex: number, name: string): DatasetItem => ({
  path: `/d/test/${label}/${name}`,
  relativePath: `test/${label}/${name}`,
  label,
  classIndex,
  split: 'test',
  format: 'png',
  width: 32,
  height: 32,
  bytes: 1,
  sha256: '',
});

describe('pictures chosen for the explanations', () => {
  it('takes the classes in turn, first files in path order, and stops at the count or the end', () => {
    const items = [
      item('b', 1, '2.png'),
      item('a', 0, '9.png'),
      item('b', 1, '1.png'),
      item('a', 0, '3.png'),
      item('c', 2, '5.png'),
    ];
    const names = (list: DatasetItem[]): string[] => list.map((i) => i.relativePath);
    assert.deepEqual(names(sampleForExplanations(items, 4)), [
      'test/a/3.png',
      'test/b/1.png',
      'test/c/5.png',
      'test/a/9.png',
    ]);
    assert.equal(sampleForExplanations(items, 10).length, 5);
    assert.deepEqual(sampleForExplanations(items, 0), []);
    assert.deepEqual(sampleForExplanations([], 3), []);
  });
});
