// Exported files pass the official ONNX checker (onnx.checker.check_model with full_check, i.e. with
// strict shape inference) from Debian's python3-onnx 1.12, the oldest reader we promise to satisfy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '../../../models/core/spec.js';
import { exportBackboneOnnx, exportOnnx } from '../../../models/onnx/export.js';
import { pythonMissing, runPython } from '../../helpers/python.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';
import { testWeights } from '../../unit/models/onnx/onnx-fixtures.js';

const missing = skipOrFail(pythonMissing(['onnx']));
if (missing) console.log(`# skipping the ONNX checker tests: ${missing}`);

const base: ModelSpec = {
  inputSize: 64,
  width: 0.0625,
  numClasses: 4,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

const cases: [string, () => Uint8Array, Record<string, (string | number)[]>][] = [
  [
    'pc/softmax S=64',
    () => exportOnnx(base, testWeights(base, 1), { classes: '["a","b","c","d"]' }),
    {
      logits: ['batch', 4],
      probabilities: ['batch', 4],
      attention_1: ['batch', 16, 16],
      attention_2: ['batch', 8, 8],
      attention_3: ['batch', 4, 4],
    },
  ],
  [
    'dp/sigmoid S=96',
    () => {
      const spec: ModelSpec = { ...base, inputSize: 96, compatibility: 'dp', normalisation: 'sigmoid' };
      return exportOnnx(spec, testWeights(spec, 2));
    },
    {
      logits: ['batch', 4],
      probabilities: ['batch', 4],
      attention_1: ['batch', 24, 24],
      attention_2: ['batch', 12, 12],
      attention_3: ['batch', 6, 6],
    },
  ],
  [
    'attention off S=32',
    () => {
      const spec: ModelSpec = { ...base, inputSize: 32, attention: false };
      return exportOnnx(spec, testWeights(spec, 3));
    },
    { logits: ['batch', 4], probabilities: ['batch', 4] },
  ],
  [
    'backbone S=64',
    () => exportBackboneOnnx(base, testWeights(base, 4)),
    {
      local_1: ['batch', 16, 16, 16],
      local_2: ['batch', 32, 8, 8],
      local_3: ['batch', 32, 4, 4],
      pool5: ['batch', 128],
    },
  ],
];

test('exported models pass onnx.checker.check_model(full_check=True)', { skip: missing }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'attnvgg-onnx-check-'));
  try {
    const files = cases.map(([, make], i) => {
      const path = join(dir, `model${i}.onnx`);
      writeFileSync(path, make());
      return path;
    });
    const lines = runPython(['test/fixtures/check_onnx.py', ...files])
      .trim()
      .split('\n');
    assert.equal(lines.length, cases.length);
    lines.forEach((line, i) => {
      const report = JSON.parse(line) as {
        ir_version: number;
        opset: number;
        outputs: Record<string, unknown>;
      };
      assert.equal(report.ir_version, 8, cases[i][0]);
      assert.equal(report.opset, 17, cases[i][0]);
      assert.deepEqual(report.outputs, cases[i][2], cases[i][0]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
