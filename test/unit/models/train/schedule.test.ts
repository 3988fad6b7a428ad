// Learning-rate schedules against PyTorch's own schedulers (when Debian's python3-torch is present) and
// against their definitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleAt } from '../../../../models/train/schedule.js';
import { pythonMissing, runPython } from '../../../helpers/python.js';
import { skipOrFail } from '../../../helpers/skip-or-fail.js';

const missing = skipOrFail(pythonMissing(['torch']));
if (missing) console.log(`# skipping the comparison with PyTorch's schedulers: ${missing}`);

test("one-cycle equals PyTorch's OneCycleLR step by step (lr and momentum)", { skip: missing }, () => {
  const total = 47;
  const script = `
import json, torch
p = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([p], lr=0.05, momentum=0.9)
s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=${total})
out = []
for i in range(${total}):
    g = opt.param_groups[0]
    out.append([g['lr'], g['momentum']])
    opt.step(); s.step()
print(json.dumps(out))`;
  const expected = JSON.parse(runPython(['-c', script])) as [number, number][];
  expected.forEach(([lr, momentum], step) => {
    const v = scheduleAt({ name: 'onecycle', lr: 0.05 }, step, total);
    assert.ok(Math.abs(v.lr - lr) <= 1e-9 + 1e-6 * lr, `step ${step}: lr ${v.lr} vs ${lr}`);
    assert.ok(
      Math.abs((v.momentum ?? 0) - momentum) < 1e-9,
      `step ${step}: momentum ${v.momentum} vs ${momentum}`,
    );
  });
});

test('one-cycle starts at lr/25, peaks at 30 %, ends at lr/25e4', () => {
  const total = 101;
  assert.ok(Math.abs(scheduleAt({ name: 'onecycle', lr: 0.05 }, 0, total).lr - 0.002) < 1e-12);
  const peak = Math.round(0.3 * total) - 1;
  assert.ok(Math.abs(scheduleAt({ name: 'onecycle', lr: 0.05 }, peak, total).lr - 0.05) < 1e-3);
  assert.ok(Math.abs(scheduleAt({ name: 'onecycle', lr: 0.05 }, total - 1, total).lr - 0.05 / 25e4) < 1e-12);
});

test('cosine, step and constant schedules', () => {
  assert.equal(scheduleAt({ name: 'constant', lr: 0.1 }, 50, 100).lr, 0.1);
  assert.equal(scheduleAt({ name: 'cosine', lr: 0.1 }, 0, 100).lr, 0.1);
  assert.ok(Math.abs(scheduleAt({ name: 'cosine', lr: 0.1 }, 50, 100).lr - 0.05) < 1e-12);
  assert.ok(Math.abs(scheduleAt({ name: 'cosine', lr: 0.1 }, 100, 100).lr) < 1e-12);
  assert.ok(
    Math.abs(scheduleAt({ name: 'step', lr: 0.1, stepSize: 10, gamma: 0.5 }, 25, 100).lr - 0.025) < 1e-12,
  );
});
