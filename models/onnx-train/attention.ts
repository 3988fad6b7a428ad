// g, the three attention levels and the classifier head of models/tfjs/model.ts as ONNX nodes over NCHW
// maps, with their backward written by hand (softmax and sigmoid in closed form): pc scores <u, l> + <u, g>,
// dp scores <l, g>, additive scores <u, ReLU(W_l l + W_g g)> (additive-attention.ts). With nothing tracked on the tape they write the forward only, which is how
// models/onnx/export.ts's inference graph is written (forward.ts).
// Pure: imports the graph writer, the tape and the layer helpers; nothing from main/, no runtime.

import type { ModelSpec } from '../core/spec.js';
import {
  additiveGradients,
  additiveScores,
  type AdditiveForward,
  type AdditiveTensors,
} from './additive-attention.js';
import { attr } from './graph-writer.js';
import { linear, relu, reshape, type LayerContext } from './layers.js';

/** 1x1 convolution without bias (the projection of conv 7 to the width of g). */
export function pointwiseConv(
  ctx: LayerContext,
  x: string,
  weight: string,
  channels: { in: number; out: number },
  hint: string,
): string {
  const { w, tape } = ctx;
  const y = w.op('Conv', [x, weight], hint, { kernel_shape: attr.ints([1, 1]) });
  if (!tape.anyNeedsGrad([x, weight])) return y;
  tape.track(y);
  tape.record(() => {
    const dy = tape.grad(y);
    if (dy === undefined) return;
    if (tape.needsGrad(weight)) {
      const dy3 = w.op('Reshape', [dy, w.ints([0, channels.out, -1])], `${hint}_dy3`);
      const x3 = w.op('Reshape', [x, w.ints([0, channels.in, -1])], `${hint}_x3`);
      const xT = w.op('Transpose', [x3], `${hint}_x3_t`, { perm: attr.ints([0, 2, 1]) });
      const perImage = w.op('MatMul', [dy3, xT], `${hint}_dw_per_image`);
      const sum = w.op('ReduceSum', [perImage, w.ints([0])], `${hint}_dw_sum`, { keepdims: attr.int(0) });
      tape.addGrad(
        weight,
        w.op('Reshape', [sum, w.ints([channels.out, channels.in, 1, 1])], `grad_${hint}_weight`),
      );
    }
    if (tape.needsGrad(x)) {
      const wT = w.op('Transpose', [weight], `${weight}_t`, { perm: attr.ints([1, 0, 2, 3]) });
      tape.addGrad(x, w.op('Conv', [dy, wT], `grad_${hint}_input`, { kernel_shape: attr.ints([1, 1]) }));
    }
  });
  return y;
}

export interface LevelInputs {
  /**
   * The level's local features, NCHW [N, C, side, side]; with `project`, before the projection
   * ([N, project.inChannels, side, side]).
   */
  local: string;
  /** The global feature g, [N, C]. */
  g: string;
  /** pc: u, [1, C, 1, 1]; additive: u, [1, H, 1, 1]. */
  u?: string;
  /** additive only: W_l [H, C, 1, 1], W_g [H, C] and the hidden width H. */
  additive?: { wl: string; wg: string; hidden: number };
  channels: number;
  side: number;
  /**
   * The 1x1 projection P ([C, Cin, 1, 1]) to apply to `local`, moved past the pooling (as
   * models/tfjs attendCached does for cached features): pc scores <P^T u, l(s)> + <u, g>, dp scores
   * <l(s), P^T g>, and g_a = P (sum_s a(s) l(s)). The same values as projecting every position first,
   * for S^2/16 times fewer products when l1 is a constant (a cached feature).
   */
  project?: { weight: string; inChannels: number };
}

/** What one attention level computes: g_a [N, C] and its map a [N, 1, side * side]. */
export interface LevelResult {
  attended: string;
  map: string;
}

/** The forward tensors of one level that its backward reads. */
interface LevelForward {
  /** C (g's width) and Cl (the local features' channels as given; C without projection). */
  c: number;
  cl: number;
  /** P as [C, Cl], when the projection is applied after pooling. */
  project?: string;
  flatL: string;
  /** pc: u as [1, C], and u or P^T u as [1, Cl]. */
  uRow?: string;
  uLocal?: string;
  /** dp: g, or g P, as [N, Cl]. */
  gLocal?: string;
  /** additive: its tensors and the forward tensors its backward reads. */
  additive?: { tensors: AdditiveTensors; forward: AdditiveForward };
  a: string;
  gaLocal: string;
  positions: string;
  softmax: boolean;
}

/**
 * The level's scores [N, 1, hw]: pc <u_local, l(s)> + <u, g>, dp <l(s), g_local>, additive
 * <u, ReLU(W_local l(s) + W_g g)>.
 */
function levelScores(
  ctx: LayerContext,
  spec: ModelSpec,
  p: LevelInputs,
  f: LevelForward,
  hint: string,
): string {
  const { w } = ctx;
  if (spec.compatibility === 'pc') {
    if (p.u === undefined) throw new Error('pc attention needs u');
    f.uRow = w.op('Reshape', [p.u, w.ints([1, f.c])], `${hint}_u_row`);
    f.uLocal = f.project ? w.op('MatMul', [f.uRow, f.project], `${hint}_u_local`) : f.uRow;
    const lu = w.op('MatMul', [f.uLocal, f.flatL], `${hint}_score_local`);
    const gu = w.op(
      'MatMul',
      [p.g, w.op('Reshape', [p.u, w.ints([f.c, 1])], `${hint}_u_col`)],
      `${hint}_score_global`,
    );
    return w.op('Add', [lu, w.op('Unsqueeze', [gu, w.ints([2])], `${hint}_score_global3`)], `${hint}_score`);
  }
  if (spec.compatibility === 'additive') {
    if (p.u === undefined || p.additive === undefined)
      throw new Error('additive attention needs u, W_l and W_g');
    const tensors: AdditiveTensors = { ...p.additive, u: p.u };
    const level = { flatL: f.flatL, g: p.g, c: f.c, cl: f.cl, project: f.project };
    const { score, forward } = additiveScores(ctx, tensors, level, hint);
    f.additive = { tensors, forward };
    return score;
  }
  f.gLocal = f.project ? w.op('MatMul', [p.g, f.project], `${hint}_g_local`) : p.g;
  const gRow = w.op('Unsqueeze', [f.gLocal, w.ints([1])], `${hint}_g_row`);
  return w.op('MatMul', [gRow, f.flatL], `${hint}_score`);
}

/**
 * One attention level: scores over the side x side positions, a = softmax or sigmoid of the scores,
 * g_a = sum_s a(s) l(s) (divided by the number of positions for sigmoid). Returns g_a, [N, C], and the
 * map a (the inference graph's attention output; no gradient flows from it). With `p.project` the
 * projection is applied after the pooling (LevelInputs.project).
 */
export function attentionLevel(
  ctx: LayerContext,
  spec: ModelSpec,
  p: LevelInputs,
  hint: string,
): LevelResult {
  const { w, tape } = ctx;
  const c = p.channels;
  const cl = p.project ? p.project.inChannels : c;
  const f: LevelForward = {
    c,
    cl,
    project: p.project
      ? w.op('Reshape', [p.project.weight, w.ints([c, cl])], `${hint}_project_2d`)
      : undefined,
    flatL: reshape(ctx, p.local, [0, 0, -1], `${hint}_l`), // [N, Cl, hw]
    a: '',
    gaLocal: '',
    positions: w.scalar(p.side * p.side),
    softmax: spec.normalisation === 'softmax',
  };
  const score = levelScores(ctx, spec, p, f, hint);
  f.a = f.softmax
    ? w.op('Softmax', [score], `${hint}_a`, { axis: attr.int(-1) })
    : w.op('Sigmoid', [score], `${hint}_a`);
  const aCol = w.op('Reshape', [f.a, w.ints([0, -1, 1])], `${hint}_a_col`);
  const sum = w.op(
    'Reshape',
    [w.op('MatMul', [f.flatL, aCol], `${hint}_weighted`), w.ints([0, -1])],
    `${hint}_ga_sum`,
  );
  f.gaLocal = f.softmax ? sum : w.op('Div', [sum, f.positions], `${hint}_ga_local`);
  const ga = f.project
    ? w.op('Gemm', [f.gaLocal, f.project], `${hint}_ga`, { transB: attr.int(1) })
    : f.gaLocal;
  const projectWeight = p.project?.weight;
  const inputs = [
    f.flatL,
    p.g,
    ...(p.u ? [p.u] : []),
    ...(p.additive ? [p.additive.wl, p.additive.wg] : []),
    ...(projectWeight ? [projectWeight] : []),
  ];
  if (!tape.anyNeedsGrad(inputs)) return { attended: ga, map: f.a };
  tape.track(ga);
  tape.record(() => {
    const dga = tape.grad(ga);
    if (dga !== undefined) levelBackward(ctx, spec, p, f, dga, hint);
  });
  return { attended: ga, map: f.a };
}

/** Adds a [C, Cl] contribution to the projection's gradient, when it trains. */
function addProjectGrad(
  ctx: LayerContext,
  p: LevelInputs,
  f: LevelForward,
  g2: string,
  part: string,
  hint: string,
): void {
  const weight = p.project?.weight;
  if (weight === undefined || !ctx.tape.needsGrad(weight)) return;
  ctx.tape.addGrad(
    weight,
    ctx.w.op('Reshape', [g2, ctx.w.ints([f.c, f.cl, 1, 1])], `grad_${hint}_project_${part}`),
  );
}

/** True when the projection's gradient is wanted. */
function trainsProject(ctx: LayerContext, p: LevelInputs): boolean {
  return p.project !== undefined && ctx.tape.needsGrad(p.project.weight);
}

/** Through a = softmax(score): a * (da - sum(da * a)); a = sigmoid(score): da * a * (1 - a). */
function scoreGradient(ctx: LayerContext, f: LevelForward, da: string, hint: string): string {
  const { w } = ctx;
  const a = f.a;
  if (!f.softmax)
    return w.op(
      'Mul',
      [da, w.op('Mul', [a, w.op('Sub', [w.scalar(1), a], `${hint}_1_a`)], `${hint}_a_1_a`)],
      `grad_${hint}_score`,
    );
  const daA = w.op('ReduceSum', [w.op('Mul', [da, a], `${hint}_da_a`), w.ints([2])], `${hint}_da_a_sum`, {
    keepdims: attr.int(1),
  });
  return w.op('Mul', [a, w.op('Sub', [da, daA], `${hint}_da_centred`)], `grad_${hint}_score`);
}

/**
 * The level's backward from dg_a: through the projection (when after pooling), the pooling g_a = L a,
 * the normalisation and the scores (pcGradients, dpGradients), into l, u, g and P.
 */
function levelBackward(
  ctx: LayerContext,
  spec: ModelSpec,
  p: LevelInputs,
  f: LevelForward,
  dgaIn: string,
  hint: string,
): void {
  const { w, tape } = ctx;
  // through g_a = P g_local: dP = dga^T g_local, dg_local = dga P
  if (f.project && trainsProject(ctx, p))
    addProjectGrad(
      ctx,
      p,
      f,
      w.op('Gemm', [dgaIn, f.gaLocal], `${hint}_dp_from_ga`, { transA: attr.int(1) }),
      'ga',
      hint,
    );
  const dgaLocal = f.project ? w.op('MatMul', [dgaIn, f.project], `grad_${hint}_ga_local`) : dgaIn;
  const dga = f.softmax ? dgaLocal : w.op('Div', [dgaLocal, f.positions], `grad_${hint}_sum`);
  // through g_a = L a: dL = dga a^T, da = dga^T L
  const dLa = w.op(
    'MatMul',
    [w.op('Reshape', [dga, w.ints([0, -1, 1])], `${hint}_dga_col`), f.a],
    `${hint}_dl_from_a`,
  );
  const da = w.op(
    'MatMul',
    [w.op('Reshape', [dga, w.ints([0, 1, -1])], `${hint}_dga_row`), f.flatL],
    `grad_${hint}_a`,
  );
  const dScore = scoreGradient(ctx, f, da, hint);
  const dLs = scoresBackward(ctx, spec, p, f, dScore, hint);
  if (tape.needsGrad(f.flatL))
    tape.addGrad(f.flatL, dLs === undefined ? dLa : w.op('Add', [dLa, dLs], `grad_${hint}_l`));
}

/** The scores' gradients into u, g, W_l, W_g and P; returns their contribution to dl, if any. */
function scoresBackward(
  ctx: LayerContext,
  spec: ModelSpec,
  p: LevelInputs,
  f: LevelForward,
  dScore: string,
  hint: string,
): string | undefined {
  if (spec.compatibility === 'pc') return pcGradients(ctx, p, f, dScore, hint);
  if (spec.compatibility === 'dp') return dpGradients(ctx, p, f, dScore, hint);
  const additive = f.additive as NonNullable<LevelForward['additive']>;
  const level = { flatL: f.flatL, g: p.g, c: f.c, cl: f.cl, project: f.project };
  const projectGrad =
    f.project && trainsProject(ctx, p)
      ? (dp: string, part: string) => addProjectGrad(ctx, p, f, dp, part, hint)
      : undefined;
  return additiveGradients(ctx, additive.tensors, level, additive.forward, dScore, hint, projectGrad);
}

/** pc scores' gradients into u, g and P; returns their contribution to dl. */
function pcGradients(
  ctx: LayerContext,
  p: LevelInputs,
  f: LevelForward,
  dScore: string,
  hint: string,
): string {
  const { w, tape } = ctx;
  const u = p.u as string;
  const dScoreCol = w.op('Reshape', [dScore, w.ints([0, -1, 1])], `${hint}_dscore_col`);
  const dScoreSum = w.op('ReduceSum', [dScore, w.ints([2])], `${hint}_dscore_sum`, {
    keepdims: attr.int(0),
  }); // [N, 1]
  if (tape.needsGrad(u) || trainsProject(ctx, p)) {
    // d u_local = sum_n,s dscore l
    const fromL = w.op(
      'ReduceSum',
      [w.op('MatMul', [f.flatL, dScoreCol], `${hint}_du_local_per_image`), w.ints([0])],
      `${hint}_du_local`,
      { keepdims: attr.int(0) },
    ); // [Cl, 1]
    // through u_local = P^T u: du = P du_local, dP = u du_local^T
    if (f.project && trainsProject(ctx, p))
      addProjectGrad(
        ctx,
        p,
        f,
        w.op(
          'MatMul',
          [
            w.op('Reshape', [u, w.ints([f.c, 1])], `${hint}_u_col_for_p`),
            w.op('Reshape', [fromL, w.ints([1, -1])], `${hint}_du_local_t`),
          ],
          `${hint}_dp_from_u`,
        ),
        'u',
        hint,
      );
    if (tape.needsGrad(u)) {
      const fromLocal = f.project ? w.op('MatMul', [f.project, fromL], `${hint}_du_projected`) : fromL;
      const fromG = w.op(
        'MatMul',
        [w.op('Reshape', [dScoreSum, w.ints([1, -1])], `${hint}_dscore_sum_row`), p.g],
        `${hint}_du_global`,
      ); // [1, C]
      const du = w.op(
        'Add',
        [w.op('Reshape', [fromLocal, w.ints([1, -1])], `${hint}_du_local_row`), fromG],
        `${hint}_du_row`,
      );
      tape.addGrad(u, w.op('Reshape', [du, w.ints([1, f.c, 1, 1])], `grad_${hint}_u`));
    }
  }
  if (tape.needsGrad(p.g)) tape.addGrad(p.g, w.op('Mul', [dScoreSum, f.uRow as string], `grad_${hint}_g`));
  return w.op(
    'Mul',
    [w.op('Reshape', [f.uLocal as string, w.ints([1, f.cl, 1])], `${hint}_u_col3`), dScore],
    `${hint}_dl_from_score`,
  );
}

/** dp scores' gradients into g and P; returns their contribution to dl. */
function dpGradients(
  ctx: LayerContext,
  p: LevelInputs,
  f: LevelForward,
  dScore: string,
  hint: string,
): string {
  const { w, tape } = ctx;
  if (tape.needsGrad(p.g) || trainsProject(ctx, p)) {
    const dScoreCol = w.op('Reshape', [dScore, w.ints([0, -1, 1])], `${hint}_dscore_col`);
    const dgLocal = w.op(
      'Reshape',
      [w.op('MatMul', [f.flatL, dScoreCol], `${hint}_dg3`), w.ints([0, -1])],
      f.project ? `${hint}_dg_local` : `grad_${hint}_g`,
    ); // [N, Cl]
    // through g_local = g P: dg = dg_local P^T, dP = g^T dg_local
    if (tape.needsGrad(p.g))
      tape.addGrad(
        p.g,
        f.project ? w.op('Gemm', [dgLocal, f.project], `grad_${hint}_g`, { transB: attr.int(1) }) : dgLocal,
      );
    if (f.project && trainsProject(ctx, p))
      addProjectGrad(
        ctx,
        p,
        f,
        w.op('Gemm', [p.g, dgLocal], `${hint}_dp_from_g`, { transA: attr.int(1) }),
        'g',
        hint,
      );
  }
  return w.op(
    'Mul',
    [w.op('Reshape', [f.gLocal as string, w.ints([0, -1, 1])], `${hint}_g_col`), dScore],
    `${hint}_dl_from_score`,
  );
}

/** Concat along axis 1 of [N, C_k] tensors; the gradient is split back. */
export function concatColumns(
  ctx: LayerContext,
  parts: readonly string[],
  widths: readonly number[],
  hint: string,
): string {
  const { w, tape } = ctx;
  const y = w.op('Concat', parts, hint, { axis: attr.int(1) });
  if (!tape.anyNeedsGrad(parts)) return y;
  tape.track(y);
  tape.record(() => {
    const dy = tape.grad(y);
    if (dy === undefined) return;
    const pieces = w.opMulti(
      'Split',
      [dy, w.ints(widths)],
      parts.map((_, k) => `grad_${hint}_${k}`),
      { axis: attr.int(1) },
    );
    parts.forEach((part, k) => tape.addGrad(part, pieces[k]));
  });
  return y;
}

export interface HeadTensors {
  g: { weight: string; bias: string };
  head: { weight: string; bias: string };
  project?: string;
  /** pc and additive: u per level. */
  u: string[];
  /** additive only: W_l and W_g per level. */
  wl?: string[];
  wg?: string[];
}

/**
 * From the backbone's locals and pool5 to the logits, as AttentionVgg.attend; also returns the three maps
 * a_1..a_3 as [N, 1, side * side] (none with attention off). `projectAfterPooling` moves level 1's
 * projection past its pooling (LevelInputs.project): the graphs on cached features, where l1 is a
 * constant, use it.
 */
export function attendAndClassify(
  ctx: LayerContext,
  spec: ModelSpec,
  locals: readonly string[],
  pool5: string,
  t: HeadTensors,
  dims: { c256: number; c512: number; hidden: number; sides: readonly number[] },
  options: { projectAfterPooling?: boolean } = {},
): { logits: string; maps: string[] } {
  const g = linear(ctx, pool5, t.g.weight, t.g.bias, 'g');
  if (!spec.attention)
    return { logits: linear(ctx, relu(ctx, g, 'g_relu'), t.head.weight, t.head.bias, 'logits'), maps: [] };
  const late = options.projectAfterPooling ?? false;
  const levels = locals.map((local, k) => {
    const projected = k === 0 && t.project !== undefined;
    const l =
      projected && !late
        ? pointwiseConv(
            ctx,
            local,
            t.project as string,
            { in: dims.c256, out: dims.c512 },
            'local_1_projected',
          )
        : local;
    return attentionLevel(
      ctx,
      spec,
      {
        local: l,
        g,
        u: spec.compatibility === 'dp' ? undefined : t.u[k],
        ...(spec.compatibility === 'additive'
          ? { additive: { wl: (t.wl as string[])[k], wg: (t.wg as string[])[k], hidden: dims.hidden } }
          : {}),
        channels: dims.c512,
        side: dims.sides[k],
        ...(projected && late ? { project: { weight: t.project as string, inChannels: dims.c256 } } : {}),
      },
      `level${k + 1}`,
    );
  });
  const attended = levels.map((level) => level.attended);
  const cat = concatColumns(
    ctx,
    attended,
    attended.map(() => dims.c512),
    'attended',
  );
  return {
    logits: linear(ctx, cat, t.head.weight, t.head.bias, 'logits'),
    maps: levels.map((level) => level.map),
  };
}
