// Matrix products for the cached transfer path (head-trainer.ts) whose gradients avoid the wasm backend's
// BatchMatMul with a transposed first operand, which runs about 50x slower than an explicit transpose
// followed by a plain product (measured here: pool5^T [8192 x 32] x dg [32 x 512]: 377 ms against
// 7.5 ms). Constant operands (cached features) get no gradient. Tensors used in a gradient are saved
// through `save`, as tfjs requires. Imports tfjs-core only.

import * as tf from '@tensorflow/tfjs-core';

type CustomForward = (
  inputs: tf.Tensor[],
  save: tf.GradSaveFunc,
) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };

/** tf.customGrad with the inputs as an array and the save function apart. */
function custom(forward: CustomForward): (...inputs: tf.Tensor[]) => tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) =>
    forward(args.slice(0, -1) as tf.Tensor[], args[args.length - 1] as tf.GradSaveFunc),
  );
  return (...inputs) => f(...inputs);
}

/** x w for a constant x [m, k] and a trainable w [k, n]. */
export function constantTimes(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const f = custom(([wv], save) => {
    save([x]);
    return {
      value: tf.matMul(x, wv as tf.Tensor2D),
      gradFunc: (dy, saved) => tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy as tf.Tensor2D),
    };
  });
  return f(w) as tf.Tensor2D;
}

/** x v for a constant x [m, k] and a trainable column v [k, 1]: v's gradient is dy^T x, no transpose. */
export function constantTimesColumn(x: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = x.shape;
  const f = custom(([vv], save) => {
    save([x]);
    return {
      value: tf.matMul(x, vv as tf.Tensor2D),
      gradFunc: (dy, saved) => tf.reshape(tf.matMul(tf.reshape(dy, [1, m]), saved[0] as tf.Tensor2D), [k, 1]),
    };
  });
  return f(v) as tf.Tensor2D;
}

/** l v per image for constant l [n, p, k] and trainable v [n, k, 1]: v's gradient is dy^T l. */
export function constantTimesColumns(l: tf.Tensor3D, v: tf.Tensor3D): tf.Tensor3D {
  const [n, p, k] = l.shape;
  const f = custom(([vv], save) => {
    save([l]);
    return {
      value: tf.matMul(l, vv as tf.Tensor3D),
      gradFunc: (dy, saved) =>
        tf.reshape(tf.matMul(tf.reshape(dy, [n, 1, p]), saved[0] as tf.Tensor3D), [n, k, 1]),
    };
  });
  return f(v) as tf.Tensor3D;
}

/** The last two axes of a 2-D or 3-D tensor swapped. */
function transposeLast(t: tf.Tensor): tf.Tensor {
  return t.rank === 2 ? tf.transpose(t) : tf.transpose(t, [0, 2, 1]);
}

/** a b (per image for 3-D operands), both trainable: both gradients through explicit transposes. */
export function product<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T): T {
  const f = custom(([av, bv], save) => {
    save([av, bv]);
    return {
      value: tf.matMul(av as T, bv as T),
      gradFunc: (dy, saved) => [
        tf.matMul(dy as T, transposeLast(saved[1]) as T),
        tf.matMul(transposeLast(saved[0]) as T, dy as T),
      ],
    };
  });
  return f(a, b) as T;
}
