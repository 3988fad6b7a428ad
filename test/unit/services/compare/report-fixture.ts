// A complete, valid comparison report with user-controlled strings chosen to break HTML if unescaped.
import type { CompareReport, ModelSummary } from '../../../../main/services/compare/index.js';

export const HOSTILE_CLASS = '<script>alert("class")</script>';
export const HOSTILE_FILE = `test/a"b'<img src=x onerror=alert(1)>&amp;.png`;

function model(attention: boolean, accuracy: number): ModelSummary {
  return {
    runDir: attention ? 'attention' : 'plain',
    status: 'completed',
    attention,
    spec: {
      inputSize: 64,
      width: 0.25,
      numClasses: 2,
      attention,
      compatibility: 'pc',
      normalisation: 'softmax',
    },
    parameters: { total: 1000, trainable: 900 },
    evaluation: {
      split: 'test',
      images: 10,
      correct: Math.round(accuracy * 10),
      accuracy,
      accuracyInterval: [accuracy / 2, Math.min(1, accuracy + 0.1)],
      macroF1: accuracy,
      loss: 0.5,
      perClass: [
        { label: HOSTILE_CLASS, precision: 0.5, recall: 0.5, f1: 0.5, support: 5 },
        { label: 'dog & cat', precision: 0.5, recall: 0.5, f1: 0.5, support: 5 },
      ],
      confusion: [
        [3, 2],
        [2, 3],
      ],
      weights: 'best',
    },
    training: {
      stoppedBy: 'epochs',
      epochsCompleted: 2,
      steps: 4,
      images: 40,
      trainSeconds: 1,
      wallSeconds: 2,
      imagesPerSecond: 40,
      backend: 'wasm',
    },
    inference: {
      modelFile: `models/${attention ? 'attention' : 'plain'}.onnx`,
      onnxBytes: 1234,
      images: 10,
      batch: 32,
      threads: 2,
      rounds: 1,
      imagesPerSecond: 100,
      roundImagesPerSecond: [100],
    },
  };
}

export function hostileReport(): CompareReport {
  return {
    format: 'attnvgg-compare/1',
    createdAt: '2026-11-22T00:00:00.000Z',
    appVersion: '0.1.0',
    dataset: '/data/<b>folder</b>',
    classes: [HOSTILE_CLASS, 'dog & cat'],
    settings: {
      preset: null,
      budget: { kind: 'epochs', epochs: 2 },
      training: { note: '</style><script>x</script>' },
    },
    models: { attention: model(true, 0.6), plain: model(false, 0.5) },
    paired: {
      split: 'test',
      n: 10,
      bothCorrect: 4,
      attentionOnly: 2,
      plainOnly: 1,
      bothWrong: 3,
      unpaired: 0,
      mcnemar: { b: 2, c: 1, method: 'exact-binomial', statistic: 1, pValue: 1 },
    },
    verdict: {
      outcome: 'no-difference',
      differencePoints: 10,
      alpha: 0.05,
      text: 'No measurable difference <here>.',
    },
    perClass: [HOSTILE_CLASS, 'dog & cat'].map((label) => ({
      label,
      support: 5,
      attentionRecall: 0.6,
      plainRecall: 0.5,
      attentionPrecision: 0.6,
      plainPrecision: 0.5,
      attentionF1: 0.6,
      plainF1: 0.5,
      recallDifferencePoints: 10,
      f1DifferencePoints: 10,
    })),
    explanations: {
      size: 128,
      images: [
        {
          relativePath: HOSTILE_FILE,
          label: HOSTILE_CLASS,
          picture: 'explanations/0-picture.png',
          attention: { predicted: HOSTILE_CLASS, confidence: 0.7, overlay: 'explanations/0-attention.png' },
          plain: { predicted: 'dog & cat', confidence: 0.6, overlay: 'explanations/0-plain-gradcam.png' },
        },
      ],
    },
    pointing: null,
    warnings: ['a warning with <markup> & "quotes"'],
  };
}
