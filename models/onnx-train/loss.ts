// Mean softmax cross-entropy with label smoothing (models/train/step.ts's crossEntropy, PyTorch's
// F.cross_entropy(label_smoothing=e): target = (1 - e) one-hot + e / K), its closed-form gradient
// (softmax - target) / N, and the number of arg-max hits. Pure: graph writer and tape only.

import { DataType } from '../onnx/proto.js';
import { attr } from './graph-writer.js';
import { firstMaxMask, type LayerContext } from './layers.js';

export interface LossTensors {
  /** float32 scalar. */
  loss: string;
  /** float32 scalar (a whole number): images whose first arg-max class equals the label. */
  correct: string;
}

/**
 * `labels` is float32 [N] (class indices): every node of the loss then has a WebGPU kernel (that
 * provider's Equal and Cast take no int64). Log-softmax is written out (x - max - log sum exp(x - max)),
 * as the WebGPU provider has no LogSoftmax kernel; the hit count uses firstMaxMask, ArgMax's rule.
 */
export function crossEntropyLoss(
  ctx: LayerContext,
  logits: string,
  labels: string,
  labelSmoothing: string,
  numClasses: number,
): LossTensors {
  const { w, tape } = ctx;
  const classes = w.floats(
    'class_indices',
    [numClasses],
    Float32Array.from({ length: numClasses }, (_, k) => k),
  );
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
  const classAxis = { axes: attr.ints([1]), keepdims: attr.int(1) };
  const max = w.op('ReduceMax', [logits], 'logits_max', classAxis);
  const shifted = w.op('Sub', [logits, max], 'logits_shifted');
  const logSumExp = w.op(
    'Log',
    [
      w.op('ReduceSum', [w.op('Exp', [shifted], 'logits_exp'), w.ints([1])], 'sum_exp', {
        keepdims: attr.int(1),
      }),
    ],
    'log_sum_exp',
  );
  const logProbs = w.op('Sub', [shifted, logSumExp], 'log_probabilities');
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
  const predicted = firstMaxMask(ctx, logits, max, 1, 'predicted');
  const correct = w.op(
    'ReduceSum',
    [w.op('Mul', [predicted, oneHot], 'predicted_right'), w.ints([0, 1])],
    'correct_value',
    { keepdims: attr.int(0) },
  );
  return { loss, correct };
}
