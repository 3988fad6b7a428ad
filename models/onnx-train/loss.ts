// Mean softmax cross-entropy with label smoothing (models/train/step.ts's crossEntropy, PyTorch's
// F.cross_entropy(label_smoothing=e): target = (1 - e) one-hot + e / K), its closed-form gradient
// (softmax - target) / N, and the number of arg-max hits. Pure: graph writer and tape only.

import { DataType } from '../onnx/proto.js';
import { attr } from './graph-writer.js';
import type { LayerContext } from './layers.js';

export interface LossTensors {
  /** float32 scalar. */
  loss: string;
  /** int64 scalar: images whose arg-max class equals the label. */
  correct: string;
}

export function crossEntropyLoss(
  ctx: LayerContext,
  logits: string,
  labels: string,
  labelSmoothing: string,
  numClasses: number,
): LossTensors {
  const { w, tape } = ctx;
  const classes = w.ints(Array.from({ length: numClasses }, (_, k) => k));
  const hit = w.op(
    'Equal',
    [w.op('Unsqueeze', [labels, w.ints([1])], 'labels_column'), classes],
    'labels_hit',
  );
  const oneHot = w.op('Cast', [hit], 'labels_one_hot', { to: attr.int(DataType.FLOAT) });
  const target = w.op(
    'Add',
    [
      w.op('Mul', [oneHot, w.op('Sub', [w.scalar(1), labelSmoothing], 'smoothing_keep')], 'target_kept'),
      w.op('Div', [labelSmoothing, w.scalar(numClasses)], 'smoothing_share'),
    ],
    'target',
  );
  const logProbs = w.op('LogSoftmax', [logits], 'log_probabilities', { axis: attr.int(1) });
  const perImage = w.op(
    'ReduceSum',
    [w.op('Mul', [target, logProbs], 'target_log_p'), w.ints([1])],
    'per_image_log_likelihood',
    {
      keepdims: attr.int(0),
    },
  );
  const loss = w.op(
    'Neg',
    [w.op('ReduceMean', [perImage], 'mean_log_likelihood', { keepdims: attr.int(0) })],
    'loss_value',
  );
  if (tape.needsGrad(logits)) {
    const probabilities = w.op('Softmax', [logits], 'probabilities', { axis: attr.int(1) });
    tape.addGrad(
      logits,
      w.op('Div', [w.op('Sub', [probabilities, target], 'p_minus_target'), ctx.batch], 'grad_logits'),
    );
  }
  const predicted = w.op('ArgMax', [logits], 'predicted', { axis: attr.int(1), keepdims: attr.int(0) });
  const right = w.op('Cast', [w.op('Equal', [predicted, labels], 'predicted_right')], 'predicted_right_int', {
    to: attr.int(DataType.INT64),
  });
  const correct = w.op('ReduceSum', [right], 'correct_value', { keepdims: attr.int(0) });
  return { loss, correct };
}
