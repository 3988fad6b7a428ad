// Trains the part of attention-VGG16_bn after a frozen backbone (attention estimators u, the l1
// projection, g and the classifier head) on cached backbone features (feature-cache.ts) in TensorFlow.js,
// through attendCached (AttentionVgg.attend() with the l1 projection reassociated). One step here equals one step of the full model with freezeBlocks = 5
// on the same images (same loss, same gradients, same update; tested), without running the 13 convs.
// The recipe's defaults: Adam, lr 1e-3, batch 32 (BENCHMARKS.md, the transfer recipe).
// Must not import electron or anything from main/electron, main/server, main/cli or renderer.

import * as tf from '@tensorflow/tfjs-core';
import '../../../models/tfjs/gradients.js';
import { createRandom } from '../../../models/core/random.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import { initWeights, type Weights } from '../../../models/core/weights.js';
import { Optimizer, type StepHyper } from '../../../models/train/optimizer.js';
import { crossEntropy, type TrainStepResult } from '../../../models/train/step.js';
import { AttentionVgg, type BackboneFeatures } from '../../../models/tfjs/model.js';
import type { FeatureBatch, FeatureCache } from './feature-cache.js';

/** The whole backbone is frozen on this path. */
export const HEAD_FROZEN_BLOCKS = 5;

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

// Matrix products whose gradients avoid the wasm backend's BatchMatMul with a transposed first operand,
// which runs about 50x slower than an explicit transpose followed by a plain product (measured here:
// pool5^T [8192 x 32] x dg [32 x 512]: 377 ms against 7.5 ms). Constant operands (the cached features)
// get no gradient. Tensors used in a gradient are saved through `save`, as tfjs requires.

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
function constantTimes(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
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
function constantTimesColumn(x: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D {
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
function constantTimesColumns(l: tf.Tensor3D, v: tf.Tensor3D): tf.Tensor3D {
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

/** a b for two trainable 2-D operands, both gradients through explicit transposes. */
function product(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const f = custom(([av, bv], save) => {
    save([av, bv]);
    return {
      value: tf.matMul(av as tf.Tensor2D, bv as tf.Tensor2D),
      gradFunc: (dy, saved) => [
        tf.matMul(dy as tf.Tensor2D, tf.transpose(saved[1] as tf.Tensor2D)),
        tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy as tf.Tensor2D),
      ],
    };
  });
  return f(a, b) as tf.Tensor2D;
}

/**
 * True when g cannot affect the output: with pc compatibility and softmax attention <u, g> is the same at
 * every position and cancels in the softmax (models/README.md), and the head reads only the attended
 * vectors. The head trainer then neither computes g nor updates g.weight / g.bias.
 */
export function globalFeatureIsInert(spec: ModelSpec): boolean {
  return spec.attention && spec.compatibility === 'pc' && spec.normalisation === 'softmax';
}

/**
 * AttentionVgg.attend() computed in a cheaper order, for cached features. The l1 projection P is linear,
 * so instead of projecting every position of l1 (S/4 x S/4 positions x 256 x 512 multiply-adds: 0.8
 * GFLOP per image at S=224, the bulk of the head's cost) it is moved onto the vectors:
 *   pc: <u, P l(s)> = <P^T u, l(s)>        dp: <P l(s), g> = <l(s), P^T g>
 *   g_a = sum_s a(s) P l(s) = P (sum_s a(s) l(s)).
 * In the pc/softmax variant the constant <u, g> is left out (it cancels; globalFeatureIsInert). Same
 * logits, same gradients up to float rounding (tested against the full model). Layouts are the model's
 * TF ones (project [in, out], u [C, 1], g [D, C], head [3C, classes]).
 */
export function attendCached(model: AttentionVgg, features: BackboneFeatures): tf.Tensor2D {
  const spec = model.spec;
  if (!spec.attention) return model.attend(features).logits;
  const inert = globalFeatureIsInert(spec);
  const g = inert
    ? undefined
    : (tf.add(
        constantTimes(features.pool5, model.variable('g.weight') as tf.Tensor2D),
        model.variable('g.bias'),
      ) as tf.Tensor2D);
  const hasProjection = model.trainableVariables(HEAD_FROZEN_BLOCKS).has('project.weight');
  const attended = features.locals.map((local, level) => {
    const [n, h, w, cIn] = local.shape;
    const positions = h * w;
    const project =
      level === 0 && hasProjection ? (model.variable('project.weight') as tf.Tensor2D) : undefined;
    const l = tf.reshape(local, [n, positions, cIn]) as tf.Tensor3D;
    let scores: tf.Tensor2D;
    if (spec.compatibility === 'pc') {
      const u = model.variable(`u.${level}.weight`) as tf.Tensor2D; // [C, 1]
      const uIn = project ? product(project, u) : u; // P^T u in PyTorch terms: [cIn, 1]
      const l2 = tf.reshape(local, [n * positions, cIn]) as tf.Tensor2D;
      const lu = tf.reshape(constantTimesColumn(l2, uIn), [n, positions]) as tf.Tensor2D;
      scores = g ? (tf.add(lu, product(g, u)) as tf.Tensor2D) : lu;
    } else {
      const gv = g as tf.Tensor2D;
      const gIn = project ? product(gv, tf.transpose(project)) : gv; // [n, cIn]
      scores = tf.reshape(constantTimesColumns(l, tf.reshape(gIn, [n, cIn, 1])), [
        n,
        positions,
      ]) as tf.Tensor2D;
    }
    const a = spec.normalisation === 'softmax' ? tf.softmax(scores) : tf.sigmoid(scores);
    let ga = tf.reshape(tf.matMul(tf.reshape(a, [n, 1, positions]), l), [n, cIn]) as tf.Tensor2D;
    if (project) ga = product(ga, project);
    if (spec.normalisation === 'sigmoid') ga = tf.div(ga, positions);
    return ga;
  });
  return tf.add(
    product(tf.concat(attended, 1), model.variable('head.weight') as tf.Tensor2D),
    model.variable('head.bias'),
  ) as tf.Tensor2D;
}

/** The head tensors trained on cached features, by parameter name (g left out when it is inert). */
export function headParameters(model: AttentionVgg): Map<string, tf.Variable> {
  const params = model.trainableVariables(HEAD_FROZEN_BLOCKS);
  if (globalFeatureIsInert(model.spec)) {
    params.delete('g.weight');
    params.delete('g.bias');
  }
  return params;
}

/** The batch's features as tensors (caller disposes, or call inside tf.tidy). */
export function featureTensors(batch: FeatureBatch): BackboneFeatures {
  const t4 = (a: FeatureBatch['locals'][number]) =>
    tf.tensor4d(a.data, a.shape as [number, number, number, number], 'float32');
  return {
    locals: [t4(batch.locals[0]), t4(batch.locals[1]), t4(batch.locals[2])],
    pool5: tf.tensor2d(batch.pool5.data, batch.pool5.shape as [number, number], 'float32'),
  };
}

/**
 * Loss and gradients of the trainable head tensors (by parameter name) on cached features, without
 * applying them. The caller disposes the gradients.
 */
export function headGradients(
  model: AttentionVgg,
  batch: FeatureBatch,
  labelSmoothing = 0,
): { loss: number; correct: number; grads: Map<string, tf.Tensor> } {
  const params = headParameters(model);
  const names = [...params.keys()];
  const list = [...params.values()];
  const byVariable = new Map(list.map((v, i) => [v.name, names[i]]));
  const features = featureTensors(batch);
  const labels = tf.tensor1d(batch.labels, 'int32');
  let correct = 0;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const logits = attendCached(model, features);
      correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')).dataSync()[0]);
      return crossEntropy(logits, labels, labelSmoothing);
    }, list);
    const loss = value.dataSync()[0];
    value.dispose();
    const named = new Map<string, tf.Tensor>();
    for (const [varName, g] of Object.entries(grads)) named.set(byVariable.get(varName) as string, g);
    return { loss, correct, grads: named };
  } finally {
    tf.dispose([...features.locals, features.pool5, labels]);
  }
}

/**
 * One training step of the heads on a batch of cached features: what the training loop calls per step
 * when the backbone is frozen and cached. A non-finite loss leaves the weights untouched. No tensors leak.
 */
export function trainHeadStep(
  model: AttentionVgg,
  optimizer: Optimizer,
  batch: FeatureBatch,
  options: HeadStepOptions,
): TrainStepResult {
  const { loss, correct, grads } = headGradients(model, batch, options.labelSmoothing ?? 0);
  try {
    if (Number.isFinite(loss)) optimizer.apply(headParameters(model), grads, options.hyper);
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

/** Mean loss and accuracy over every image of a cache (view 0), in inference mode. */
export async function evaluateHead(
  model: AttentionVgg,
  cache: FeatureCache,
  batchSize = 64,
): Promise<HeadEvaluation> {
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < cache.count; start += batchSize) {
    const entries = Array.from({ length: Math.min(batchSize, cache.count - start) }, (_, k) => ({
      image: start + k,
      view: 0,
    }));
    const batch = await cache.batch(entries);
    tf.tidy(() => {
      const features = featureTensors(batch);
      const labels = tf.tensor1d(batch.labels, 'int32');
      const logits = attendCached(model, features);
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
  train: FeatureCache,
  validation: FeatureCache | undefined,
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
