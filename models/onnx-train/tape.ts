// A small reverse-mode differentiation over the generated ONNX graph. Each differentiable layer, while it
// writes its forward nodes, records a closure that writes its backward nodes; `backward` replays them in
// reverse order. A tensor read by several layers gets the Sum of their contributions. Only tensors that
// depend on a trainable parameter get gradients, so no node is written for frozen layers or the input.
// The pass starts from whatever gradients were added before `backward` (the loss adds the logits'), and
// any tracked tensor's gradient can be read after it: Grad-CAM (grad-cam-graph.ts) tracks conv 13's
// output instead of the weights and seeds the logits with a one-hot.
// Pure: imports the graph writer only.

import type { GraphWriter } from './graph-writer.js';

export class Tape {
  readonly w: GraphWriter;
  private readonly entries: (() => void)[] = [];
  private readonly contributions = new Map<string, string[]>();
  private readonly summed = new Map<string, string>();
  private readonly differentiable = new Set<string>();
  private replayed = false;

  constructor(w: GraphWriter) {
    this.w = w;
  }

  /** Marks a tensor (a trainable parameter, or a layer output that depends on one) as differentiable. */
  track(tensor: string): string {
    this.differentiable.add(tensor);
    return tensor;
  }

  /** True when `tensor` depends on a trainable parameter (its gradient is wanted). */
  needsGrad(tensor: string): boolean {
    return this.differentiable.has(tensor);
  }

  /** True when any of the tensors depends on a trainable parameter. */
  anyNeedsGrad(tensors: readonly string[]): boolean {
    return tensors.some((t) => this.differentiable.has(t));
  }

  /** Records the backward step of a layer; it runs after every layer recorded later has run its own. */
  record(backward: () => void): void {
    if (this.replayed) throw new Error('Tape.record after backward()');
    this.entries.push(backward);
  }

  /** Adds a contribution to the gradient of `tensor` (ignored when the tensor needs no gradient). */
  addGrad(tensor: string, gradient: string): void {
    if (!this.differentiable.has(tensor)) return;
    if (this.summed.has(tensor))
      throw new Error(`Gradient of ${tensor} was read before all its contributions were added`);
    const list = this.contributions.get(tensor) ?? [];
    list.push(gradient);
    this.contributions.set(tensor, list);
  }

  /**
   * The gradient of `tensor` (the Sum of its contributions), or undefined when nothing downstream
   * depends on it. Read it only once every consumer of the tensor has run its backward step.
   */
  grad(tensor: string): string | undefined {
    const done = this.summed.get(tensor);
    if (done !== undefined) return done;
    const list = this.contributions.get(tensor);
    if (list === undefined || list.length === 0) return undefined;
    // A chain of Adds rather than one Sum: the WebGPU provider has no Sum kernel.
    let total = list[0];
    for (let i = 1; i < list.length; i++)
      total = this.w.op(
        'Add',
        [total, list[i]],
        i === list.length - 1 ? `grad_${tensor}` : `grad_${tensor}_part`,
      );
    this.summed.set(tensor, total);
    return total;
  }

  /** Writes the backward pass: every recorded step, last first. */
  backward(): void {
    if (this.replayed) throw new Error('Tape.backward() called twice');
    this.replayed = true;
    for (let i = this.entries.length - 1; i >= 0; i--) this.entries[i]();
  }
}
