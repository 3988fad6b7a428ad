// Attention-VGG16_bn (docs/architecture.md) as TensorFlow.js ops over named variables: the training graph.
// Layout NHWC; weights come and go in PyTorch layout through models/core/weights.ts.
// Imports tfjs-core only (the backend is chosen by models/tfjs/backend.ts), nothing from main/.

import * as tf from '@tensorflow/tfjs-core';
import {
  BN_EPSILON,
  BN_MOMENTUM,
  convLayers,
  parameterLayout,
  validateSpec,
  type ModelSpec,
} from '../core/spec.js';
import { checkWeights, type NamedArray, type Weights } from '../core/weights.js';
import { fromTfLayout, toTfLayout } from '../core/layout.js';
import { additiveScores } from './additive-scores.js';

export interface ForwardOptions {
  /** Training mode: BatchNorm normalises with batch statistics and records running-average updates. */
  training: boolean;
  /** Conv blocks 1..k are frozen: their BatchNorm layers use running statistics even in training. */
  frozenBlocks?: number;
}

export interface ForwardResult {
  logits: tf.Tensor2D;
  /** Attention maps [N, S/4, S/4], [N, S/8, S/8], [N, S/16, S/16]; empty when attention is off. */
  maps: tf.Tensor3D[];
}

/** What the frozen part of the network computes: the three attention inputs and flattened pool5. */
export interface BackboneFeatures {
  /** Conv 7, 10 and 13 outputs after ReLU, NHWC (conv 7 not yet projected). */
  locals: [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  /** pool5 flattened in PyTorch's (C, H, W) order, [N, C * (S/32)^2]. */
  pool5: tf.Tensor2D;
}

/** Batch statistics of one BatchNorm layer, collected in training mode for the running averages. */
interface BatchStats {
  name: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  count: number;
}

export class AttentionVgg {
  readonly spec: ModelSpec;
  private readonly vars = new Map<string, tf.Variable>();
  private pendingStats: BatchStats[] = [];

  private constructor(spec: ModelSpec) {
    this.spec = validateSpec(spec);
  }

  /** Builds the graph's variables from weights in PyTorch layout (checked against the spec). */
  static fromWeights(spec: ModelSpec, weights: Weights): AttentionVgg {
    checkWeights(spec, weights);
    const model = new AttentionVgg(spec);
    for (const p of parameterLayout(spec)) {
      const a = toTfLayout(p.name, weights.get(p.name) as NamedArray);
      model.vars.set(
        p.name,
        tf.tidy(() => tf.variable(tf.tensor(a.data, a.shape, 'float32'), p.trainable)),
      );
    }
    return model;
  }

  /** The weights in PyTorch layout (a copy). */
  async toWeights(): Promise<Weights> {
    const out: Weights = new Map();
    for (const [name, v] of this.vars) {
      const data = (await v.data()) as Float32Array;
      out.set(name, fromTfLayout(name, { shape: [...v.shape], data: Float32Array.from(data) }));
    }
    return out;
  }

  /** Overwrites variables from weights in PyTorch layout (for example a checkpoint or an import). */
  assignWeights(weights: Weights, names?: Iterable<string>): void {
    for (const name of names ?? this.vars.keys()) {
      const a = weights.get(name);
      const v = this.vars.get(name);
      if (!a || !v) throw new Error(`No tensor named ${name} to assign`);
      const t = toTfLayout(name, a);
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
    }
  }

  variable(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`No variable named ${name}`);
    return v;
  }

  /** Trainable variables, excluding conv blocks 1..frozenBlocks. */
  trainableVariables(frozenBlocks = 0): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const p of parameterLayout(this.spec))
      if (p.trainable && (p.block === 0 || p.block > frozenBlocks)) out.set(p.name, this.variable(p.name));
    return out;
  }

  /** Runs conv blocks 1..5; returns the attention inputs and pool5. */
  backbone(x: tf.Tensor4D, options: ForwardOptions): BackboneFeatures {
    const { taps, pool5 } = this.blocksFrom(1, x, options);
    return { locals: taps as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D], pool5 };
  }

  /**
   * Runs conv blocks `firstBlock`..5 on `input`, which is the image for block 1 and otherwise what block
   * `firstBlock` reads: the max-pooled output of block firstBlock - 1. Returns the attention inputs
   * computed on the way (those of blocks >= firstBlock, in order) and pool5. The entry point of the
   * cached transfer path, which has the earlier blocks' outputs already (main/services/transfer).
   */
  blocksFrom(
    firstBlock: number,
    input: tf.Tensor4D,
    options: ForwardOptions,
  ): { taps: tf.Tensor4D[]; pool5: tf.Tensor2D } {
    const taps: tf.Tensor4D[] = [];
    let h = input;
    for (const c of convLayers(this.spec)) {
      if (c.block < firstBlock) continue;
      const conv = `features.${c.featuresIndex}`;
      const bn = `features.${c.featuresIndex + 1}`;
      h = tf.conv2d(h, this.variable(`${conv}.weight`) as tf.Tensor4D, 1, 'same');
      h = tf.add(h, this.variable(`${conv}.bias`));
      const useBatchStats = options.training && c.block > (options.frozenBlocks ?? 0);
      h = this.batchNorm(h, bn, useBatchStats);
      h = tf.relu(h);
      if (c.index === 7 || c.index === 10 || c.index === 13) taps.push(h);
      if (c.poolAfter) h = tf.maxPool(h, 2, 2, 'valid');
    }
    const pool5 = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [h.shape[0], -1]) as tf.Tensor2D;
    return { taps, pool5 };
  }

  /** The part after the backbone: g, attention and the classifier head. */
  attend(features: BackboneFeatures): ForwardResult {
    const g = tf.add(
      tf.matMul(features.pool5, this.variable('g.weight')),
      this.variable('g.bias'),
    ) as tf.Tensor2D;
    if (!this.spec.attention) {
      const logits = tf.add(tf.matMul(tf.relu(g), this.variable('head.weight')), this.variable('head.bias'));
      return { logits: logits as tf.Tensor2D, maps: [] };
    }
    const attended: tf.Tensor2D[] = [];
    const maps: tf.Tensor3D[] = [];
    features.locals.forEach((local, level) => {
      const [n, hh, ww, cIn] = local.shape;
      const positions = hh * ww;
      let l = tf.reshape(local, [n * positions, cIn]) as tf.Tensor2D;
      if (level === 0 && this.vars.has('project.weight')) l = tf.matMul(l, this.variable('project.weight'));
      const c = l.shape[1];
      const scores = this.scores(level, l, g, n, positions);
      const a = this.spec.normalisation === 'softmax' ? tf.softmax(scores) : tf.sigmoid(scores);
      let ga = tf.reshape(tf.matMul(tf.reshape(a, [n, 1, positions]), tf.reshape(l, [n, positions, c])), [
        n,
        c,
      ]);
      if (this.spec.normalisation === 'sigmoid') ga = tf.div(ga, positions);
      attended.push(ga as tf.Tensor2D);
      maps.push(tf.reshape(a, [n, hh, ww]) as tf.Tensor3D);
    });
    const logits = tf.add(
      tf.matMul(tf.concat(attended, 1), this.variable('head.weight')),
      this.variable('head.bias'),
    );
    return { logits: logits as tf.Tensor2D, maps };
  }

  /** One level's compatibility scores [n, positions] from its (projected) locals l [n * positions, C]. */
  private scores(level: number, l: tf.Tensor2D, g: tf.Tensor2D, n: number, positions: number): tf.Tensor2D {
    const c = l.shape[1];
    if (this.spec.compatibility === 'pc') {
      // <u, l + g> = <u, l> + <u, g>: the same number without materialising l + g.
      const u = this.variable(`u.${level}.weight`) as tf.Tensor2D;
      const lu = tf.reshape(tf.matMul(l, u), [n, positions]);
      return tf.add(lu, tf.matMul(g, u)) as tf.Tensor2D;
    }
    if (this.spec.compatibility === 'additive')
      return additiveScores(
        {
          localHidden: tf.matMul(l, this.variable(`wl.${level}.weight`) as tf.Tensor2D),
          g,
          wg: this.variable(`wg.${level}.weight`) as tf.Tensor2D,
          u: this.variable(`u.${level}.weight`) as tf.Tensor2D,
        },
        n,
        positions,
      );
    const l3 = tf.reshape(l, [n, positions, c]);
    return tf.reshape(tf.matMul(l3, tf.reshape(g, [n, c, 1])), [n, positions]) as tf.Tensor2D;
  }

  /** Input: NHWC float32 [N, S, S, 3], already normalised. */
  forward(x: tf.Tensor4D, options: ForwardOptions = { training: false }): ForwardResult {
    const s = this.spec.inputSize;
    if (x.shape[1] !== s || x.shape[2] !== s || x.shape[3] !== 3)
      throw new Error(`Expected input of shape [N, ${s}, ${s}, 3], got [${x.shape}]`);
    return this.attend(this.backbone(x, options));
  }

  private batchNorm(h: tf.Tensor4D, bn: string, useBatchStats: boolean): tf.Tensor4D {
    const gamma = this.variable(`${bn}.weight`);
    const beta = this.variable(`${bn}.bias`);
    if (!useBatchStats) {
      const mean = this.variable(`${bn}.running_mean`);
      const variance = this.variable(`${bn}.running_var`);
      return tf.batchNorm(
        h,
        mean as tf.Tensor1D,
        variance as tf.Tensor1D,
        beta as tf.Tensor1D,
        gamma as tf.Tensor1D,
        BN_EPSILON,
      );
    }
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    const count = h.shape[0] * h.shape[1] * h.shape[2];
    this.pendingStats.push({
      name: bn,
      mean: tf.keep(mean) as tf.Tensor1D,
      variance: tf.keep(variance) as tf.Tensor1D,
      count,
    });
    const inv = tf.mul(tf.rsqrt(tf.add(variance, BN_EPSILON)), gamma);
    return tf.add(tf.mul(tf.sub(h, mean), inv), beta) as tf.Tensor4D;
  }

  /**
   * Folds the batch statistics of the last training forward into the running averages, PyTorch's
   * way: running = (1 - m) * running + m * batch, with the unbiased batch variance (n / (n - 1)).
   */
  commitBatchStats(): void {
    const stats = this.pendingStats;
    this.pendingStats = [];
    for (const s of stats) {
      tf.tidy(() => {
        const rm = this.variable(`${s.name}.running_mean`);
        const rv = this.variable(`${s.name}.running_var`);
        const unbiased = tf.mul(s.variance, s.count / Math.max(1, s.count - 1));
        rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
        rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      });
      s.mean.dispose();
      s.variance.dispose();
    }
  }

  /** Drops batch statistics of a forward whose update is not wanted (e.g. a failed step). */
  discardBatchStats(): void {
    for (const s of this.pendingStats) {
      s.mean.dispose();
      s.variance.dispose();
    }
    this.pendingStats = [];
  }

  dispose(): void {
    this.discardBatchStats();
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
