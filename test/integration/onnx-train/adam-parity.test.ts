// Adam and AdamW in the ONNX training graph against models/train/optimizer.ts on TensorFlow.js (`cpu`
// backend), in the style of training-parity.test.ts:
// (a) one step from fresh slots: loss, correct, the first moments m (= (1 - b1) g, so a gradient check at
//     the tolerance of the SGD tests) and the second moments v, and the weights;
// (b) three steps with weight decay (Adam: coupled L2; AdamW: decoupled) and a changing lr, each started
//     from TensorFlow.js's weights and optimizer state before it (which also interchanges m, v and the
//     step count, hence the bias corrections, between the engines).
// Why the weights need a per-element tolerance here: Adam divides by sqrt(v) + eps, so an element whose
// gradient is near the float noise of the engines (|g| ~ eps) turns a 1e-5 difference in g into a
// difference of the order of lr in the step. Each element may therefore differ by 1e-4 of the tensor's
// movement (the SGD tests' tolerance) plus the change of its Adam step when its gradient moves by 1e-4
// of the tensor's largest gradient (that same gradient tolerance), computed in float64 from TensorFlow.js's
// slots. Tensors whose true gradient is 0 (conv biases before BatchNorm; g under pc/softmax) are only
// bounded by Adam's largest step. Same chaos argument as training-parity.test.ts for step by step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toTfLayout } from '../../../models/core/layout.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { NamedArray, Weights } from '../../../models/core/weights.js';
import { createOnnxTrainer } from '../../../models/onnx-train/trainer.js';
import type { OptimizerConfig, OptimizerState, StepHyper } from '../../../models/train/optimizer.js';
import { relativeError } from '../../helpers/tf.js';
import { testWeights } from '../../helpers/weights.js';
import { makeBatch, runTfjs, SMALL_SPEC, zeroGradientNames, type Batch, type ParityCase } from './engines.js';

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-8;

type Case = ParityCase;

const cases: Case[] = [
  {
    name: 'pc/softmax',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'pc', normalisation: 'softmax' },
    frozenBlocks: 0,
    labelSmoothing: 0,
    inputLayout: 'nchw',
  },
  {
    name: 'dp/sigmoid, label smoothing, NHWC input',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'dp', normalisation: 'sigmoid' },
    frozenBlocks: 0,
    labelSmoothing: 0.1,
    inputLayout: 'nhwc',
  },
  {
    name: 'pc/sigmoid, frozen blocks 1-3',
    spec: { ...SMALL_SPEC, attention: true, compatibility: 'pc', normalisation: 'sigmoid' },
    frozenBlocks: 3,
    labelSmoothing: 0,
    inputLayout: 'nchw',
  },
];

const zeros = (a: NamedArray): NamedArray => ({ shape: a.shape, data: new Float32Array(a.data.length) });

/**
 * Checks one step's weights, ONNX (`a`) against TensorFlow.js (`b`), from `w0` and TensorFlow.js's slots
 * before (`s0`) and after (`s1`) the step. All arrays compared in TensorFlow.js layout.
 */
function assertSameAdamStep(
  spec: ModelSpec,
  optimizer: OptimizerConfig,
  hyper: StepHyper,
  w0: Weights,
  a: Weights,
  b: Weights,
  s0: OptimizerState,
  s1: OptimizerState,
  what: string,
): void {
  const zero = zeroGradientNames(spec);
  const t = s1.step;
  const stepSize = hyper.lr / (1 - B1 ** t);
  const c2 = Math.sqrt(1 - B2 ** t);
  const wd = optimizer.weightDecay ?? 0;
  for (const [name, p0] of w0) {
    const pa = a.get(name)!;
    const pb = b.get(name)!;
    if (name.includes('.running_')) {
      assert.ok(relativeError(pa.data, pb.data) < 1e-5, `${what}: ${name} differs`);
      continue;
    }
    const m1 = s1.slots.get(`m/${name}`);
    if (!m1) {
      assert.deepEqual(pa.data, p0.data, `${what}: ${name} is frozen, yet it moved`);
      continue;
    }
    const x0 = toTfLayout(name, p0).data;
    const xa = toTfLayout(name, pa).data;
    const xb = toTfLayout(name, pb).data;
    const m0 = (s0.slots.get(`m/${name}`) ?? zeros(m1)).data;
    const v0 = (s0.slots.get(`v/${name}`) ?? zeros(m1)).data;
    // The gradient TensorFlow.js used (with Adam's coupled decay folded in), from its first moments.
    const g = m1.data.map((m, i) => (m - B1 * m0[i]) / (1 - B1));
    const gMax = Math.max(...g.map(Math.abs));
    const update = (gi: number, i: number): number => {
      const m = B1 * m0[i] + (1 - B1) * gi;
      const v = B2 * v0[i] + (1 - B2) * gi * gi;
      return (stepSize * m) / (Math.sqrt(v) / c2 + EPS);
    };
    let scale = 0;
    for (let i = 0; i < x0.length; i++)
      scale = Math.max(scale, Math.abs(xa[i] - x0[i]), Math.abs(xb[i] - x0[i]));
    let worst = 0;
    for (let i = 0; i < x0.length; i++) {
      const da = xa[i] - x0[i];
      const db = xb[i] - x0[i];
      if (zero.has(name)) {
        // Adam's step is at most about stepSize (1 - b1) / sqrt(1 - b2) per element; AdamW's decay adds lr wd p.
        const bound = 3.2 * stepSize + hyper.lr * wd * Math.abs(x0[i]) + 1e-7;
        assert.ok(
          Math.abs(da) <= bound,
          `${what}: ${name}[${i}] moved ${da} (zero gradient, bound ${bound})`,
        );
        continue;
      }
      const delta = 1e-4 * gMax;
      const u = update(g[i], i);
      const sensitivity = Math.max(
        Math.abs(update(g[i] + delta, i) - u),
        Math.abs(update(g[i] - delta, i) - u),
      );
      const ulps = 4 * 2 ** -23 * Math.max(Math.abs(x0[i]), Math.abs(xb[i]));
      const allowed = 1e-4 * scale + sensitivity + ulps;
      worst = Math.max(worst, Math.abs(da - db) / allowed);
      assert.ok(
        Math.abs(da - db) <= allowed,
        `${what}: ${name}[${i}] moved ${da} against ${db} (allowed ${allowed}, gradient ${g[i]} of max ${gMax})`,
      );
    }
  }
}

/** m within the SGD tests' buffer tolerance; v (a square of the gradient) within twice that. */
function assertSameSlots(spec: ModelSpec, onnx: OptimizerState, tfjs: OptimizerState, what: string): void {
  const zero = zeroGradientNames(spec);
  assert.equal(onnx.step, tfjs.step, `${what}: step`);
  assert.deepEqual([...onnx.slots.keys()].sort(), [...tfjs.slots.keys()].sort(), `${what}: slot keys`);
  for (const [key, b] of tfjs.slots) {
    const a = onnx.slots.get(key)!;
    assert.deepEqual(a.shape, b.shape, `${what}: ${key} shape (TensorFlow.js layout)`);
    const param = key.slice(key.indexOf('/') + 1);
    if (zero.has(param)) continue;
    const err = relativeError(a.data, b.data);
    assert.ok(err < (key.startsWith('v/') ? 6e-4 : 3e-4), `${what}: ${key} differs by ${err}`);
  }
}

async function compareSteps(
  c: Case,
  weights: Weights,
  batch: Batch,
  optimizer: OptimizerConfig,
  hypers: StepHyper[],
): Promise<void> {
  const run = { frozenBlocks: c.frozenBlocks, labelSmoothing: c.labelSmoothing, optimizer, hypers };
  const tfjs = await runTfjs(c.spec, weights, batch, run);
  const trainer = await createOnnxTrainer(c.spec, weights, { ...run, inputLayout: c.inputLayout });
  try {
    const x = c.inputLayout === 'nchw' ? batch.nchw : batch.nhwc;
    for (let k = 0; k < hypers.length; k++) {
      const before = tfjs.after[k];
      const after = tfjs.after[k + 1];
      trainer.setWeights(before.weights);
      trainer.setOptimizerState(before.state);
      const r = await trainer.step(x, batch.labels, hypers[k]);
      const what = `${optimizer.name} step ${k + 1}`;
      assert.ok(
        Math.abs(r.loss - tfjs.losses[k]) < 1e-5 * tfjs.losses[k],
        `${what}: loss ${r.loss} vs ${tfjs.losses[k]}`,
      );
      assert.equal(r.correct, tfjs.correct[k], `${what}: correct`);
      assertSameSlots(c.spec, trainer.getOptimizerState(), after.state, what);
      assertSameAdamStep(
        c.spec,
        optimizer,
        hypers[k],
        before.weights,
        trainer.getWeights(),
        after.weights,
        before.state,
        after.state,
        what,
      );
    }
  } finally {
    await trainer.dispose();
  }
}

for (const c of cases)
  for (const name of ['adam', 'adamw'] as const)
    test(`ONNX ${name} step equals TensorFlow.js: ${c.name}`, async () => {
      const weights = testWeights(c.spec, 41);
      const batch = makeBatch(c.spec, 4, 42);
      // (a) one step from fresh slots, no weight decay.
      await compareSteps(c, weights, batch, { name }, [{ lr: 1e-3 }]);
      // (b) three steps with weight decay and a changing lr (the cycled momentum is ignored by Adam).
      await compareSteps(c, weights, batch, { name, weightDecay: name === 'adamw' ? 0.05 : 5e-4 }, [
        { lr: 2e-3, momentum: 0.95 },
        { lr: 1e-3, momentum: 0.9 },
        { lr: 5e-4, momentum: 0.85 },
      ]);
    });
