// Classification metrics from predictions: accuracy, confusion matrix, per-class precision, recall and
// F1, and a Wilson interval for accuracy. Pure numbers, no tensors.

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of true examples of this class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  /** 95 % Wilson score interval of the accuracy. */
  accuracyInterval: [number, number];
  total: number;
  macroF1: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  perClass: ClassMetrics[];
}

export function wilsonInterval(successes: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 0];
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export function classificationMetrics(
  labels: string[],
  truth: number[],
  predicted: number[],
): ClassificationMetrics {
  if (truth.length !== predicted.length)
    throw new Error(`${truth.length} labels but ${predicted.length} predictions`);
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    confusion[t][predicted[i]] += 1;
    if (t === predicted[i]) correct += 1;
  });
  const perClass = labels.map((label, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, precision, recall, f1, support };
  });
  const withSupport = perClass.filter((c) => c.support > 0);
  return {
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    accuracyInterval: wilsonInterval(correct, truth.length),
    total: truth.length,
    macroF1: withSupport.length === 0 ? 0 : withSupport.reduce((a, c) => a + c.f1, 0) / withSupport.length,
    confusion,
    perClass,
  };
}
