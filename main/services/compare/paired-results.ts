// The paired comparison of two evaluations of the same images: the 2 x 2 table of right/wrong pairs,
// McNemar's test on it, per-class differences and the verdict in plain words. Pure: works on the
// evaluation reports the training runs wrote (evaluation.json). Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import type { ClassMetrics } from '../../../models/core/metrics.js';
import { mcnemarTest, type McNemarResult } from './mcnemar.js';

/** What this module needs of an evaluation report (training/evaluate-model.ts EvaluationReport). */
export interface PredictionsLike {
  predictions: readonly { path: string; correct: boolean }[];
}

export interface PairedTable {
  /** Images evaluated by both models. */
  n: number;
  bothCorrect: number;
  /** Right with attention, wrong without (McNemar's b). */
  attentionOnly: number;
  /** Wrong with attention, right without (McNemar's c). */
  plainOnly: number;
  bothWrong: number;
  /** Images only one of the two evaluations holds (skipped by the other); left out of the table. */
  unpaired: number;
}

/** Pairs two evaluations by image path. */
export function pairPredictions(attention: PredictionsLike, plain: PredictionsLike): PairedTable {
  const plainByPath = new Map(plain.predictions.map((p) => [p.path, p.correct]));
  const table: PairedTable = {
    n: 0,
    bothCorrect: 0,
    attentionOnly: 0,
    plainOnly: 0,
    bothWrong: 0,
    unpaired: 0,
  };
  const seen = new Set<string>();
  for (const p of attention.predictions) {
    const other = plainByPath.get(p.path);
    if (other === undefined) {
      table.unpaired += 1;
      continue;
    }
    seen.add(p.path);
    table.n += 1;
    if (p.correct && other) table.bothCorrect += 1;
    else if (p.correct) table.attentionOnly += 1;
    else if (other) table.plainOnly += 1;
    else table.bothWrong += 1;
  }
  for (const p of plain.predictions) if (!seen.has(p.path)) table.unpaired += 1;
  return table;
}

export type VerdictOutcome = 'attention-better' | 'plain-better' | 'no-difference';

export interface Verdict {
  outcome: VerdictOutcome;
  /** Attention accuracy minus plain accuracy on the paired images, in percentage points. */
  differencePoints: number;
  /** The significance level the verdict uses. */
  alpha: number;
  text: string;
}

/** "p = 0.031", "p = 0.41", "p < 0.001". */
export function formatPValue(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p >= 0.1 ? p.toFixed(2) : p.toPrecision(2)}`;
}

function points(x: number): string {
  const v = Math.abs(x);
  return `${v.toFixed(1)} point${v.toFixed(1) === '1.0' ? '' : 's'}`;
}

/**
 * The verdict: a difference is called only when McNemar's p-value is below alpha (default 0.05);
 * otherwise "no measurable difference", whatever the sign of the accuracy difference.
 */
export function verdictOf(table: PairedTable, test: McNemarResult, alpha = 0.05): Verdict {
  const n = Math.max(1, table.n);
  const accAttention = (table.bothCorrect + table.attentionOnly) / n;
  const accPlain = (table.bothCorrect + table.plainOnly) / n;
  const differencePoints = 100 * (accAttention - accPlain);
  const both = `attention ${(100 * accAttention).toFixed(1)} % vs plain ${(100 * accPlain).toFixed(1)} % on ${table.n} images`;
  const p = formatPValue(test.pValue);
  if (table.n === 0)
    return {
      outcome: 'no-difference',
      differencePoints: 0,
      alpha,
      text: 'No image was evaluated by both models: nothing to compare.',
    };
  if (test.pValue < alpha && differencePoints > 0)
    return {
      outcome: 'attention-better',
      differencePoints,
      alpha,
      text: `Attention helped by ${points(differencePoints)}, ${p} (${both}).`,
    };
  if (test.pValue < alpha && differencePoints < 0)
    return {
      outcome: 'plain-better',
      differencePoints,
      alpha,
      text: `The plain model did better by ${points(differencePoints)}, ${p} (${both}).`,
    };
  return {
    outcome: 'no-difference',
    differencePoints,
    alpha,
    text: `No measurable difference on this data (${both}, ${p}).`,
  };
}

export interface ClassDifference {
  label: string;
  support: number;
  attentionRecall: number;
  plainRecall: number;
  attentionPrecision: number;
  plainPrecision: number;
  attentionF1: number;
  plainF1: number;
  /** attention minus plain, in percentage points. */
  recallDifferencePoints: number;
  f1DifferencePoints: number;
}

/** Per-class differences from the two evaluations' per-class metrics (same classes, same order). */
export function classDifferences(
  attention: readonly ClassMetrics[],
  plain: readonly ClassMetrics[],
): ClassDifference[] {
  const plainByLabel = new Map(plain.map((c) => [c.label, c]));
  return attention.map((a) => {
    const p = plainByLabel.get(a.label);
    if (!p) throw new Error(`The plain model's evaluation has no class "${a.label}"`);
    return {
      label: a.label,
      support: a.support,
      attentionRecall: a.recall,
      plainRecall: p.recall,
      attentionPrecision: a.precision,
      plainPrecision: p.precision,
      attentionF1: a.f1,
      plainF1: p.f1,
      recallDifferencePoints: 100 * (a.recall - p.recall),
      f1DifferencePoints: 100 * (a.f1 - p.f1),
    };
  });
}

export function pairedTest(table: PairedTable): McNemarResult {
  return mcnemarTest(table.attentionOnly, table.plainOnly);
}
