// From training to deployment on a tiny run trained here (2 shapes classes, 32 px, width 0.0625, one
// epoch): the export and its sidecar, then classification of the run's own test and validation images,
// whose probabilities must equal the TensorFlow.js model's on the pictures prepared by the training
// input pipeline (one pre-processing path), whose labels must equal the run's own evaluation, and the
// same through the command line (export, classify --heatmaps, bench infer).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as tf from '@tensorflow/tfjs-core';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { runCli } from '../../../main/cli/main.js';
import { classifyFolder } from '../../../main/services/classify/index.js';
import { createBatchStream } from '../../../main/services/datasets/batch-stream.js';
import { exportRun, readSidecar } from '../../../main/services/export/index.js';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import type { EvaluationReport } from '../../../main/services/training/evaluate-model.js';
import { loadRunModel } from '../../../main/services/training/load-run-model.js';
import { startTraining } from '../../../main/services/training/training-run.js';
import { relativeError } from '../../helpers/tf.js';
import { resultsOf } from '../../helpers/classify-results.js';

let dir = '';
let data = '';
let runDir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-export-classify-'));
  data = join(dir, 'shapes');
  runDir = join(dir, 'run');
  await generateShapesDataset(data, { classes: 2, size: 32, counts: { train: 8, val: 2, test: 2 }, seed: 1 });
  const result = await startTraining(
    { dataset: data, inputSize: 32, width: 0.0625, epochs: 1, batchSize: 4, seed: 2 },
    { runDir },
  );
  assert.equal(result.status, 'completed');
});
after(() => rm(dir, { recursive: true, force: true }));

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

test('the export of a trained run: sidecar from the run record, evaluation accuracy included', async () => {
  const { modelPath, sidecar } = await exportRun(runDir, join(dir, 'model.onnx'));
  const { record } = await loadRunModel(runDir);
  const evaluation = JSON.parse(await readFile(join(runDir, 'evaluation.json'), 'utf8')) as EvaluationReport;
  assert.deepEqual(sidecar.classes, ['circle', 'square']);
  assert.deepEqual(sidecar.spec, record.spec);
  assert.deepEqual(sidecar.preprocessing.mean, record.config.mean);
  assert.deepEqual(sidecar.preprocessing.std, record.config.std);
  assert.equal(sidecar.preprocessing.size, 32);
  assert.equal(sidecar.provenance.runId, record.id);
  assert.equal(sidecar.provenance.datasetFingerprint, record.datasetFingerprint);
  assert.deepEqual(sidecar.provenance.evaluation, {
    split: 'test',
    accuracy: evaluation.metrics.accuracy,
    images: evaluation.metrics.total,
  });
  assert.deepEqual((await readSidecar(modelPath)).sidecar, sidecar);
});

test('classification equals the TensorFlow.js model on the training pipeline input, and the run evaluation', async () => {
  const model = join(dir, 'model.onnx');
  const folders = [join(data, 'test'), join(data, 'val')];
  const outcome = await classifyFolder(model, folders, join(dir, 'out'), { topK: 2 });
  const results = (await resultsOf(outcome)).results;
  assert.equal(results.length, 8);
  assert.ok(results.every((r) => r.status === 'ok'));
  const { record, weights } = await loadRunModel(runDir);
  // The training input pipeline, without augmentation, on the same files in the same order.
  const stream = createBatchStream(
    results.map((r) => ({ path: r.path, classIndex: 0 })),
    {
      batchSize: results.length,
      inputSize: 32,
      shuffle: false,
      mean: record.config.mean,
      std: record.config.std,
    },
  );
  const batch = (await stream.next()).value;
  assert.ok(batch && batch.size === results.length);
  const vgg = AttentionVgg.fromWeights(record.spec, weights);
  const probs = tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [batch.size, 32, 32, 3]);
    return tf.softmax(vgg.forward(x).logits).dataSync() as Float32Array;
  });
  vgg.dispose();
  results.forEach((r, n) => {
    const ours = record.classes.map((c) => r.top.find((t) => t.label === c)?.probability ?? Number.NaN);
    const expected = probs.subarray(n * 2, n * 2 + 2);
    assert.ok(relativeError(ours, expected) < 1e-4, `${r.file}: ${ours} vs ${Array.from(expected)}`);
  });
  // The run's own evaluation of its test images predicted the same labels.
  const evaluation = JSON.parse(await readFile(join(runDir, 'evaluation.json'), 'utf8')) as EvaluationReport;
  for (const p of evaluation.predictions) {
    const r = results.find((x) => x.path === p.path);
    assert.equal(r?.label, p.predicted, p.path);
    assert.ok(Math.abs((r?.top[0].probability ?? 0) - p.confidence) < 1e-4);
  }
});

test('the command line: export, classify --heatmaps --json, bench infer', async () => {
  const model = join(dir, 'cli', 'm.onnx');
  const io = () => ({ out: sink(), err: sink() });
  let s = io();
  assert.equal(
    await runCli(['export', runDir, '--out', model, '--json'], {
      stdout: s.out.stream,
      stderr: s.err.stream,
    }),
    0,
  );
  const exported = JSON.parse(s.out.text()) as { model: string; classes: string[] };
  assert.equal(exported.model, model);
  s = io();
  assert.equal(
    await runCli(['export', runDir, '--out', model], { stdout: s.out.stream, stderr: s.err.stream }),
    3,
  );
  assert.match(s.err.text(), /already exists/);

  await writeFile(join(data, 'test', 'circle', 'broken.png'), 'not a png');
  s = io();
  const out = join(dir, 'cli', 'out');
  const code = await runCli(
    [
      'classify',
      model,
      join(data, 'test'),
      '--out',
      out,
      '--heatmaps',
      '--legend',
      '--level',
      '1',
      '--json',
      '--batch',
      '3',
    ],
    { stdout: s.out.stream, stderr: s.err.stream },
  );
  assert.equal(code, 0, s.err.text());
  const lines = s.out
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const finished = lines[lines.length - 1];
  assert.equal(finished.type, 'finished');
  assert.deepEqual([finished.images, finished.ok, finished.failed], [5, 4, 1]);
  assert.ok(lines.slice(0, -1).every((l) => l.type === 'progress'));
  const csv = await readFile(join(out, 'results.csv'), 'utf8');
  assert.match(csv, /broken\.png,failed,.*not-an-image/);

  s = io();
  assert.equal(
    await runCli(['bench', 'infer', model, '--batch', '4', '--steps', '3', '--warmup', '1', '--json'], {
      stdout: s.out.stream,
      stderr: s.err.stream,
    }),
    0,
  );
  const bench = JSON.parse(s.out.text()) as { infer_img_s: number; size: number; batch: number };
  assert.ok(bench.infer_img_s > 0);
  assert.deepEqual([bench.size, bench.batch], [32, 4]);

  s = io();
  assert.equal(
    await runCli(['classify', model, join(data, 'test'), '--out', out, '--level', 'x'], {
      stdout: s.out.stream,
      stderr: s.err.stream,
    }),
    2,
  );
  s = io();
  assert.equal(
    await runCli(['classify', join(dir, 'nope.onnx'), join(data, 'test'), '--out', out], {
      stdout: s.out.stream,
      stderr: s.err.stream,
    }),
    3,
  );
  assert.match(s.err.text(), /nope\.json is missing/);
});
