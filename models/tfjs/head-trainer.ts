// Trains the part of attention-VGG16_bn after frozen conv blocks on their cached outputs (a FeatureSource)
// in TensorFlow.js: with blocks 1..5 frozen the heads (attention estimators u, the l1 projection, g and the
// classifier head); with blocks 1..4 frozen also block 5 (conv 11-13 and their BatchNorm, on batch
// statistics in training as in the full model), which runs here on the max-pool of the cached l2. The
// heads go through attendCached (AttentionVgg.attend() with the l1 projection reassociated). One step
// here equals one step of the full model with the same frozen blocks on the same images (same loss, same
// gradients, same update, same BatchNorm running averages; tested), without running the frozen convs.
// The recipe's defaults: Adam, lr 1e-3, batch 32 (BENCHMARKS.md, the transfer recipe).
// Imports models/ only (TensorFlow.js); the cache itself is main/services/transfer/feature-cache.ts.

import * as tf from '@tensorflow/tfjs-core';
import './gradients.js';
import { createRandom } from '../core/random.js';
import { globalFeatureIsInert, type ModelSpec } from '../core/spec.js';
import { initWeights, type NamedArray, type Weights } from '../core/weights.js';
import { Optimizer, type StepHyper } from '../train/optimizer.js';
import { crossEntropy, type TrainStepResult } from '../train/step.js';
import { AttentionVgg, type BackboneFeatures } from './model.js';
import {
  float32Features,
  viewZeroBatches,
  type CachedFrozenBlocks,
  type FeatureBatch,
  type FeatureSource,
} from '../core/cached-features.js';
import { constantTimes, constantTimesColumn, constantTimesColumns, product } from './transposed-products.js';
import { additiveScores } from './additive-scores.js';

export const HEAD_RECIPE = { optimizer: 'adam', lr: 1e-3, batchSize: 32, epochs: 5 } as const;

export interface HeadStepOptions {
  hyper: StepHyper;
  labelSmoothing?: number;
}

/** A model whose backbone is `backbone` (`features.*`) and whose other tensors are freshly initialised. */
export function modelWithBackbone(spec: ModelSpec, backbone: Weights, seed = 0): AttentionVgg {
  const weights = initWeights(spec, createRandom(seed));
  for (const [name, a] of backbone) if (name.startsWith('features.')) weights.set(name, a);
  return AttentionVgg.fromWeights(spec, weights);
}

/** Adam as the transfer recipe uses it; pass `{ lr }` per step in the hyper-parameters. */
export function createHeadOptimizer(options: { weightDecay?: number } = {}): Optimizer {
  return new Optimizer({ name: 'adam', weightDecay: options.weightDecay ?? 0 });
}

/**
 * AttentionVgg.attend() computed in a cheaper order, for cached features. The l1 projection P is linear,
 * so instead of projecting every position of l1 (S/4 x S/4 positions x 256 x 512 multiply-adds: 0.8
 * GFLOP per image at S=224, the bulk of the head's cost) it is moved onto the vectors:
 *   pc: <u, P l(s)> = <P^T u, l(s)>        dp: <P l(s), g> = <l(s), P^T g>
 *   additive: W_l (P l(s)) = (W_l P) l(s)
 *   g_a = sum_s a(s) P l(s) = P (sum_s a(s) l(s)).
 * In the pc/softmax variant the constant <u, g> is left out (it cancels; globalFeatureIsInert). Same
 * logits, same gradients up to float rounding (tested against the full model). Layouts are the model's
 * TF ones (project [in, out], u [C, 1], g [D, C], head [3C, classes]).
 *
 * The first `cachedLevels` locals (and pool5 when all three are) are cached constants, which get no
 * gradient; the others (l3 and pool5 when block 5 trains) were computed from trainable tensors here.
 */
export function attendCached(model: AttentionVgg, features: BackboneFeatures, cachedLevels = 3): tf.Tensor2D {
  const spec = model.spec;
  if (!spec.attention) return model.attend(features).logits;
  const inert = globalFeatureIsInert(spec);
  const gWeight = model.variable('g.weight') as tf.Tensor2D;
  const g = inert
    ? undefined
    : (tf.add(
        cachedLevels >= 3 ? constantTimes(features.pool5, gWeight) : product(features.pool5, gWeight),
        model.variable('g.bias'),
      ) as tf.Tensor2D);
  // (Every tensor but the backbone's trains: block 5 is the last block, so this lists the head tensors.)
  const hasProjection = model.trainableVariables(5).has('project.weight');
  const attended = features.locals.map((local, level) => {
    const [n, h, w, cIn] = local.shape;
    const positions = h * w;
    const cached = level < cachedLevels;
    const project =
      level === 0 && hasProjection ? (model.variable('project.weight') as tf.Tensor2D) : undefined;
    const l = tf.reshape(local, [n, positions, cIn]) as tf.Tensor3D;
    const scores = cachedScores(model, { local, level, cached, g, project });
    const a = spec.normalisation === 'softmax' ? tf.softmax(scores) : tf.sigmoid(scores);
    const aRow = tf.reshape(a, [n, 1, positions]) as tf.Tensor3D;
    let ga = tf.reshape(cached ? tf.matMul(aRow, l) : product(aRow, l), [n, cIn]) as tf.Tensor2D;
    if (project) ga = product(ga, project);
    if (spec.normalisation === 'sigmoid') ga = tf.div(ga, positions);
    return ga;
  });
  return tf.add(
    product(tf.concat(attended, 1), model.variable('head.weight') as tf.Tensor2D),
    model.variable('head.bias'),
  ) as tf.Tensor2D;
}

/** One level of attendCached: its locals NHWC (unprojected), whether they are a constant, g, P. */
interface CachedLevel {
  local: tf.Tensor4D;
  level: number;
  cached: boolean;
  /** Undefined when inert (pc/softmax). */
  g?: tf.Tensor2D;
  /** P in TF layout [cIn, C], when level 1 is projected. */
  project?: tf.Tensor2D;
}

/**
 * attendCached's scores [n, positions] with P moved onto the vectors: pc <P^T u, l(s)> (+ <u, g>), dp
 * <l(s), P^T g>, additive <u, ReLU((W_l P) l(s) + W_g g)>.
 */
function cachedScores(model: AttentionVgg, p: CachedLevel): tf.Tensor2D {
  const { local, level, cached, project } = p;
  const [n, h, w, cIn] = local.shape;
  const positions = h * w;
  const l2 = tf.reshape(local, [n * positions, cIn]) as tf.Tensor2D;
  const times = (m: tf.Tensor2D) => (cached ? constantTimes(l2, m) : product(l2, m));
  const compatibility = model.spec.compatibility;
  if (compatibility === 'pc') {
    const u = model.variable(`u.${level}.weight`) as tf.Tensor2D; // [C, 1]
    const uIn = project ? product(project, u) : u; // P^T u in PyTorch terms: [cIn, 1]
    const lu = tf.reshape(cached ? constantTimesColumn(l2, uIn) : product(l2, uIn), [
      n,
      positions,
    ]) as tf.Tensor2D;
    return p.g ? (tf.add(lu, product(p.g, u)) as tf.Tensor2D) : lu;
  }
  const g = p.g as tf.Tensor2D;
  if (compatibility === 'additive') {
    const wl = model.variable(`wl.${level}.weight`) as tf.Tensor2D; // [C, H]
    const wg = model.variable(`wg.${level}.weight`) as tf.Tensor2D;
    const u = model.variable(`u.${level}.weight`) as tf.Tensor2D;
    const localHidden = times(project ? product(project, wl) : wl); // (W_l P) l(s): [n * positions, H]
    return additiveScores({ localHidden, g, wg, u }, n, positions, product);
  }
  const gIn = project ? product(g, tf.transpose(project)) : g; // [n, cIn]
  const gColumn = tf.reshape(gIn, [n, cIn, 1]) as tf.Tensor3D;
  const l = tf.reshape(local, [n, positions, cIn]) as tf.Tensor3D;
  return tf.reshape(cached ? constantTimesColumns(l, gColumn) : product(l, gColumn), [
    n,
    positions,
  ]) as tf.Tensor2D;
}

/**
 * The tensors trained on cached features after `frozenBlocks` frozen blocks, by parameter name: the heads
 * (g left out when it is inert), and block 5's conv and BatchNorm weights when only blocks 1..4 are frozen.
 */
export function headParameters(
  model: AttentionVgg,
  frozenBlocks: CachedFrozenBlocks = 5,
): Map<string, tf.Variable> {
  const params = model.trainableVariables(frozenBlocks);
  if (globalFeatureIsInert(model.spec)) {
    params.delete('g.weight');
    params.delete('g.bias');
  }
  return params;
}

/** A batch's cached tensors: l1, l2 (and l3, pool5 with 5 frozen blocks). */
export interface CachedTensors {
  locals: tf.Tensor4D[];
  pool5?: tf.Tensor2D;
}

/** The batch's features as float32 tensors (caller disposes, or call inside tf.tidy). */
export function featureTensors(batch: Pick<FeatureBatch, 'locals' | 'pool5'>): CachedTensors {
  const { locals, pool5 } = float32Features(batch);
  const t4 = (a: NamedArray) => tf.tensor4d(a.data, a.shape as [number, number, number, number], 'float32');
  return {
    locals: locals.map(t4),
    ...(pool5 ? { pool5: tf.tensor2d(pool5.data, pool5.shape as [number, number], 'float32') } : {}),
  };
}

/**
 * What AttentionVgg.backbone() would give, from a batch's cached tensors. With 5 frozen blocks they are
 * all of it. With 4, block 5 runs here on pool4 = max-pool of the cached l2 (conv 10 after ReLU, before
 * pooling: what block 5 reads in the full model) and gives l3 and pool5; in training its BatchNorm uses
 * batch statistics and records them for the running averages (model.commitBatchStats() or
 * discardBatchStats() afterwards), otherwise running statistics.
 */
export function completeFeatures(
  model: AttentionVgg,
  cached: CachedTensors,
  frozenBlocks: CachedFrozenBlocks,
  training: boolean,
): BackboneFeatures {
  const [l1, l2, l3] = cached.locals;
  if (frozenBlocks === 5) {
    if (!l3 || !cached.pool5) throw new Error('A cache of 5 frozen blocks holds l1, l2, l3 and pool5.');
    return { locals: [l1, l2, l3], pool5: cached.pool5 };
  }
  const pool4 = tf.maxPool(l2, 2, 2, 'valid');
  const block5 = model.blocksFrom(5, pool4, { training, frozenBlocks });
  return { locals: [l1, l2, block5.taps[0]], pool5: block5.pool5 };
}

/** The logits of a batch of cached features (see completeFeatures and attendCached). */
function cachedLogits(model: AttentionVgg, batch: FeatureBatch, cached: CachedTensors, training: boolean) {
  return attendCached(
    model,
    completeFeatures(model, cached, batch.frozenBlocks, training),
    cached.locals.length,
  );
}

/**
 * Loss and gradients of the tensors trained on cached features (headParameters, by parameter name),
 * without applying them. The caller disposes the gradients. With 4 frozen blocks the forward leaves block
 * 5's batch statistics pending on the model: trainHeadStep commits them; other callers call
 * model.discardBatchStats() (or commitBatchStats()).
 */
export function headGradients(
  model: AttentionVgg,
  batch: FeatureBatch,
  labelSmoothing = 0,
): { loss: number; correct: number; grads: Map<string, tf.Tensor> } {
  const params = headParameters(model, batch.frozenBlocks);
  const names = [...params.keys()];
  const list = [...params.values()];
  const byVariable = new Map(list.map((v, i) => [v.name, names[i]]));
  const cached = featureTensors(batch);
  const labels = tf.tensor1d(batch.labels, 'int32');
  let correct = 0;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const logits = cachedLogits(model, batch, cached, true);
      correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')).dataSync()[0]);
      return crossEntropy(logits, labels, labelSmoothing);
    }, list);
    const loss = value.dataSync()[0];
    value.dispose();
    const named = new Map<string, tf.Tensor>();
    for (const [varName, g] of Object.entries(grads)) named.set(byVariable.get(varName) as string, g);
    return { loss, correct, grads: named };
  } catch (error) {
    model.discardBatchStats();
    throw error;
  } finally {
    tf.dispose([...cached.locals, ...(cached.pool5 ? [cached.pool5] : []), labels]);
  }
}

/**
 * One training step on a batch of cached features (the heads, and block 5 with 4 frozen blocks, whose
 * BatchNorm running averages are updated as trainStep does): what the training loop calls per step on
 * the cached path. A non-finite loss leaves the weights and statistics untouched. No tensors leak.
 */
export function trainHeadStep(
  model: AttentionVgg,
  optimizer: Optimizer,
  batch: FeatureBatch,
  options: HeadStepOptions,
): TrainStepResult {
  const { loss, correct, grads } = headGradients(model, batch, options.labelSmoothing ?? 0);
  try {
    if (Number.isFinite(loss)) {
      optimizer.apply(headParameters(model, batch.frozenBlocks), grads, options.hyper);
      model.commitBatchStats();
    } else model.discardBatchStats();
  } finally {
    tf.dispose([...grads.values()]);
  }
  return { loss, correct };
}

export interface HeadEvaluation {
  loss: number;
  accuracy: number;
  count: number;
}

/** Mean loss and accuracy over every image of a cache (view 0), in inference mode (running statistics). */
export async function evaluateHead(
  model: AttentionVgg,
  cache: FeatureSource,
  batchSize = 64,
): Promise<HeadEvaluation> {
  let loss = 0;
  let correct = 0;
  for await (const batch of viewZeroBatches(cache, batchSize)) {
    tf.tidy(() => {
      const labels = tf.tensor1d(batch.labels, 'int32');
      const logits = cachedLogits(model, batch, featureTensors(batch), false);
      loss += crossEntropy(logits, labels).dataSync()[0] * batch.size;
      correct += tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')).dataSync()[0];
    });
  }
  return {
    loss: loss / Math.max(1, cache.count),
    accuracy: correct / Math.max(1, cache.count),
    count: cache.count,
  };
}

export interface HeadEpoch {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validation?: HeadEvaluation;
  /** Training time of this epoch (validation excluded), ms. */
  trainMs: number;
}

export interface TrainHeadsOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Called after each epoch; return false to stop. */
  onEpoch?: (e: HeadEpoch) => boolean | void;
}

/**
 * The whole head-training loop of the transfer recipe (Adam, lr 1e-3, batch 32, 5 epochs by default) on
 * cached features, validating after each epoch. For callers that do not run their own loop (the
 * benchmark, a "quick" run); the training loop may instead call trainHeadStep per step.
 */
export async function trainHeads(
  model: AttentionVgg,
  train: FeatureSource,
  validation: FeatureSource | undefined,
  options: TrainHeadsOptions = {},
): Promise<HeadEpoch[]> {
  const epochs = options.epochs ?? HEAD_RECIPE.epochs;
  const batchSize = options.batchSize ?? HEAD_RECIPE.batchSize;
  const lr = options.lr ?? HEAD_RECIPE.lr;
  const optimizer = createHeadOptimizer();
  const out: HeadEpoch[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const started = performance.now();
      let loss = 0;
      let correct = 0;
      let seen = 0;
      for await (const batch of train.epoch({ epoch, batchSize, seed: options.seed ?? 0 })) {
        const r = trainHeadStep(model, optimizer, batch, { hyper: { lr } });
        loss += r.loss * batch.size;
        correct += r.correct;
        seen += batch.size;
      }
      const trainMs = performance.now() - started;
      const e: HeadEpoch = {
        epoch: epoch + 1,
        trainLoss: loss / Math.max(1, seen),
        trainAccuracy: correct / Math.max(1, seen),
        trainMs,
      };
      if (validation) e.validation = await evaluateHead(model, validation);
      out.push(e);
      if (options.onEpoch?.(e) === false) break;
    }
  } finally {
    optimizer.dispose();
  }
  return out;
}
