// Export of a run folder: the .onnx and its sidecar, written together; the sidecar's content; its
// metadata mirror inside the ONNX file; and every way readSidecar refuses a sidecar (missing, damaged,
// contradicting itself, belonging to another export, model missing or not ONNX).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { META, specToJson } from '../../../../models/onnx/metadata.js';
import { readOnnx } from '../../../../models/onnx/read.js';
import {
  ExportError,
  MODEL_META,
  OnnxHeaderError,
  SidecarError,
  exportRun,
  readOnnxHeader,
  readSidecar,
  sidecarPathFor,
  type ModelSidecar,
} from '../../../../main/services/export/index.js';
import { APP_VERSION } from '../../../../main/services/app-version.js';
import { makeRandomRun, TINY_SPEC } from './run-fixture.js';

let dir = '';
let runDir = '';
const classes = ['cat', 'dog', 'emu'];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-export-'));
  runDir = join(dir, 'run');
  await makeRandomRun(runDir, TINY_SPEC, classes, { accuracy: 0.75 });
});
after(() => rm(dir, { recursive: true, force: true }));

const problem = (kind: string, pattern: RegExp) => (e: unknown) =>
  e instanceof SidecarError && e.problem === kind && pattern.test(e.message);

test('writes <name>.onnx and <name>.json with classes, pre-processing, outputs and provenance', async () => {
  const out = join(dir, 'models', 'pets.onnx');
  const now = new Date('2026-03-04T05:06:07.000Z');
  const result = await exportRun(runDir, out, { now });
  assert.equal(result.modelPath, out);
  assert.equal(result.sidecarPath, join(dir, 'models', 'pets.json'));
  assert.equal((await stat(out)).size, result.bytes);
  const s = JSON.parse(await readFile(result.sidecarPath, 'utf8')) as ModelSidecar;
  assert.deepEqual(s, result.sidecar);
  assert.equal(s.format, 'attnvgg-model/1');
  assert.equal(s.modelFile, 'pets.onnx');
  assert.deepEqual(s.classes, classes);
  assert.deepEqual(s.input, {
    name: 'input',
    dtype: 'float32',
    layout: 'NCHW',
    channels: 'RGB',
    shape: ['batch', 3, 32, 32],
  });
  const { formula, ...pre } = s.preprocessing;
  assert.deepEqual(pre, {
    size: 32,
    resize: 'crop',
    kernel: 'lanczos3',
    alphaBackground: [255, 255, 255],
    padColour: [0, 0, 0],
    mean: [0.5, 0.4, 0.3],
    std: [0.25, 0.2, 0.15],
  });
  assert.match(formula, /pixel \/ 255 - mean/);
  assert.deepEqual(s.outputs, {
    logits: 'logits',
    probabilities: 'probabilities',
    attention: [
      { level: 1, name: 'attention_1', height: 8, width: 8 },
      { level: 2, name: 'attention_2', height: 4, width: 4 },
      { level: 3, name: 'attention_3', height: 2, width: 2 },
    ],
  });
  assert.deepEqual(s.spec, TINY_SPEC);
  assert.deepEqual(s.provenance, {
    runId: 'run-test',
    runStatus: 'completed',
    weights: 'best',
    datasetFingerprint: 'f'.repeat(64),
    trainedWithAppVersion: '0.0.1',
    exportedAt: now.toISOString(),
    appVersion: APP_VERSION,
    evaluation: { split: 'test', accuracy: 0.75, images: 8 },
  });
  assert.deepEqual(s.onnx, { opset: 17, irVersion: 8, bytes: result.bytes });
});

test("the ONNX file's metadata mirrors the sidecar, and the light header reader agrees with the full reader", async () => {
  const { modelPath, sidecar } = await exportRun(runDir, join(dir, 'mirror.onnx'));
  const header = await readOnnxHeader(modelPath);
  const full = readOnnx(new Uint8Array(await readFile(modelPath)));
  assert.deepEqual([...header.metadata], [...full.metadata]);
  assert.equal(header.irVersion, 8);
  assert.equal(header.opsetVersion, 17);
  assert.equal(header.producerName, 'attnvgg');
  assert.equal(header.producerVersion, APP_VERSION);
  assert.equal(header.metadata.get(MODEL_META.modelId), sidecar.modelId);
  assert.deepEqual(JSON.parse(header.metadata.get(MODEL_META.classes) ?? ''), classes);
  assert.equal(header.metadata.get(META.spec), specToJson(TINY_SPEC));
  assert.equal(header.metadata.get(MODEL_META.runId), 'run-test');
  const reading = await readSidecar(modelPath);
  assert.deepEqual(reading.sidecar, sidecar);
});

test('refuses a name without .onnx, and an existing file unless told to overwrite', async () => {
  await assert.rejects(exportRun(runDir, join(dir, 'model.bin')), ExportError);
  const out = join(dir, 'twice.onnx');
  const first = await exportRun(runDir, out);
  await assert.rejects(
    exportRun(runDir, out),
    (e: unknown) => e instanceof ExportError && /already exists/.test(String(e)),
  );
  const second = await exportRun(runDir, out, { overwrite: true });
  assert.notEqual(second.sidecar.modelId, first.sidecar.modelId);
  assert.equal((await readSidecar(out)).sidecar.modelId, second.sidecar.modelId);
  await assert.rejects(exportRun(join(dir, 'no-run'), join(dir, 'x.onnx')), /not a training run/);
});

test('readSidecar: missing, damaged, self-contradicting, or from another export', async () => {
  const a = await exportRun(runDir, join(dir, 'a.onnx'));
  const b = await exportRun(runDir, join(dir, 'b.onnx'));
  const sidecar = sidecarPathFor(a.modelPath);
  const original = await readFile(sidecar, 'utf8');
  const withSidecar = async (text: string, check: (e: unknown) => boolean): Promise<void> => {
    await writeFile(sidecar, text);
    await assert.rejects(readSidecar(a.modelPath), check);
    await writeFile(sidecar, original);
  };
  await rm(sidecar);
  await assert.rejects(readSidecar(a.modelPath), problem('missing', /a\.json is missing.*attnvgg export/));
  await writeFile(sidecar, original);
  await withSidecar('{"format": "attnvgg-model/1", ', problem('damaged', /not valid JSON/));
  const json = JSON.parse(original) as ModelSidecar;
  await withSidecar(JSON.stringify({ ...json, classes: undefined }), problem('damaged', /classes/));
  await withSidecar(
    JSON.stringify({ ...json, classes: ['cat', 'dog'] }),
    problem('damaged', /2 classes but the model has 3/),
  );
  await withSidecar(
    JSON.stringify({ ...json, preprocessing: { ...json.preprocessing, std: [0, 1, 1] } }),
    problem('damaged', /preprocessing\.std/),
  );
  // Edited to other classes (consistent in itself): the ONNX metadata disagrees.
  await withSidecar(
    JSON.stringify({ ...json, classes: ['ant', 'bee', 'cow'] }),
    problem('mismatch', /different exports|classes differ/),
  );
  await withSidecar(
    JSON.stringify({ ...json, preprocessing: { ...json.preprocessing, mean: [0, 0, 0] } }),
    problem('mismatch', /pre-processing/),
  );
  // The sidecar of another export of the same run.
  await copyFile(sidecarPathFor(b.modelPath), sidecar);
  await assert.rejects(readSidecar(a.modelPath), problem('mismatch', /different exports/));
  await writeFile(sidecar, original);
  await readSidecar(a.modelPath);
});

test('readSidecar: the model itself missing or not ONNX', async () => {
  const { modelPath } = await exportRun(runDir, join(dir, 'gone.onnx'));
  const bytes = await readFile(modelPath);
  await rm(modelPath);
  await assert.rejects(readSidecar(modelPath), problem('model-missing', /does not exist/));
  await writeFile(modelPath, 'this is text, not a model');
  await assert.rejects(readSidecar(modelPath), problem('model-damaged', /^This file is not an ONNX model: /));
  await writeFile(modelPath, bytes.subarray(0, 200));
  await assert.rejects(readSidecar(modelPath), problem('model-damaged', /ends inside a field|no graph/));
  await assert.rejects(readOnnxHeader(join(dir, 'a.json')), OnnxHeaderError);
});

test('sidecarPathFor replaces the extension', () => {
  assert.equal(sidecarPathFor('/m/x.onnx'), '/m/x.json');
  assert.equal(sidecarPathFor('/m/x.v2.ONNX'), '/m/x.v2.json');
  assert.equal(sidecarPathFor('/m/model'), '/m/model.json');
});
