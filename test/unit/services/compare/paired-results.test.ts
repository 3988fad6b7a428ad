import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mcnemarTest } from '../../../../main/services/compare/mcnemar.js';
import {
  classDifferences,
  formatPValue,
  pairPredictions,
  verdictOf,
} from '../../../../main/services/compare/paired-results.js';

const predictions = (flags: string): { path: string; correct: boolean }[] =>
  [...flags].map((f, i) => ({ path: `img${i}.png`, correct: f === '1' }));

describe('paired results', () => {
  it('pairs the two evaluations by path and counts the 2 x 2 table', () => {
    const attention = { predictions: predictions('11001100') };
    const plain = { predictions: [...predictions('10101').reverse(), { path: 'other.png', correct: true }] };
    const t = pairPredictions(attention, plain);
    // Paired images 0..4: attention 1,1,0,0,1; plain 1,0,1,0,1.
    assert.deepEqual(t, { n: 5, bothCorrect: 2, attentionOnly: 1, plainOnly: 1, bothWrong: 1, unpaired: 4 });
  });

  it('says who did better only when the paired test says so', () => {
    const better = { n: 100, bothCorrect: 70, attentionOnly: 12, plainOnly: 2, bothWrong: 16, unpaired: 0 };
    const v = verdictOf(better, mcnemarTest(12, 2));
    assert.equal(v.outcome, 'attention-better');
    assert.equal(v.differencePoints.toFixed(1), '10.0');
    assert.match(
      v.text,
      /^Attention helped by 10\.0 points, p = 0\.013 \(attention 82\.0 % vs plain 72\.0 % on 100 images\)\.$/,
    );

    const worse = { ...better, attentionOnly: 2, plainOnly: 12 };
    const w = verdictOf(worse, mcnemarTest(2, 12));
    assert.equal(w.outcome, 'plain-better');
    assert.match(w.text, /^The plain model did better by 10\.0 points, p = 0\.013/);

    const unclear = { ...better, attentionOnly: 6, plainOnly: 3 };
    const u = verdictOf(unclear, mcnemarTest(6, 3));
    assert.equal(u.outcome, 'no-difference');
    assert.match(
      u.text,
      /^No measurable difference on this data \(attention 76\.0 % vs plain 73\.0 % on 100 images, p = 0\.51\)\.$/,
    );
    assert.equal(
      verdictOf(
        { ...better, n: 0, bothCorrect: 0, attentionOnly: 0, plainOnly: 0, bothWrong: 0 },
        mcnemarTest(0, 0),
      ).outcome,
      'no-difference',
    );
  });

  it('formats p-values', () => {
    assert.equal(formatPValue(0.0312), 'p = 0.031');
    assert.equal(formatPValue(0.41234), 'p = 0.41');
    assert.equal(formatPValue(0.00049), 'p < 0.001');
    assert.equal(formatPValue(1), 'p = 1.00');
  });

  it('per-class differences in points, attention minus plain', () => {
    const a = [
      { label: 'cat', precision: 0.8, recall: 0.9, f1: 0.847, support: 10 },
      { label: 'dog', precision: 0.5, recall: 0.4, f1: 0.444, support: 5 },
    ];
    const p = [
      { label: 'dog', precision: 0.6, recall: 0.6, f1: 0.6, support: 5 },
      { label: 'cat', precision: 0.9, recall: 0.8, f1: 0.847, support: 10 },
    ];
    const d = classDifferences(a, p);
    assert.deepEqual(
      d.map((c) => c.label),
      ['cat', 'dog'],
    );
    assert.ok(Math.abs(d[0].recallDifferencePoints - 10) < 1e-9);
    assert.ok(Math.abs(d[1].recallDifferencePoints + 20) < 1e-9);
    assert.equal(d[0].f1DifferencePoints, 0);
    assert.throws(() => classDifferences(a, p.slice(0, 1)), /no class "cat"/);
  });
});
