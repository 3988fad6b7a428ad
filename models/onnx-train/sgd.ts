// torch.optim.SGD as ONNX nodes, the update of models/train/optimizer.ts: g' = g + wd p (coupled L2),
// buffer' = momentum buffer + g', p' = p - lr buffer' (Nesterov: p' = p - lr (g' + momentum buffer')).
// PyTorch's first step sets buffer' = g'; a buffer that starts at zero gives exactly that, so the graph
// needs no first-step flag. Pure: graph writer only.

import type { GraphWriter } from './graph-writer.js';

export interface SgdHyperTensors {
  lr: string;
  momentum: string;
  weightDecay: string;
}

export interface SgdUpdate {
  param: string;
  buffer: string;
}

export function sgdUpdate(
  w: GraphWriter,
  hyper: SgdHyperTensors,
  param: string,
  grad: string,
  buffer: string,
  nesterov: boolean,
  hint: string,
): SgdUpdate {
  const decayed = w.op(
    'Add',
    [grad, w.op('Mul', [param, hyper.weightDecay], `${hint}_decay`)],
    `${hint}_grad_l2`,
  );
  const nextBuffer = w.op(
    'Add',
    [w.op('Mul', [buffer, hyper.momentum], `${hint}_buf_m`), decayed],
    `${hint}_buffer_next`,
  );
  const direction = nesterov
    ? w.op(
        'Add',
        [decayed, w.op('Mul', [nextBuffer, hyper.momentum], `${hint}_nesterov_m`)],
        `${hint}_nesterov`,
      )
    : nextBuffer;
  const nextParam = w.op('Sub', [param, w.op('Mul', [direction, hyper.lr], `${hint}_step`)], `${hint}_next`);
  return { param: nextParam, buffer: nextBuffer };
}
