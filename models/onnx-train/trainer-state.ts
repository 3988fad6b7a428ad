// The state an ONNX trainer carries between steps, as runtime tensors: the trainable parameters, the
// running statistics of trainable blocks and the optimiser slots (the graph's state inputs), plus the
// tensors the graph holds fixed (frozen blocks, an inert g on features) and the slots of parameters it
// does not update. Converts to and from the engines' common forms: weights in PyTorch layout
// (AttentionVgg.toWeights()) and models/train/optimizer.ts's OptimizerState (slots in TensorFlow.js
// layout), so a checkpoint of either engine resumes on the other. Imports models/ and onnxruntime
// (through train-session.ts) only.

import { fromTfLayout, toTfLayout } from '../core/layout.js';
import { parameterLayout, type ModelSpec } from '../core/spec.js';
import { checkWeights, cloneWeights, type NamedArray, type Weights } from '../core/weights.js';
import type { OptimizerState } from '../train/optimizer.js';
import { OnnxTrainError } from './errors.js';
import { slotKey } from './slots.js';
import type { SlotKind, StateTensor, TrainingGraph } from './train-graph.js';
import {
  float32Tensor,
  openDeviceReadback,
  type DeviceReadback,
  type RuntimeTensor,
} from './train-session.js';
import type { Device } from '../onnx/device.js';

function isSlot(t: StateTensor): boolean {
  return t.kind === 'momentum' || t.kind === 'm' || t.kind === 'v';
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function fresh(t: StateTensor): RuntimeTensor {
  return float32Tensor(new Float32Array(size(t.shape)), t.shape);
}

export class TrainerState {
  /** The graph's state inputs by input name: what the next step reads. */
  private readonly current = new Map<string, RuntimeTensor>();
  /** With reuse, the tensors the next step writes into, by output name. */
  private readonly spare = new Map<string, RuntimeTensor>();
  /** The tensors the graph holds fixed, served from this copy. */
  private readonly fixed: Weights;
  private readonly slotTensors: StateTensor[];
  private readonly ownSlotKeys: Set<string>;
  /**
   * Slot keys that exist in TensorFlow.js's sense: Adam's after any step, SGD's momentum buffers after a
   * step with momentum > 0 (with momentum 0 the TensorFlow.js optimiser neither creates nor updates them).
   */
  private readonly withSlot = new Set<string>();
  /** Slots of parameters this trainer does not update (frozen, or another optimiser's), kept as given. */
  private carried = new Map<string, NamedArray>();
  private readback: DeviceReadback | null = null;
  /** True while some state tensor lives on the device (after a step with keepStateOnDevice). */
  private onDevice = false;
  steps = 0;

  constructor(
    private readonly spec: ModelSpec,
    private readonly graph: TrainingGraph,
    weights: Weights,
    /** The names of the parameters the graph holds fixed (train-graph.ts constantParameters). */
    fixedNames: ReadonlySet<string>,
    private readonly options: { device: Device; reuse: boolean; frozenBlocks: number },
  ) {
    this.fixed = new Map([...cloneWeights(weights)].filter(([name]) => fixedNames.has(name)));
    for (const t of graph.state) {
      const tensor = fresh(t);
      if (!isSlot(t)) (tensor.data as Float32Array).set((weights.get(t.param) as NamedArray).data);
      this.current.set(t.input, tensor);
      if (options.reuse) this.spare.set(t.output, fresh(t));
    }
    this.slotTensors = graph.state.filter(isSlot);
    this.ownSlotKeys = new Set(this.slotTensors.map((t) => this.keyOf(t)));
  }

  private keyOf(t: StateTensor): string {
    return slotKey(t.kind as SlotKind, t.param);
  }

  private onHost(what: string): void {
    if (this.onDevice)
      throw new OnnxTrainError(
        'invalid',
        `The training state is on the ${this.options.device} device: await syncFromDevice() before ${what}.`,
      );
  }

  /** The state inputs of the next run, by input name. */
  inputs(): ReadonlyMap<string, RuntimeTensor> {
    return this.current;
  }

  /** Where the run writes each state output: a spare tensor (reuse) or null (fresh from the runtime). */
  outputs(): Record<string, RuntimeTensor | null> {
    const out: Record<string, RuntimeTensor | null> = {};
    for (const t of this.graph.state)
      out[t.output] = this.options.reuse ? (this.spare.get(t.output) as RuntimeTensor) : null;
    return out;
  }

  /** Drops a run's state outputs unused (a diverged step). */
  discard(results: Record<string, RuntimeTensor>): void {
    if (!this.options.reuse) for (const t of this.graph.state) results[t.output].dispose();
  }

  /**
   * Takes a run's state outputs as the state (the previous tensors become the spare set), counts the
   * step. With momentum 0 a momentum slot stays as it was, as in TensorFlow.js's optimiser.
   */
  advance(results: Record<string, RuntimeTensor>, momentum: number, resident: boolean): void {
    for (const t of this.graph.state) {
      if (t.kind === 'momentum' && momentum === 0) {
        if (!this.options.reuse) results[t.output].dispose();
        continue;
      }
      if (isSlot(t)) this.withSlot.add(this.keyOf(t));
      const previous = this.current.get(t.input) as RuntimeTensor;
      this.current.set(t.input, results[t.output]);
      if (this.options.reuse) this.spare.set(t.output, previous);
      else previous.dispose();
    }
    this.steps += 1;
    if (resident) this.onDevice = true;
  }

  /** Copies a device-resident state back into host tensors (a no-op when it is on the host). */
  async syncFromDevice(): Promise<void> {
    if (!this.onDevice) return;
    this.readback ??= await openDeviceReadback(
      this.options.device,
      this.graph.state.map((t) => t.shape),
    );
    const tensors = this.graph.state.map((t) => this.current.get(t.input) as RuntimeTensor);
    const values = await this.readback.read(tensors);
    this.graph.state.forEach((t, i) => {
      this.current.set(t.input, float32Tensor(values[i].slice(), t.shape));
      tensors[i].dispose();
    });
    this.onDevice = false;
  }

  getWeights(): Weights {
    this.onHost('getWeights()');
    const out: Weights = new Map();
    for (const p of parameterLayout(this.spec)) {
      const fixed = this.fixed.get(p.name);
      if (fixed) {
        out.set(p.name, { shape: [...fixed.shape], data: fixed.data.slice() });
        continue;
      }
      const t = this.current.get(p.name) as RuntimeTensor;
      out.set(p.name, { shape: [...p.shape], data: (t.data as Float32Array).slice() });
    }
    return out;
  }

  setWeights(next: Weights, graphSource: 'images' | 'features'): void {
    this.onHost('setWeights()');
    try {
      checkWeights(this.spec, next);
    } catch (e) {
      throw new OnnxTrainError('invalid', e instanceof Error ? e.message : String(e), { cause: e });
    }
    for (const [name, fixed] of this.fixed) {
      const given = (next.get(name) as NamedArray).data;
      if (given.some((v, i) => !Object.is(v, fixed.data[i])))
        throw new OnnxTrainError(
          'invalid',
          `${name} ${name.startsWith('g.') && graphSource === 'features' ? 'is inert (pc/softmax) and kept fixed on cached features' : `belongs to a frozen block (1-${this.options.frozenBlocks})`}, a constant of this trainer's graph; create a new trainer to change it.`,
        );
    }
    for (const t of this.graph.state)
      if (!isSlot(t))
        ((this.current.get(t.input) as RuntimeTensor).data as Float32Array).set(
          (next.get(t.param) as NamedArray).data,
        );
  }

  getOptimizerState(): OptimizerState {
    this.onHost('getOptimizerState()');
    const slots = new Map<string, NamedArray>();
    for (const [key, a] of this.carried) slots.set(key, { shape: [...a.shape], data: a.data.slice() });
    for (const t of this.slotTensors) {
      if (!this.withSlot.has(this.keyOf(t))) continue;
      const data = (this.current.get(t.input) as RuntimeTensor).data as Float32Array;
      slots.set(this.keyOf(t), toTfLayout(t.param, { shape: [...t.shape], data }));
    }
    return { step: this.steps, slots };
  }

  setOptimizerState(state: OptimizerState): void {
    this.onHost('setOptimizerState()');
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new OnnxTrainError('invalid', `Optimizer state step must be a whole number, got ${state.step}.`);
    const restored = new Map<string, Float32Array>();
    for (const t of this.slotTensors) {
      const slot = state.slots.get(this.keyOf(t));
      if (!slot) continue;
      const a = fromTfLayout(t.param, slot);
      if (a.shape.join('x') !== t.shape.join('x') || a.data.length !== size(t.shape))
        throw new OnnxTrainError(
          'invalid',
          `Optimizer slot ${this.keyOf(t)}: expected shape [${toTfLayout(t.param, { shape: t.shape, data: new Float32Array(size(t.shape)) }).shape}] (TensorFlow.js layout), found [${slot.shape}].`,
        );
      restored.set(this.keyOf(t), a.data);
    }
    // Checked everything first: now replace the state.
    this.withSlot.clear();
    for (const t of this.slotTensors) {
      const data = this.current.get(t.input)?.data as Float32Array;
      const a = restored.get(this.keyOf(t));
      if (a) {
        data.set(a);
        this.withSlot.add(this.keyOf(t));
      } else data.fill(0); // no slot yet: zeros are what the TensorFlow.js optimiser starts a slot from
    }
    this.carried = new Map(
      [...state.slots]
        .filter(([key]) => !this.ownSlotKeys.has(key))
        .map(([key, a]) => [key, { shape: [...a.shape], data: a.data.slice() }]),
    );
    this.steps = state.step;
  }

  async dispose(): Promise<void> {
    await this.readback?.release();
    for (const t of [...this.current.values(), ...this.spare.values()]) t.dispose();
    this.current.clear();
    this.spare.clear();
  }
}
