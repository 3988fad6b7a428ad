// The reverse-mode tape: contributions to one tensor are summed, untracked tensors get nothing, and
// reading a gradient before every consumer has run its backward is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphWriter } from '../../../../models/onnx-train/graph-writer.js';
import { Tape } from '../../../../models/onnx-train/tape.js';

test('gradients of a tensor read twice are summed, in reverse recording order', () => {
  const w = new GraphWriter();
  const tape = new Tape(w);
  const x = tape.track(w.input('x', [2]));
  const order: string[] = [];
  tape.record(() => order.push('first'));
  tape.record(() => {
    order.push('second');
    tape.addGrad(x, w.op('Identity', [x], 'a'));
    tape.addGrad(x, w.op('Identity', [x], 'b'));
  });
  tape.backward();
  assert.deepEqual(order, ['second', 'first']);
  const g = tape.grad(x);
  assert.equal(g, 'grad_x');
  assert.equal(tape.grad(x), g, 'summed once');
  const node = w.build('t', '').node?.find((n) => n.output?.[0] === g);
  assert.equal(node?.opType, 'Add');
  assert.deepEqual(node?.input, ['a', 'b']);
});

test('untracked tensors get no gradient; a single contribution is used as it is', () => {
  const w = new GraphWriter();
  const tape = new Tape(w);
  const frozen = w.input('frozen', [2]);
  const x = tape.track(w.input('x', [2]));
  tape.addGrad(frozen, 'anything');
  tape.addGrad(x, 'dx');
  assert.equal(tape.grad(frozen), undefined);
  assert.equal(tape.grad(x), 'dx');
  assert.equal(tape.needsGrad(frozen), false);
  assert.equal(tape.anyNeedsGrad([frozen, x]), true);
});

test('adding to a gradient that was already read is refused', () => {
  const w = new GraphWriter();
  const tape = new Tape(w);
  const x = tape.track(w.input('x', [2]));
  tape.addGrad(x, 'a');
  tape.grad(x);
  assert.throws(() => tape.addGrad(x, 'b'), /read before all its contributions/);
  tape.backward();
  assert.throws(() => tape.backward(), /twice/);
  assert.throws(() => tape.record(() => undefined), /after backward/);
});

test('GraphWriter names tensors uniquely and shares constants', () => {
  const w = new GraphWriter();
  assert.equal(w.fresh('t'), 't');
  assert.equal(w.fresh('t'), 't_2');
  assert.equal(w.scalar(0.5), w.scalar(0.5));
  assert.notEqual(w.scalar(0.5), w.scalar(0.25));
  assert.equal(w.ints([1, -1]), w.ints([1, -1]));
  assert.throws(() => w.input('t', [1]), /declared twice/);
});
