// Additive compatibility of one attention level as ONNX nodes over NCHW maps, with its backward written
// by hand: score(s) = <u, ReLU(W_l l(s) + W_g g)> (models/README.md). attention.ts calls it for the
// scores of a level and, on the tape, for their gradients into l, g, W_l, W_g, u and the projection P.
// Pure: imports the graph writer and the layer context type; nothing from main/, no runtime.

import { attr } from './graph-writer.js';
import type { LayerContext } from './layers.js';

/** The level's additive tensors: W_l [H, C, 1, 1], W_g [H, C], u [1, H, 1, 1], and H. */
export interface AdditiveTensors {
  wl: string;
  wg: string;
  u: string;
  hidden: number;
}

/** What the additive scores read of the level (attention.ts's LevelForward). */
export interface AdditiveLevel {
  /** The local features as [N, Cl, hw]. */
  flatL: string;
  /** g, [N, C]. */
  g: string;
  c: number;
  cl: number;
  /** P as [C, Cl], when the projection is applied after pooling: W_l (P l(s)) = (W_l P) l(s). */
  project?: string;
}

/** The forward tensors the backward reads. */
export interface AdditiveForward {
  /** W_l as [H, C], and W_l or W_l P as [H, Cl]. */
  wl2: string;
  wlLocal: string;
  /** ReLU(W_l l(s) + W_g g), [N, H, hw]. */
  activated: string;
}

/** The level's scores [N, 1, hw] = u^T ReLU(W_l l(s) + W_g g), and what their backward reads. */
export function additiveScores(
  ctx: LayerContext,
  t: AdditiveTensors,
  level: AdditiveLevel,
  hint: string,
): { score: string; forward: AdditiveForward } {
  const { w } = ctx;
  const wl2 = w.op('Reshape', [t.wl, w.ints([t.hidden, level.c])], `${hint}_wl_2d`);
  const wlLocal = level.project ? w.op('MatMul', [wl2, level.project], `${hint}_wl_local`) : wl2;
  const localHidden = w.op('MatMul', [wlLocal, level.flatL], `${hint}_hidden_local`); // [N, H, hw]
  const globalHidden = w.op(
    'Unsqueeze',
    [w.op('Gemm', [level.g, t.wg], `${hint}_hidden_global`, { transB: attr.int(1) }), w.ints([2])],
    `${hint}_hidden_global3`,
  ); // [N, H, 1]
  const activated = w.op(
    'Relu',
    [w.op('Add', [localHidden, globalHidden], `${hint}_hidden_sum`)],
    `${hint}_hidden`,
  );
  const uRow = w.op('Reshape', [t.u, w.ints([1, t.hidden])], `${hint}_u_row`);
  const score = w.op('MatMul', [uRow, activated], `${hint}_score`);
  return { score, forward: { wl2, wlLocal, activated } };
}

/**
 * The additive scores' gradients from dscore [N, 1, hw] into u, W_g, g, W_l and (through `projectGrad`,
 * given when P trains) P. Returns the contribution to dl [N, Cl, hw], or undefined when l needs none.
 */
export function additiveGradients(
  ctx: LayerContext,
  t: AdditiveTensors,
  level: AdditiveLevel,
  f: AdditiveForward,
  dScore: string,
  hint: string,
  projectGrad?: (dp: string, part: string) => void,
): string | undefined {
  const { w, tape } = ctx;
  // through score = u^T h: du = sum_n,s h dscore, dh = u dscore
  if (tape.needsGrad(t.u)) {
    const perImage = w.op(
      'MatMul',
      [f.activated, w.op('Reshape', [dScore, w.ints([0, -1, 1])], `${hint}_dscore_col`)],
      `${hint}_du_per_image`,
    ); // [N, H, 1]
    const du = w.op('ReduceSum', [perImage, w.ints([0])], `${hint}_du`, { keepdims: attr.int(0) });
    tape.addGrad(t.u, w.op('Reshape', [du, w.ints([1, t.hidden, 1, 1])], `grad_${hint}_u`));
  }
  const dActivated = w.op(
    'Mul',
    [w.op('Reshape', [t.u, w.ints([1, t.hidden, 1])], `${hint}_u_col3`), dScore],
    `${hint}_dhidden`,
  );
  // through the ReLU: the gradient passes where its output is positive
  const open = w.op('Greater', [f.activated, w.scalar(0)], `${hint}_hidden_open`);
  const dPre = w.op('Where', [open, dActivated, w.scalar(0)], `${hint}_dhidden_sum`); // [N, H, hw]
  globalGradients(ctx, t, level, dPre, hint);
  // through W_l l(s) (or (W_l P) l(s)): dW_local = sum_n,s dpre l^T, dl = W_local^T dpre
  const trainsWl = tape.needsGrad(t.wl);
  if (trainsWl || projectGrad) {
    const lT = w.op('Transpose', [level.flatL], `${hint}_l_t`, { perm: attr.ints([0, 2, 1]) });
    const dWlLocal = w.op(
      'ReduceSum',
      [w.op('MatMul', [dPre, lT], `${hint}_dwl_local_per_image`), w.ints([0])],
      `${hint}_dwl_local`,
      { keepdims: attr.int(0) },
    ); // [H, Cl]
    // through W_local = W_l P: dW_l = dW_local P^T, dP = W_l^T dW_local
    if (trainsWl) {
      const dWl = level.project
        ? w.op('Gemm', [dWlLocal, level.project], `${hint}_dwl_2d`, { transB: attr.int(1) })
        : dWlLocal;
      tape.addGrad(t.wl, w.op('Reshape', [dWl, w.ints([t.hidden, level.c, 1, 1])], `grad_${hint}_wl`));
    }
    if (projectGrad)
      projectGrad(w.op('Gemm', [f.wl2, dWlLocal], `${hint}_dp_from_wl`, { transA: attr.int(1) }), 'wl');
  }
  if (!tape.needsGrad(level.flatL)) return undefined;
  const wlLocalT = w.op('Transpose', [f.wlLocal], `${hint}_wl_local_t`, { perm: attr.ints([1, 0]) });
  return w.op('MatMul', [wlLocalT, dPre], `${hint}_dl_from_score`);
}

/** Through W_g g, the same at every position: dhg = sum_s dpre, dW_g = dhg^T g, dg = dhg W_g. */
function globalGradients(
  ctx: LayerContext,
  t: AdditiveTensors,
  level: AdditiveLevel,
  dPre: string,
  hint: string,
): void {
  const { w, tape } = ctx;
  if (!tape.needsGrad(t.wg) && !tape.needsGrad(level.g)) return;
  const dGlobal = w.op('ReduceSum', [dPre, w.ints([2])], `${hint}_dhidden_global`, {
    keepdims: attr.int(0),
  }); // [N, H]
  if (tape.needsGrad(t.wg))
    tape.addGrad(t.wg, w.op('Gemm', [dGlobal, level.g], `grad_${hint}_wg`, { transA: attr.int(1) }));
  if (tape.needsGrad(level.g)) tape.addGrad(level.g, w.op('MatMul', [dGlobal, t.wg], `grad_${hint}_g`));
}
