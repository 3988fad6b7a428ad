// The training-step graphs pass the official ONNX checker (onnx.checker.check_model with full_check, i.e.
// strict shape inference) of Debian's python3-onnx 1.12, like the exported inference graphs: SGD, Adam and
// AdamW updates; and the Grad-CAM graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '../../../models/core/spec.js';
import { buildGradCamGraph, type GradCamGraphOptions } from '../../../models/onnx-train/grad-cam-graph.js';
import { buildTrainingGraph, type TrainingGraphOptions } from '../../../models/onnx-train/train-graph.js';
import { encodeModel } from '../../../models/onnx/proto.js';
import { pythonMissing, runPython } from '../../helpers/python.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';
import { testWeights } from '../../helpers/weights.js';

const missing = skipOrFail(pythonMissing(['onnx']));
if (missing) console.log(`# skipping the ONNX checker tests on training graphs: ${missing}`);

const base: ModelSpec = {
  inputSize: 64,
  width: 0.0625,
  numClasses: 5,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

const cases: [string, ModelSpec, TrainingGraphOptions][] = [
  ['pc/softmax, NCHW', base, {}],
  [
    'dp/sigmoid, NHWC input, Nesterov',
    { ...base, compatibility: 'dp', normalisation: 'sigmoid' },
    { inputLayout: 'nhwc', nesterov: true },
  ],
  ['attention off, frozen blocks 1-3', { ...base, inputSize: 32, attention: false }, { frozenBlocks: 3 }],
  [
    'pc/sigmoid, filter gradients as im2col',
    { ...base, normalisation: 'sigmoid' },
    { filterGradient: 'im2col' },
  ],
  ['pc/softmax, filter gradients as Conv', base, { filterGradient: 'conv' }],
  ['pc/softmax, per-tap filter gradients everywhere', base, { filterGradient: 'shifts' }],
  ['pc/softmax, Adam', base, { optimizer: 'adam' }],
  ['additive/softmax, Adam', { ...base, compatibility: 'additive' }, { optimizer: 'adam' }],
  [
    'dp/sigmoid, AdamW, frozen blocks 1-2',
    { ...base, compatibility: 'dp', normalisation: 'sigmoid' },
    { optimizer: 'adamw', frozenBlocks: 2 },
  ],
];

test('training-step graphs pass onnx.checker (full_check)', { skip: missing }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'attnvgg-train-checker-'));
  try {
    const files = cases.map(([name, spec, options], i) => {
      const graph = buildTrainingGraph(spec, { ...options, frozenWeights: testWeights(spec, i + 1) });
      const file = join(dir, `train-${i}.onnx`);
      writeFileSync(file, encodeModel(graph.model));
      return { name, file, graph };
    });
    const lines = runPython(['test/fixtures/check_onnx.py', ...files.map((f) => f.file)])
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            file: string;
            ir_version: number;
            opset: number;
            outputs: Record<string, (string | number)[]>;
          },
      );
    assert.equal(lines.length, files.length);
    lines.forEach((line, i) => {
      const { name, graph } = files[i];
      assert.equal(line.ir_version, 8, name);
      assert.equal(line.opset, 17, name);
      assert.deepEqual(line.outputs.loss, [], `${name}: loss is a scalar`);
      assert.deepEqual(line.outputs.correct, [], `${name}: correct is a scalar`);
      for (const t of graph.state) assert.deepEqual(line.outputs[t.output], t.shape, `${name}: ${t.output}`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Grad-CAM graphs pass onnx.checker (full_check)', { skip: missing }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'attnvgg-gradcam-checker-'));
  try {
    const variants: [string, ModelSpec, GradCamGraphOptions][] = [
      ['attention off, NCHW, pool backward by indices', { ...base, attention: false }, {}],
      [
        'dp/sigmoid, NHWC input, pool backward by argmax',
        { ...base, compatibility: 'dp', normalisation: 'sigmoid' },
        { inputLayout: 'nhwc', poolBackward: 'argmax' },
      ],
    ];
    const files = variants.map(([, spec, options], i) => {
      const file = join(dir, `grad-cam-${i}.onnx`);
      writeFileSync(file, encodeModel(buildGradCamGraph(spec, options).model));
      return file;
    });
    const lines = runPython(['test/fixtures/check_onnx.py', ...files])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { opset: number; outputs: Record<string, (string | number)[]> });
    assert.equal(lines.length, variants.length);
    lines.forEach((line, i) => {
      const [name, spec] = variants[i];
      assert.equal(line.opset, 17, name);
      assert.deepEqual(line.outputs.cam, ['batch', spec.inputSize / 16, spec.inputSize / 16], name);
      assert.deepEqual(line.outputs.chosen_classes, ['batch'], name);
      assert.deepEqual(line.outputs.probabilities, ['batch', spec.numClasses], name);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
