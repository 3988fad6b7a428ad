// check-model.ts: the model file is read once and checked with our own reader against its sidecar before
// the runtime sees it. A good export is handed over as the very bytes checked; weights in external files
// inside the folder are handed over as the path; a file from another export, with another input size,
// a named pipe, or a tensor anywhere in the graph pointing outside the folder is refused in plain words.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOnnxSession } from '../../../../models/onnx/session.js';
import { DataLocation, decodeModel, encodeModel, type ModelProto } from '../../../../models/onnx/proto.js';
import {
  ModelFileError,
  expectationsOf,
  loadCheckedModel,
  openInference,
  type ModelExpectations,
} from '../../../../main/services/classify/index.js';
import { exportRun, type ModelSidecar } from '../../../../main/services/export/index.js';
import { makeRandomRun, TINY_SPEC } from '../export/run-fixture.js';

let dir = '';
let model = '';
let sidecar: ModelSidecar;
let expect: ModelExpectations;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-check-model-'));
  await makeRandomRun(join(dir, 'run'), TINY_SPEC, ['a', 'b', 'c']);
  model = join(dir, 'good', 'model.onnx');
  sidecar = (await exportRun(join(dir, 'run'), model)).sidecar;
  expect = expectationsOf(sidecar);
});
after(() => rm(dir, { recursive: true, force: true }));

const refusedAs = (problem: string, pattern: RegExp) => (e: unknown) =>
  e instanceof ModelFileError && e.problem === problem && pattern.test(e.message);

/** Writes `proto` as <dir>/<name>/model.onnx and returns its path. */
async function variant(
  name: string,
  proto: ModelProto,
  files: Record<string, Uint8Array> = {},
): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) await writeFile(join(folder, file), bytes);
  const path = join(folder, 'model.onnx');
  await writeFile(path, encodeModel(proto));
  return path;
}

async function fresh(): Promise<ModelProto> {
  return decodeModel(await readFile(model));
}

test('a good export: the runtime gets the very bytes that were checked', async () => {
  const checked = await loadCheckedModel(model, expect);
  assert.ok(checked.source instanceof Uint8Array);
  assert.deepEqual(Buffer.from(checked.source), await readFile(model));
  assert.equal(checked.bytes, checked.source.length);
  assert.ok(checked.checkMs >= 0);
  const session = await openOnnxSession(checked.source, { intraOpThreads: 1 });
  assert.ok(session.outputNames.includes(sidecar.outputs.probabilities));
  await session.release();
});

test('a file that is not the described model is refused: another export, another size, missing outputs', async () => {
  await assert.rejects(
    loadCheckedModel(model, { ...expect, modelId: 'someone-else' }),
    refusedAs('not-described', /another export/),
  );
  await assert.rejects(
    loadCheckedModel(model, { ...expect, inputSize: 64 }),
    refusedAs('not-described', /not \[batch, 3, 64, 64\]/),
  );
  await assert.rejects(
    loadCheckedModel(model, { ...expect, inputName: 'pixels' }),
    refusedAs('not-described', /no input "pixels"/),
  );
  await assert.rejects(
    loadCheckedModel(model, { ...expect, outputs: [...expect.outputs, 'attention_9'] }),
    refusedAs('not-described', /no output "attention_9"/),
  );
});

test('a named pipe in place of the model is refused at once, not waited on', async (t) => {
  const folder = join(dir, 'fifo');
  await mkdir(folder);
  try {
    execFileSync('mkfifo', [join(folder, 'model.onnx')]);
  } catch {
    return t.skip('mkfifo is not available here');
  }
  await assert.rejects(
    loadCheckedModel(join(folder, 'model.onnx'), expect),
    refusedAs('not-onnx', /^This file is not an ONNX model: .* not a regular file/),
  );
  await assert.rejects(
    loadCheckedModel(join(folder, 'missing.onnx'), expect),
    refusedAs('unreadable', /cannot be opened \(ENOENT\)/),
  );
});

test('weights in an external file inside the folder: checked, then the runtime opens the path', async () => {
  const proto = await fresh();
  const inits = proto.graph?.initializer ?? [];
  const t = inits.reduce((a, b) => ((b.rawData?.length ?? 0) > (a.rawData?.length ?? 0) ? b : a));
  const data = Uint8Array.from(t.rawData ?? []);
  t.rawData = new Uint8Array(0);
  t.dataLocation = DataLocation.EXTERNAL;
  t.externalData = [
    { key: 'location', value: 'weights.bin' },
    { key: 'offset', value: '0' },
    { key: 'length', value: String(data.length) },
  ];
  const path = await variant('external-inside', proto, { 'weights.bin': data });
  const checked = await loadCheckedModel(path, expect);
  assert.equal(checked.source, path);
  const session = await openOnnxSession(checked.source, { intraOpThreads: 1 });
  await session.release();
});

test('a tensor outside the initializers (a node attribute) pointing outside the folder is refused', async () => {
  const proto = await fresh();
  proto.graph?.node?.push({
    opType: 'Constant',
    name: 'sneaky',
    output: ['sneaky_out'],
    attribute: [
      {
        name: 'value',
        type: 4, // TENSOR
        t: {
          name: 'sneaky_value',
          dims: [4],
          dataType: 1,
          dataLocation: DataLocation.EXTERNAL,
          externalData: [{ key: 'location', value: '../good/model.onnx' }],
        },
      },
    ],
  });
  const path = await variant('external-attribute', proto);
  await assert.rejects(
    loadCheckedModel(path, expect),
    refusedAs('outside-folder', /^The model refers to data outside its folder: "\.\.\/good\/model\.onnx"/),
  );
});

test('in the inference worker: the same check, the same ModelFileError; a good model reports its check time', async () => {
  await assert.rejects(
    openInference(model, { threads: 1, expect: { ...expect, modelId: 'someone-else' } }),
    refusedAs('not-described', /another export/),
  );
  const runner = await openInference(model, { threads: 1, expect });
  try {
    assert.ok(runner.checkMs !== null && runner.checkMs >= 0);
    assert.ok(runner.outputNames.includes(sidecar.outputs.probabilities));
  } finally {
    await runner.close();
  }
  const unchecked = await openInference(model, { threads: 1, worker: false });
  assert.equal(unchecked.checkMs, null);
  await unchecked.close();
});
