// The backbone's differentiable layers as ONNX nodes, NCHW, each with its backward written by hand:
// conv 3x3 (input gradient as a Conv with the flipped, transposed filter; filter gradient as per-image
// batched MatMuls on wide maps and nine per-tap Gemms over shifted copies of the input on small ones, or
// the 'im2col' / 'conv' alternatives kept for measuring),
// training-mode BatchNorm (batch statistics, closed-form backward, PyTorch's running averages),
// BatchNorm on running statistics (frozen blocks), ReLU, ReLU + 2x2 max-pool (backward through MaxPool's
// Indices and MaxUnpool, or through a first-maximum mask over each window for providers without those
// kernels),
// a plain 2x2 max-pool (its gradient to its own input: Grad-CAM's pool5 from conv 13), Linear, Flatten,
// Reshape.
// Pure: imports the graph writer, the tape and the spec's constants; nothing from main/, no runtime.

import { BN_EPSILON, BN_MOMENTUM } from '../core/spec.js';
import { DataType } from '../onnx/proto.js';
import { attr, type GraphWriter } from './graph-writer.js';
import type { Tape } from './tape.js';

/**
 * How the filter gradient of a 3x3 convolution is written (see README.md for the measurements). 'mixed'
 * (the default): 'per-image' on maps of 32x32 and larger with 8 or more input channels, 'shifts'
 * elsewhere.
 */
export type FilterGradient = 'mixed' | 'shifts' | 'per-image' | 'im2col' | 'conv';
export const FILTER_GRADIENTS: readonly FilterGradient[] = ['mixed', 'shifts', 'per-image', 'im2col', 'conv'];

/**
 * How a 2x2 max-pool's backward finds each window's maximum: 'indices' (MaxPool's Indices output and
 * MaxUnpool: the CPU provider's fast path) or 'argmax' (the first maximum among the window's four values
 * found with float ops, for providers with neither kernel: WebGPU has no MaxPool Indices and no
 * MaxUnpool, CUDA no MaxUnpool).
 * Both send the gradient to the first maximum of the window, as PyTorch does.
 */
export type PoolBackward = 'indices' | 'argmax';
export const POOL_BACKWARDS: readonly PoolBackward[] = ['indices', 'argmax'];

export interface LayerContext {
  w: GraphWriter;
  tape: Tape;
  /** float32 scalar: the number of images in the batch (the batch dimension is symbolic). */
  batch: string;
  filterGradient: FilterGradient;
  poolBackward: PoolBackward;
  /** N * positions per map size, written once each (see elementsPerChannel). */
  counts: Map<number, string>;
}

/** N * positions as a float32 scalar: the element count of one channel in a batch of NCHW maps. */
export function elementsPerChannel(ctx: LayerContext, positions: number): string {
  let name = ctx.counts.get(positions);
  if (name === undefined) {
    name = ctx.w.op('Mul', [ctx.batch, ctx.w.scalar(positions)], `count_${positions}`);
    ctx.counts.set(positions, name);
  }
  return name;
}

function tracked(ctx: LayerContext, output: string, inputs: readonly string[]): string {
  if (ctx.tape.anyNeedsGrad(inputs)) ctx.tape.track(output);
  return output;
}

/** [C] -> [1, C, 1, 1], to broadcast over NCHW maps. */
export function perChannel(ctx: LayerContext, v: string): string {
  return ctx.w.op('Reshape', [v, ctx.w.ints([1, -1, 1, 1])], `${v}_nchw`);
}

/**
 * y = x * a + b per channel (a, b: [C]) in one pass over an NCHW map: onnxruntime's BatchNormalization
 * with mean 0, variance 1 and epsilon 0, which is exactly that affine map (a Mul and an Add would read
 * and write the map twice).
 */
export function channelAffine(
  ctx: LayerContext,
  x: string,
  a: string,
  b: string,
  channels: number,
  hint: string,
): string {
  const { w } = ctx;
  return w.op('BatchNormalization', [x, a, b, w.filled(0, channels), w.filled(1, channels)], hint, {
    epsilon: attr.float(0),
  });
}

// ---------------------------------------------------------------------------------------------
// Convolution 3x3, stride 1, padding 1, with bias

export interface ConvShape {
  inChannels: number;
  outChannels: number;
  /** Spatial side of input and output (square maps). */
  side: number;
}

/** The filter W [O, I, 3, 3] as the filter of its input gradient: transposed to [I, O] and flipped. */
function flippedTransposed(ctx: LayerContext, weight: string): string {
  const { w } = ctx;
  const t = w.op('Transpose', [weight], `${weight}_t`, { perm: attr.ints([1, 0, 2, 3]) });
  const far = -(2 ** 31); // a negative step runs from the last element down to (and including) index 0
  return w.op(
    'Slice',
    [t, w.ints([-1, -1]), w.ints([far, far]), w.ints([2, 3]), w.ints([-1, -1])],
    `${weight}_flipped`,
  );
}

/**
 * dW[o, i, kh, kw] = sum over n, y, x of dY[n, o, y, x] * Xpad[n, i, y + kh, x + kw]: the nine shifted
 * copies of the padded input (im2col, [N, 9I, HW] in (i, kh, kw) order) against dY [N, O, HW] in one
 * batched MatMul, summed over the batch.
 */
function filterGradientIm2col(ctx: LayerContext, x: string, dy: string, s: ConvShape, hint: string): string {
  const { w } = ctx;
  const side = s.side;
  const padded = w.op('Pad', [x, w.ints([0, 0, 1, 1, 0, 0, 1, 1])], `${hint}_xpad`);
  const shifts: string[] = [];
  for (let kh = 0; kh < 3; kh++)
    for (let kw = 0; kw < 3; kw++)
      shifts.push(
        w.op(
          'Slice',
          [padded, w.ints([kh, kw]), w.ints([kh + side, kw + side]), w.ints([2, 3])],
          `${hint}_shift${kh}${kw}`,
        ),
      );
  // Concat on H of nine [N, I, H, W] maps is [N, I, 9H, W], which is [N, I, 9, H, W] in memory.
  const stacked = w.op('Concat', shifts, `${hint}_im2col`, { axis: attr.int(2) });
  const cols = w.op('Reshape', [stacked, w.ints([0, s.inChannels * 9, side * side])], `${hint}_cols`);
  const colsT = w.op('Transpose', [cols], `${hint}_cols_t`, { perm: attr.ints([0, 2, 1]) });
  const dy3 = w.op('Reshape', [dy, w.ints([0, s.outChannels, side * side])], `${hint}_dy3`);
  const perImage = w.op('MatMul', [dy3, colsT], `${hint}_dw_per_image`);
  const sum = w.op('ReduceSum', [perImage, w.ints([0])], `${hint}_dw_sum`, { keepdims: attr.int(0) });
  return w.op('Reshape', [sum, w.ints([s.outChannels, s.inChannels, 3, 3])], `grad_${hint}_weight`);
}

/**
 * The same sum, one kernel tap at a time: the input as [I, N, H+2, W+2] (padded), nine shifted [I, N*H*W]
 * slices, each against dY as [O, N*H*W] in one Gemm (K = N*H*W, so no per-image products to add up).
 * With few input channels (conv 1: 3) the nine slices are stacked into one [9I, N*H*W] operand and one
 * Gemm, which keeps the product from being nine thin ones.
 */
function filterGradientShifts(ctx: LayerContext, x: string, dy: string, s: ConvShape, hint: string): string {
  const { w } = ctx;
  const side = s.side;
  const swap = { perm: attr.ints([1, 0, 2, 3]) };
  const xt = w.op('Transpose', [x], `${hint}_x_cnhw`, swap);
  const padded = w.op('Pad', [xt, w.ints([0, 0, 1, 1, 0, 0, 1, 1])], `${hint}_xpad`);
  const dy2 = w.op(
    'Reshape',
    [w.op('Transpose', [dy], `${hint}_dy_cnhw`, swap), w.ints([s.outChannels, -1])],
    `${hint}_dy2`,
  );
  // Each shifted copy is written right before the product that reads it, so that onnxruntime (which runs
  // nodes in the order written when it may) holds one copy at a time, not nine.
  const shift = (k: number): string => {
    const kh = Math.floor(k / 3);
    const kw = k % 3;
    return w.op(
      'Slice',
      [padded, w.ints([kh, kw]), w.ints([kh + side, kw + side]), w.ints([2, 3])],
      `${hint}_shift${kh}${kw}`,
    );
  };
  const weightShape = w.ints([s.outChannels, s.inChannels, 3, 3]);
  if (s.inChannels < 8) {
    // [I, 9N, H, W] is [I, 9, N*H*W] in memory: rows in (i, kh, kw) order, as OIHW flattens.
    const stacked = w.op('Concat', [0, 1, 2, 3, 4, 5, 6, 7, 8].map(shift), `${hint}_im2col`, {
      axis: attr.int(1),
    });
    const cols = w.op('Reshape', [stacked, w.ints([s.inChannels * 9, -1])], `${hint}_cols`);
    const dw = w.op('Gemm', [dy2, cols], `${hint}_dw_2d`, { transB: attr.int(1) }); // [O, 9I]
    return w.op('Reshape', [dw, weightShape], `grad_${hint}_weight`);
  }
  const taps: string[] = [];
  for (let k = 0; k < 9; k++) {
    const slice = shift(k);
    const flat = w.op('Reshape', [slice, w.ints([s.inChannels, -1])], `${slice}_2d`);
    taps.push(w.op('Gemm', [dy2, flat], `${hint}_dw_tap${k}`, { transB: attr.int(1) })); // [O, I]
  }
  const stacked = w.op('Concat', taps, `${hint}_dw_taps`, { axis: attr.int(1) }); // [O, (kh, kw, i)]
  const blocks = w.op('Reshape', [stacked, w.ints([s.outChannels, 3, 3, s.inChannels])], `${hint}_dw_4d`);
  return w.op('Transpose', [blocks], `grad_${hint}_weight`, { perm: attr.ints([0, 3, 1, 2]) });
}

/**
 * Per image, the nine taps as batched MatMuls ([N, I, K] x [N, K, O] -> [N, I, O]), stacked in (kh, kw, i)
 * order and summed over the batch. `taps` makes the two operands of each: by default the nine shifted
 * copies of the padded input ([N, I, H*W]) against dY^T; on the widest maps (rowColumnTaps) three column
 * shifts of the padded input against three row shifts of dY, over frames of H+2 rows.
 */
function filterGradientPerImage(
  ctx: LayerContext,
  x: string,
  dy: string,
  s: ConvShape,
  hint: string,
): string {
  const { w } = ctx;
  const padded = w.op('Pad', [x, w.ints([0, 0, 1, 1, 0, 0, 1, 1])], `${hint}_xpad`);
  const taps =
    s.side >= ROW_COLUMN_MIN_SIDE
      ? rowColumnTaps(ctx, padded, dy, s, hint)
      : shiftedTaps(ctx, padded, dy, s, hint);
  const stacked = w.op('Concat', taps, `${hint}_dw_taps`, { axis: attr.int(1) }); // [N, (kh, kw, i), O]
  const sum = w.op('ReduceSum', [stacked, w.ints([0])], `${hint}_dw_sum`, { keepdims: attr.int(0) });
  const blocks = w.op('Reshape', [sum, w.ints([3, 3, s.inChannels, s.outChannels])], `${hint}_dw_4d`);
  return w.op('Transpose', [blocks], `grad_${hint}_weight`, { perm: attr.ints([3, 2, 0, 1]) });
}

/** Maps at least this wide take rowColumnTaps in filterGradientPerImage (fewer, longer copies). */
const ROW_COLUMN_MIN_SIDE = 64;

/** The nine per-image taps [N, I, O] in (kh, kw) order: each shifted copy of the padded input against dY^T. */
function shiftedTaps(ctx: LayerContext, padded: string, dy: string, s: ConvShape, hint: string): string[] {
  const { w } = ctx;
  const side = s.side;
  const hw = side * side;
  const dyT = w.op(
    'Transpose',
    [w.op('Reshape', [dy, w.ints([0, s.outChannels, hw])], `${hint}_dy3`)],
    `${hint}_dy_t`,
    { perm: attr.ints([0, 2, 1]) },
  ); // [N, HW, O]
  const taps: string[] = [];
  for (let kh = 0; kh < 3; kh++)
    for (let kw = 0; kw < 3; kw++) {
      const slice = w.op(
        'Slice',
        [padded, w.ints([kh, kw]), w.ints([kh + side, kw + side]), w.ints([2, 3])],
        `${hint}_shift${kh}${kw}`,
      );
      const flat = w.op('Reshape', [slice, w.ints([0, s.inChannels, hw])], `${slice}_3d`);
      taps.push(w.op('MatMul', [flat, dyT], `${hint}_dw_tap${kh}${kw}`)); // [N, I, O]
    }
  return taps;
}

/**
 * The same nine taps from six copies: in frames of H+2 rows of W, the padded input's columns kw..kw+W-1
 * ([N, I, (H+2) W]) against dY moved kh rows down (zeros in the other two rows; transposed to
 * [N, (H+2) W, O]): the sum over a frame of Xpad[r, x + kw] dY[r - kh, x] is the tap (kh, kw).
 */
function rowColumnTaps(ctx: LayerContext, padded: string, dy: string, s: ConvShape, hint: string): string[] {
  const { w } = ctx;
  const side = s.side;
  const frame = (side + 2) * side;
  const columns = [0, 1, 2].map((kw) =>
    w.op(
      'Reshape',
      [
        w.op('Slice', [padded, w.ints([kw]), w.ints([kw + side]), w.ints([3])], `${hint}_x_col${kw}`),
        w.ints([0, s.inChannels, frame]),
      ],
      `${hint}_x_col${kw}_3d`,
    ),
  );
  const rows = [0, 1, 2].map((kh) => {
    const moved = w.op('Pad', [dy, w.ints([0, 0, kh, 0, 0, 0, 2 - kh, 0])], `${hint}_dy_row${kh}`);
    const flat = w.op('Reshape', [moved, w.ints([0, s.outChannels, frame])], `${hint}_dy_row${kh}_3d`);
    return w.op('Transpose', [flat], `${hint}_dy_row${kh}_t`, { perm: attr.ints([0, 2, 1]) });
  });
  const taps: string[] = [];
  for (let kh = 0; kh < 3; kh++)
    for (let kw = 0; kw < 3; kw++)
      taps.push(w.op('MatMul', [columns[kw], rows[kh]], `${hint}_dw_tap${kh}${kw}`));
  return taps;
}

/** The same filter gradient as one Conv: input X as [I, N, H, W], filter dY as [O, N, H, W]. */
function filterGradientConv(ctx: LayerContext, x: string, dy: string, s: ConvShape, hint: string): string {
  const { w } = ctx;
  const swap = { perm: attr.ints([1, 0, 2, 3]) };
  const xt = w.op('Transpose', [x], `${hint}_x_cnhw`, swap);
  const dyt = w.op('Transpose', [dy], `${hint}_dy_cnhw`, swap);
  const dwt = w.op('Conv', [xt, dyt], `${hint}_dw_io`, {
    kernel_shape: attr.ints([s.side, s.side]),
    pads: attr.ints([1, 1, 1, 1]),
  });
  return w.op('Transpose', [dwt], `grad_${hint}_weight`, swap);
}

/**
 * Maps at least this wide get per-image filter gradients under 'mixed': the per-image products have
 * K = H*W, too short below (measured per layer at batch 32, README.md).
 */
const PER_IMAGE_MIN_SIDE = 32;

/** dW of a 3x3 convolution in the context's formulation (FilterGradient). */
function filterGradient(ctx: LayerContext, x: string, dy: string, s: ConvShape, hint: string): string {
  const fg = ctx.filterGradient;
  if (fg === 'conv') return filterGradientConv(ctx, x, dy, s, hint);
  if (fg === 'im2col') return filterGradientIm2col(ctx, x, dy, s, hint);
  const perImage =
    fg === 'per-image' || (fg === 'mixed' && s.side >= PER_IMAGE_MIN_SIDE && s.inChannels >= 8);
  return perImage ? filterGradientPerImage(ctx, x, dy, s, hint) : filterGradientShifts(ctx, x, dy, s, hint);
}

export function conv3x3(
  ctx: LayerContext,
  x: string,
  weight: string,
  bias: string,
  shape: ConvShape,
  hint: string,
): string {
  const { w, tape } = ctx;
  const y = tracked(
    ctx,
    w.op('Conv', [x, weight, bias], hint, {
      kernel_shape: attr.ints([3, 3]),
      pads: attr.ints([1, 1, 1, 1]),
      strides: attr.ints([1, 1]),
    }),
    [x, weight, bias],
  );
  if (!tape.needsGrad(y)) return y;
  tape.record(() => {
    const dy = tape.grad(y);
    if (dy === undefined) return;
    if (tape.needsGrad(bias))
      tape.addGrad(
        bias,
        w.op('ReduceSum', [dy, w.ints([0, 2, 3])], `grad_${hint}_bias`, { keepdims: attr.int(0) }),
      );
    if (tape.needsGrad(weight)) tape.addGrad(weight, filterGradient(ctx, x, dy, shape, hint));
    if (tape.needsGrad(x))
      tape.addGrad(
        x,
        w.op('Conv', [dy, flippedTransposed(ctx, weight)], `grad_${hint}_input`, {
          kernel_shape: attr.ints([3, 3]),
          pads: attr.ints([1, 1, 1, 1]),
        }),
      );
  });
  return y;
}

// ---------------------------------------------------------------------------------------------
// BatchNorm

export interface BatchNormTensors {
  gamma: string;
  beta: string;
  runningMean: string;
  runningVar: string;
}

export interface BatchNormTrainResult {
  y: string;
  /** Updated running averages, [C] each. */
  runningMean: string;
  runningVar: string;
}

/** The element count of one channel and the running variance's Bessel factor, per map size. */
interface ChannelCount {
  /** N * positions (elementsPerChannel). */
  n: string;
  /** n / max(1, n - 1), as model.ts's commitBatchStats. */
  bessel: string;
}

const besselFactors = new WeakMap<Map<number, string>, Map<number, string>>();

/** elementsPerChannel and its Bessel factor, written once per map size like the count. */
function channelCount(ctx: LayerContext, positions: number): ChannelCount {
  const { w } = ctx;
  const n = elementsPerChannel(ctx, positions);
  let bySize = besselFactors.get(ctx.counts);
  if (bySize === undefined) {
    bySize = new Map();
    besselFactors.set(ctx.counts, bySize);
  }
  let bessel = bySize.get(positions);
  if (bessel === undefined) {
    const less = w.op('Sub', [n, w.scalar(1)], `count_${positions}_less1`);
    const atLeast1 = w.op('Max', [less, w.scalar(1)], `count_${positions}_less1_min1`);
    bessel = w.op('Div', [n, atLeast1], `bessel_${positions}`);
    bySize.set(positions, bessel);
  }
  return { n, bessel };
}

/**
 * Training-mode BatchNorm over an NCHW map with `positions` = H * W: batch statistics (biased variance)
 * normalise; the running averages move PyTorch's way, running = 0.9 running + 0.1 batch, with the
 * unbiased variance. Forward as TensorFlow.js's model.ts writes it: (x - mean) * (rsqrt(var + eps) *
 * gamma) + beta. The per-channel statistics are [C] vectors (only the mean is kept as [1, C, 1, 1], to
 * centre the map).
 */
export function batchNormTrain(
  ctx: LayerContext,
  x: string,
  p: BatchNormTensors,
  shape: { channels: number; positions: number },
  hint: string,
): BatchNormTrainResult {
  const { w, tape } = ctx;
  const axes = attr.ints([0, 2, 3]);
  const mean = w.op('ReduceMean', [x], `${hint}_mean`, { axes, keepdims: attr.int(1) });
  const centred = w.op('Sub', [x, mean], `${hint}_centred`);
  const sumSq = w.op('ReduceSumSquare', [centred], `${hint}_sumsq`, { axes, keepdims: attr.int(0) });
  const count = channelCount(ctx, shape.positions);
  const variance = w.op('Div', [sumSq, count.n], `${hint}_batch_var`);
  const invStd = w.op(
    'Reciprocal',
    [w.op('Sqrt', [w.op('Add', [variance, w.scalar(BN_EPSILON)], `${hint}_var_eps`)], `${hint}_std`)],
    `${hint}_invstd`,
  );
  const scale = w.op('Mul', [invStd, p.gamma], `${hint}_scale`);
  // (x - mean) * scale + beta, one pass
  const y = tracked(ctx, channelAffine(ctx, centred, scale, p.beta, shape.channels, hint), [
    x,
    p.gamma,
    p.beta,
  ]);
  const meanC = w.op('Reshape', [mean, w.ints([-1])], `${hint}_batch_mean`);
  const unbiased = w.op('Mul', [variance, count.bessel], `${hint}_batch_var_unbiased`);
  const keepOld = w.scalar(1 - BN_MOMENTUM);
  const takeNew = w.scalar(BN_MOMENTUM);
  const running = (old: string, batch: string, name: string): string =>
    w.op(
      'Add',
      [w.op('Mul', [old, keepOld], `${name}_old`), w.op('Mul', [batch, takeNew], `${name}_new`)],
      `${name}_next`,
    );
  if (tape.needsGrad(y))
    tape.record(() => {
      const dy = tape.grad(y);
      if (dy !== undefined)
        batchNormBackward(ctx, { x, dy, centred, invStd, scale, count: count.n }, p, shape.channels, hint);
    });
  return {
    y,
    runningMean: running(p.runningMean, meanC, `${hint}_running_mean`),
    runningVar: running(p.runningVar, unbiased, `${hint}_running_var`),
  };
}

/**
 * BatchNorm's backward from batch statistics, closed form: dbeta = sum dy, dgamma = invstd * sum(dy (x -
 * mean)), and dx = scale * (dy - sum(dy) / n - (x - mean) * invstd^2 * sum(dy (x - mean)) / n)
 * = dy * scale - ((x - mean) * k1 + k2) with per-channel k1, k2 (the bracket in one pass).
 */
function batchNormBackward(
  ctx: LayerContext,
  t: { x: string; dy: string; centred: string; invStd: string; scale: string; count: string },
  p: BatchNormTensors,
  channels: number,
  hint: string,
): void {
  const { w, tape } = ctx;
  const { dy, centred, scale, count } = t;
  const perChannelSum = { keepdims: attr.int(0) };
  const nhw = w.ints([0, 2, 3]);
  const dBeta = w.op('ReduceSum', [dy, nhw], `grad_${hint}_beta`, perChannelSum);
  // sum(dy * xhat) = invstd * sum(dy * (x - mean))
  const dyCentred = w.op(
    'ReduceSum',
    [w.op('Mul', [dy, centred], `${hint}_dy_centred`), nhw],
    `${hint}_sum_dy_centred`,
    perChannelSum,
  );
  if (tape.needsGrad(p.gamma))
    tape.addGrad(p.gamma, w.op('Mul', [dyCentred, t.invStd], `grad_${hint}_gamma`));
  if (tape.needsGrad(p.beta)) tape.addGrad(p.beta, dBeta);
  if (!tape.needsGrad(t.x)) return;
  const invVar = w.op('Mul', [t.invStd, t.invStd], `${hint}_invvar`);
  const k1 = w.op(
    'Div',
    [w.op('Mul', [w.op('Mul', [scale, invVar], `${hint}_si2`), dyCentred], `${hint}_k1n`), count],
    `${hint}_k1`,
  );
  const k2 = w.op('Div', [w.op('Mul', [scale, dBeta], `${hint}_k2n`), count], `${hint}_k2`);
  const fromStats = channelAffine(ctx, centred, k1, k2, channels, `${hint}_dx_stats`);
  const direct = w.op('Mul', [dy, perChannel(ctx, scale)], `${hint}_dx_direct`);
  tape.addGrad(t.x, w.op('Sub', [direct, fromStats], `grad_${hint}_input`));
}

/** BatchNorm on running statistics (a frozen block): no gradient flows through it. */
export function batchNormFrozen(ctx: LayerContext, x: string, p: BatchNormTensors, hint: string): string {
  if (ctx.tape.anyNeedsGrad([x, p.gamma, p.beta]))
    throw new Error(`BatchNorm ${hint} on running statistics cannot sit above a trainable layer`);
  return ctx.w.op('BatchNormalization', [x, p.gamma, p.beta, p.runningMean, p.runningVar], hint, {
    epsilon: attr.float(BN_EPSILON),
  });
}

// ---------------------------------------------------------------------------------------------
// ReLU, max-pool, Linear, Flatten

/**
 * 1 where a ReLU output (>= 0) is open, 0 where it is 0, as float32: the ReLU's backward is the gradient
 * times this. A Mul by a float mask measured ~30 % faster than Where(y > 0, dy, 0) on onnxruntime's CPU
 * provider (its Where broadcasting the scalar 0), and gives the same values (-0 where dy < 0 is closed).
 */
function openMask(ctx: LayerContext, y: string, hint: string): string {
  const { w } = ctx;
  const open = w.op('Greater', [y, w.scalar(0)], `${hint}_open`);
  return w.op('Cast', [open], `${hint}_open_f`, { to: attr.int(DataType.FLOAT) });
}

export function relu(ctx: LayerContext, x: string, hint: string): string {
  const { w, tape } = ctx;
  const y = tracked(ctx, w.op('Relu', [x], hint), [x]);
  if (tape.needsGrad(y))
    tape.record(() => {
      const dy = tape.grad(y);
      if (dy === undefined) return;
      tape.addGrad(x, w.op('Mul', [dy, openMask(ctx, y, hint)], `grad_${hint}_input`));
    });
  return y;
}

/**
 * 1 where `values` holds the first maximum along `axis` (0 elsewhere), float32: values equal to `max`
 * (the maximum, broadcast along `axis`), minus those after an earlier one (an exclusive CumSum of the hits
 * is 0 only up to the first). The first maximum is PyTorch's rule for max-pool gradients and ArgMax's
 * (select_last_index 0). Written with float ops only: ArgMax's int64 output has no consumer on the WebGPU
 * provider (its Cast and Equal take no int64; those nodes would run on the CPU).
 */
export function firstMaxMask(
  ctx: LayerContext,
  values: string,
  max: string,
  axis: number,
  hint: string,
): string {
  const { w } = ctx;
  const toFloat = { to: attr.int(DataType.FLOAT) };
  const hits = w.op('Cast', [w.op('Equal', [values, max], `${hint}_is_max`)], `${hint}_is_max_f`, toFloat);
  const before = w.op('CumSum', [hits, w.int(axis)], `${hint}_maxima_before`, { exclusive: attr.int(1) });
  const none = w.op(
    'Cast',
    [w.op('Equal', [before, w.scalar(0)], `${hint}_none_before`)],
    `${hint}_none_before_f`,
    toFloat,
  );
  return w.op('Mul', [hits, none], `${hint}_first_max`);
}

/**
 * The 2x2 window's gradient without MaxPool Indices or MaxUnpool: y [N, C, H, W] as [N, C, h, 2, w, 2],
 * the window's four values moved last ([N, C, h, w, 4], row-major within the window as MaxPool scans
 * it), a mask of each window's first maximum (firstMaxMask against the pooled value), times the pooled
 * gradient, then the same transpose and reshape back. Every op has a WebGPU and a CUDA kernel.
 */
function windowFirstMaxGradient(
  ctx: LayerContext,
  y: string,
  pooled: string,
  dPooled: string,
  shape: { channels: number; side: number },
  hint: string,
  outHint = `grad_${hint}_relu_input`,
): string {
  const { w } = ctx;
  const c = shape.channels;
  const half = shape.side / 2;
  const split = w.op('Reshape', [y, w.ints([-1, c, half, 2, half, 2])], `${hint}_windows6`);
  const swap = { perm: attr.ints([0, 1, 2, 4, 3, 5]) };
  const last = w.op('Transpose', [split], `${hint}_windows_last`, swap); // [N, C, h, w, 2, 2]
  const four = w.op('Reshape', [last, w.ints([-1, c, half, half, 4])], `${hint}_windows`);
  const lastAxis = w.ints([4]);
  const max = w.op('Unsqueeze', [pooled, lastAxis], `${hint}_max_5d`);
  const mask = firstMaxMask(ctx, four, max, 4, hint);
  const dp = w.op('Unsqueeze', [dPooled, lastAxis], `${hint}_dy_5d`);
  const spread = w.op('Mul', [mask, dp], `${hint}_dy_windows`); // [N, C, h, w, 4]
  const back = w.op(
    'Transpose',
    [w.op('Reshape', [spread, w.ints([-1, c, half, half, 2, 2])], `${hint}_dy_windows6`)],
    `${hint}_dy_windows_back`,
    swap,
  ); // [N, C, h, 2, w, 2]
  return w.op('Reshape', [back, w.ints([-1, c, shape.side, shape.side])], outHint);
}

const POOL_WINDOW = { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) };

/**
 * A 2x2 max-pool (stride 2) of `input` whose backward sends the pooled gradient, as `routed` makes it
 * from the pooled gradient and the pooled values, to each window's first maximum, as the gradient of
 * `target` (named `out`): through MaxUnpool at the Indices the forward MaxPool reported ('indices'), or a
 * mask of each window's first maximum ('argmax', windowFirstMaxGradient).
 */
function pool2x2WithBackward(
  ctx: LayerContext,
  input: string,
  target: string,
  shape: { channels: number; side: number },
  hint: string,
  out: string,
  routed: (dp: string, pooled: string) => string,
): string {
  const { w, tape } = ctx;
  const byIndices = ctx.poolBackward === 'indices';
  const [pooled, indices] = byIndices
    ? w.opMulti('MaxPool', [input], [hint, `${hint}_indices`], POOL_WINDOW)
    : [w.op('MaxPool', [input], hint, POOL_WINDOW), ''];
  tape.track(pooled);
  tape.record(() => {
    const dp = tape.grad(pooled);
    if (dp === undefined) return;
    const g = routed(dp, pooled);
    if (!byIndices) {
      tape.addGrad(target, windowFirstMaxGradient(ctx, input, pooled, g, shape, hint, out));
      return;
    }
    const inputShape = w.op('Shape', [target], `${hint}_input_shape`);
    tape.addGrad(target, w.op('MaxUnpool', [g, indices, inputShape], out, POOL_WINDOW));
  });
  return pooled;
}

/**
 * ReLU followed by a 2x2 max-pool (stride 2), the end of every VGG block; also returns the ReLU output
 * (conv 7, 10 and 13 feed the attention). Backward: the pooled gradient is masked where the pooled value
 * is 0 (on the small map), then goes to the window's first maximum (pool2x2WithBackward). That is the
 * gradient at the ReLU's input directly: the arg-max of a window is > 0 exactly when the window's maximum
 * is. Gradient reaching the ReLU output from elsewhere (the attention) goes through the ReLU's own
 * backward.
 */
export function reluMaxPool2x2(
  ctx: LayerContext,
  z: string,
  shape: { channels: number; side: number },
  hints: { relu: string; pool: string },
): { relu: string; pooled: string } {
  const { w, tape } = ctx;
  const y = relu(ctx, z, hints.relu);
  if (!tape.needsGrad(z)) return { relu: y, pooled: w.op('MaxPool', [y], hints.pool, POOL_WINDOW) };
  const hint = hints.pool;
  const pooled = pool2x2WithBackward(ctx, y, z, shape, hint, `grad_${hint}_relu_input`, (dp, p) => {
    return w.op('Mul', [dp, openMask(ctx, p, hint)], `${hint}_dy_open`);
  });
  return { relu: y, pooled };
}

/**
 * A 2x2 max-pool (stride 2) whose gradient goes to its input as it is: each window's first maximum gets
 * the pooled gradient whatever its value (no ReLU mask, unlike reluMaxPool2x2, whose gradient is the
 * ReLU input's). Grad-CAM differentiates with respect to conv 13's ReLU output, which reaches pool5
 * through this. The same two ways as reluMaxPool2x2 (poolBackward).
 */
export function maxPool2x2(
  ctx: LayerContext,
  x: string,
  shape: { channels: number; side: number },
  hint: string,
): string {
  if (!ctx.tape.needsGrad(x)) return ctx.w.op('MaxPool', [x], hint, POOL_WINDOW);
  return pool2x2WithBackward(ctx, x, x, shape, hint, `grad_${hint}_input`, (dp) => dp);
}

/** y = x W^T + b for x [N, in], W [out, in] (PyTorch's nn.Linear). */
export function linear(ctx: LayerContext, x: string, weight: string, bias: string, hint: string): string {
  const { w, tape } = ctx;
  const y = tracked(ctx, w.op('Gemm', [x, weight, bias], hint, { transB: attr.int(1) }), [x, weight, bias]);
  if (tape.needsGrad(y))
    tape.record(() => {
      const dy = tape.grad(y);
      if (dy === undefined) return;
      if (tape.needsGrad(weight))
        tape.addGrad(weight, w.op('Gemm', [dy, x], `grad_${hint}_weight`, { transA: attr.int(1) }));
      if (tape.needsGrad(bias))
        tape.addGrad(
          bias,
          w.op('ReduceSum', [dy, w.ints([0])], `grad_${hint}_bias`, { keepdims: attr.int(0) }),
        );
      if (tape.needsGrad(x)) tape.addGrad(x, w.op('MatMul', [dy, weight], `grad_${hint}_input`));
    });
  return y;
}

/**
 * Flatten(axis 1): [N, C, H, W] -> [N, C * H * W] in PyTorch's (C, H, W) order (pool5 before g). Its
 * gradient is reshaped back to the input's shape.
 */
export function flatten(ctx: LayerContext, x: string, hint: string): string {
  const { w } = ctx;
  return withShapeBackward(ctx, x, w.op('Flatten', [x], hint, { axis: attr.int(1) }), hint);
}

/** Reshape whose gradient is reshaped back to the input's shape. */
export function reshape(ctx: LayerContext, x: string, shape: readonly number[], hint: string): string {
  const { w } = ctx;
  return withShapeBackward(ctx, x, w.op('Reshape', [x, w.ints(shape)], hint), hint);
}

/** `y`, a re-shaping of `x`: its gradient is reshaped back to the input's shape. */
function withShapeBackward(ctx: LayerContext, x: string, y: string, hint: string): string {
  const { w, tape } = ctx;
  tracked(ctx, y, [x]);
  if (tape.needsGrad(y))
    tape.record(() => {
      const dy = tape.grad(y);
      if (dy === undefined) return;
      const original = w.op('Shape', [x], `${hint}_input_shape`);
      tape.addGrad(x, w.op('Reshape', [dy, original], `grad_${hint}_input`));
    });
  return y;
}
