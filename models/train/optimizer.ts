// SGD with momentum and Adam over TensorFlow.js variables, written out so that (a) the learning rate and
// momentum can change every step (one-cycle), (b) the state can be saved in a checkpoint and restored,
// and (c) the update matches PyTorch's torch.optim.SGD / Adam exactly (coupled L2 weight decay; AdamW
// decoupled). Imports tfjs-core only.

import * as tf from '@tensorflow/tfjs-core';
import type { NamedArray } from '../core/weights.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw'];

export interface OptimizerConfig {
  name: OptimizerName;
  /** SGD momentum (default 0.9; a schedule that cycles momentum overrides it per step). */
  momentum?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient (sgd, adam) or decoupled decay (adamw). Default 0. */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface StepHyper {
  lr: number;
  momentum?: number;
}

/** Optimiser state keyed `<slot>/<parameter name>`, plus the step counter. */
export interface OptimizerState {
  step: number;
  slots: Map<string, NamedArray>;
}

export class Optimizer {
  readonly config: OptimizerConfig;
  private stepCount = 0;
  private readonly slots = new Map<string, tf.Variable>();

  constructor(config: OptimizerConfig) {
    this.config = config;
  }

  get steps(): number {
    return this.stepCount;
  }

  /** The state variable `kind` of a parameter; `fresh` when it was just created (zeros). */
  private slot(kind: string, name: string, like: tf.Tensor): { v: tf.Variable; fresh: boolean } {
    const key = `${kind}/${name}`;
    const existing = this.slots.get(key);
    if (existing) return { v: existing, fresh: false };
    const v = tf.tidy(() => tf.variable(tf.zerosLike(like), false));
    this.slots.set(key, v);
    return { v, fresh: true };
  }

  /** Applies one update. `grads` and `params` are keyed by parameter name. Disposes nothing it is given. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, hyper: StepHyper): void {
    this.stepCount += 1;
    const c = this.config;
    const wd = c.weightDecay ?? 0;
    for (const [name, p] of params) {
      const g0 = grads.get(name);
      if (!g0) continue;
      tf.tidy(() => {
        let g = g0;
        if (wd > 0 && c.name !== 'adamw') g = tf.add(g, tf.mul(p, wd));
        if (c.name === 'sgd') {
          const momentum = hyper.momentum ?? c.momentum ?? 0.9;
          if (momentum > 0) {
            const buf = this.slot('momentum', name, p);
            // PyTorch: the first step's buffer is the gradient itself, afterwards m * buf + g.
            const next = buf.fresh ? g : tf.add(tf.mul(buf.v, momentum), g);
            buf.v.assign(next);
            g = c.nesterov ? tf.add(g, tf.mul(next, momentum)) : next;
          }
          p.assign(tf.sub(p, tf.mul(g, hyper.lr)));
        } else {
          const b1 = c.beta1 ?? 0.9;
          const b2 = c.beta2 ?? 0.999;
          const eps = c.epsilon ?? 1e-8;
          if (c.name === 'adamw' && wd > 0) p.assign(tf.mul(p, 1 - hyper.lr * wd));
          const m = this.slot('m', name, p).v;
          const v = this.slot('v', name, p).v;
          m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
          v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
          const t = this.stepCount;
          const stepSize = hyper.lr / (1 - b1 ** t);
          const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - b2 ** t)), eps);
          p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
        }
      });
    }
  }

  async getState(): Promise<OptimizerState> {
    const slots = new Map<string, NamedArray>();
    for (const [key, v] of this.slots)
      slots.set(key, { shape: [...v.shape], data: Float32Array.from((await v.data()) as Float32Array) });
    return { step: this.stepCount, slots };
  }

  setState(state: OptimizerState): void {
    this.dispose();
    this.stepCount = state.step;
    for (const [key, a] of state.slots)
      this.slots.set(
        key,
        tf.tidy(() => tf.variable(tf.tensor(a.data, a.shape, 'float32'), false)),
      );
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}
