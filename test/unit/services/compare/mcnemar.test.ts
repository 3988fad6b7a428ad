import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EXACT_BELOW,
  binomialCdfHalf,
  chiSquare1Tail,
  erfc,
  mcnemarTest,
} from '../../../../main/services/compare/mcnemar.js';

const close = (a: number, b: number, rel: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b}`);

describe("McNemar's test", () => {
  it('exact form: Fagerland, Lydersen & Laake (2013), airway hyper-responsiveness, b = 1, c = 7', () => {
    // Published: exact conditional p = 0.070 (= 2 * 9/256 = 0.0703125).
    const r = mcnemarTest(1, 7);
    assert.equal(r.method, 'exact-binomial');
    assert.equal(r.statistic, 1);
    close(r.pValue, 2 * (9 / 256), 1e-12, 'exact p');
    assert.equal(Number(r.pValue.toFixed(3)), 0.07);
    // Symmetric in the two models.
    assert.equal(mcnemarTest(7, 1).pValue, r.pValue);
  });

  it("chi-square form: R's mcnemar.test example (Agresti 1990, presidential approval), 150 vs 86", () => {
    // Published in R's documentation: McNemar's chi-squared = 16.818, df = 1, p-value = 4.115e-05.
    const r = mcnemarTest(150, 86);
    assert.equal(r.method, 'chi-square-continuity');
    close(r.statistic, 16.818, 1e-4, 'statistic');
    close(r.pValue, 4.115e-5, 1e-3, 'p-value');
  });

  it('chi-square form with continuity correction: Wikipedia example (121 vs 59)', () => {
    // (|121 - 59| - 1)^2 / 180 = 20.672; its chi-square(1) tail is 5.450e-06.
    const r = mcnemarTest(121, 59);
    close(r.statistic, 3721 / 180, 1e-12, 'statistic');
    close(r.pValue, 5.4500948e-6, 1e-6, 'p-value');
  });

  it('chooses the exact form below 25 discordant pairs and chi-square from 25 on', () => {
    assert.equal(EXACT_BELOW, 25);
    assert.equal(mcnemarTest(4, 20).method, 'exact-binomial');
    assert.equal(mcnemarTest(5, 20).method, 'chi-square-continuity');
    // Both forms agree roughly where they meet: exact p(5, 20) = 0.00408, chi-square cc 0.00511.
    close(mcnemarTest(5, 20, { method: 'exact-binomial' }).pValue, 0.004077315330505371, 1e-9, 'exact');
    close(mcnemarTest(5, 20).pValue, 0.005110260660855861, 1e-9, 'chi-square');
  });

  it('edge cases: no discordant pairs, equal counts, all one way, bad input', () => {
    assert.deepEqual(mcnemarTest(0, 0), { b: 0, c: 0, method: 'none', statistic: 0, pValue: 1 });
    assert.equal(mcnemarTest(10, 10).pValue, 1);
    // The continuity correction never makes equal counts look different.
    assert.equal(mcnemarTest(40, 40).statistic, 0);
    assert.equal(mcnemarTest(40, 40).pValue, 1);
    assert.equal(mcnemarTest(40, 41).pValue, 1);
    // 6 vs 0: 2 * 0.5^6 = 0.03125.
    close(mcnemarTest(0, 6).pValue, 0.03125, 1e-12, '6 vs 0');
    assert.equal(mcnemarTest(0, 1).pValue, 1);
    assert.throws(() => mcnemarTest(-1, 3), RangeError);
    assert.throws(() => mcnemarTest(1.5, 3), RangeError);
  });

  it('its pieces: binomial tail, erfc and the chi-square(1) tail against known values', () => {
    close(binomialCdfHalf(0, 3), 1 / 8, 1e-12, 'Bin(3, 1/2) <= 0');
    assert.equal(binomialCdfHalf(3, 3), 1);
    close(binomialCdfHalf(300, 1000), 8.832839003974784e-38, 1e-9, 'Bin(1000, 1/2) <= 300');
    // Abramowitz & Stegun table values of erfc.
    close(erfc(0.5), 0.4795001221869535, 1e-13, 'erfc(0.5)');
    close(erfc(1), 0.15729920705028513, 1e-13, 'erfc(1)');
    close(erfc(2), 0.004677734981047266, 1e-12, 'erfc(2)');
    close(erfc(3), 2.209049699858544e-5, 1e-12, 'erfc(3)');
    close(erfc(-1), 1.8427007929497148, 1e-13, 'erfc(-1)');
    // chi-square(1) critical values: 3.841 at 5 %, 6.635 at 1 %, 10.828 at 0.1 %.
    close(chiSquare1Tail(3.841459), 0.05, 1e-5, '5 %');
    close(chiSquare1Tail(6.634897), 0.01, 1e-5, '1 %');
    close(chiSquare1Tail(10.827566), 0.001, 1e-5, '0.1 %');
    assert.equal(chiSquare1Tail(0), 1);
  });
});
