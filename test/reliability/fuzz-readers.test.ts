// Seeded, time-bounded fuzzing of the two readers that take files from users: the safetensors decoder
// under the checkpoint loader, and the ONNX reader with structure-aware mutations (sizes, types,
// external-data locations). Each sample must give a result or the reader's own error (WeightsError,
// CheckpointError, OnnxError), never another exception, never a slow call, and the ONNX reader must
// never ask for a file outside the model's folder. The seed is printed; ATTNVGG_TEST_SEED=N repeats it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { decodeSafetensors, encodeSafetensors, type TensorMap } from '../../models/core/safetensors.js';
import { WeightsError } from '../../models/core/weights.js';
import { OnnxError } from '../../models/onnx/errors.js';
import { exportOnnx } from '../../models/onnx/export.js';
import type { ExternalDataSource } from '../../models/onnx/external-data.js';
import { folderExternalData } from '../../models/onnx/external-files.js';
import { readOnnx } from '../../models/onnx/import.js';
import { DataLocation, decodeModel, encodeModel, type TensorProto } from '../../models/onnx/proto.js';
import { CheckpointError, loadCheckpoint } from '../../main/services/training/checkpoint.js';
import { SMALL_SPEC, testWeights } from '../unit/models/onnx/onnx-fixtures.js';
import { randomInt, seededRandom, testSeed } from './seeded.js';

const BUDGET_MS = 2500;
const SLOW_CALL_MS = 1000;
let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'attnvgg-fuzz-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

type Random = () => number;
const pick = <T>(r: Random, xs: readonly T[]): T => xs[randomInt(r, xs.length)];

const WEIRD_NUMBERS = [0, -1, 1.5, 2 ** 31, 2 ** 53, 2 ** 64, 1e308, -0, Number.NaN, '3', null, [], {}];

/** A valid checkpoint file's bytes: weights, an optimiser slot and the loop position. */
function checkpointBytes(): Buffer {
  const tensors: TensorMap = new Map([
    ['features.0.weight', { shape: [2, 3, 3, 3], data: new Float32Array(54).fill(0.5) }],
    ['features.0.bias', { shape: [2], data: new Float32Array([1, -1]) }],
    ['optimizer/momentum/features.0.bias', { shape: [2], data: new Float32Array([0.1, 0.2]) }],
    ['scalar', { shape: [], data: new Float32Array([3]) }],
  ]);
  const position = {
    epoch: 1,
    stepInEpoch: 2,
    globalStep: 9,
    bestValAccuracy: 0.5,
    bestEpoch: 0,
    epochsWithoutImprovement: 1,
    trainSeconds: 3.5,
  };
  return encodeSafetensors(tensors, {
    format: 'attnvgg-checkpoint/1',
    position: JSON.stringify(position),
    optimizerStep: '9',
  });
}

/** Re-encodes a safetensors file around a new header text (with a correct length field). */
function withHeader(original: Buffer, header: string): Buffer {
  const oldLength = Number(original.readBigUInt64LE(0));
  const json = Buffer.from(header, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, original.subarray(8 + oldLength)]);
}

function mutateValue(r: Random, value: unknown): unknown {
  if (Array.isArray(value) && value.length > 0 && r() < 0.6) {
    const copy = [...(value as unknown[])];
    copy[randomInt(r, copy.length)] = pick(r, WEIRD_NUMBERS);
    if (r() < 0.2) copy.push(pick(r, WEIRD_NUMBERS));
    return copy;
  }
  return pick(r, [...WEIRD_NUMBERS, 'F16', 'I64', 'F32', '{', 'x'.repeat(1000)]);
}

function mutateSafetensors(r: Random, base: Buffer): Buffer {
  const headerLength = Number(base.readBigUInt64LE(0));
  const kind = randomInt(r, 6);
  if (kind === 0) {
    // Flip bytes, mostly in the header.
    const out = Buffer.from(base);
    for (let k = 1 + randomInt(r, 6); k > 0; k--)
      out[r() < 0.8 ? 8 + randomInt(r, headerLength) : randomInt(r, out.length)] = randomInt(r, 256);
    return out;
  }
  if (kind === 1) return base.subarray(0, randomInt(r, base.length));
  if (kind === 2) {
    const out = Buffer.from(base);
    out.writeBigUInt64LE(BigInt(pick(r, [0, 1, headerLength - 1, headerLength + 1, 2 ** 40, 2 ** 62])));
    return out;
  }
  // Structure: change one field of the JSON header.
  const header = JSON.parse(base.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const keys = Object.keys(header);
  const key = pick(r, keys);
  if (kind === 3) header[key] = pick(r, [null, [], 1, 'x', {}, { dtype: 'F32' }]);
  else if (kind === 4 && key !== '__metadata__') {
    const entry = { ...(header[key] as Record<string, unknown>) };
    const field = pick(r, ['dtype', 'shape', 'data_offsets']);
    entry[field] = mutateValue(r, entry[field]);
    header[key] = entry;
  } else {
    const meta = { ...(header.__metadata__ as Record<string, unknown>) };
    const field = pick(r, ['format', 'position', 'optimizerStep']);
    if (field === 'position' && r() < 0.7) {
      const position = JSON.parse(meta.position as string) as Record<string, unknown>;
      position[pick(r, Object.keys(position))] = pick(r, WEIRD_NUMBERS);
      meta.position = r() < 0.5 ? JSON.stringify(position) : position;
    } else meta[field] = mutateValue(r, meta[field]);
    header.__metadata__ = meta;
  }
  return withHeader(base, JSON.stringify(header));
}

test('fuzz: the safetensors decoder and the checkpoint loader', { timeout: 60_000 }, async (t) => {
  const seed = testSeed();
  t.diagnostic(`seed ${seed} (ATTNVGG_TEST_SEED=${seed} repeats this run)`);
  const r = seededRandom(seed);
  const base = checkpointBytes();
  const file = join(dir, 'fuzz.safetensors');
  const outcomes = new Map<string, number>();
  const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  const start = Date.now();
  let n = 0;
  while (Date.now() - start < BUDGET_MS) {
    const bytes = mutateSafetensors(r, base);
    const sample = `sample ${n} of seed ${seed}: ${bytes.subarray(0, 600).toString('latin1')}`;
    const t0 = Date.now();
    try {
      const { tensors } = decodeSafetensors(bytes);
      for (const [name, a] of tensors)
        assert.equal(
          a.data.length,
          a.shape.reduce((x, y) => x * y, 1),
          `${name} in ${sample}`,
        );
      count('decode: ok');
    } catch (e) {
      if (!(e instanceof WeightsError)) assert.fail(`decode threw ${String(e)}; ${sample}`);
      count('decode: refused');
    }
    if (n % 4 === 0) {
      writeFileSync(file, bytes);
      try {
        const c = await loadCheckpoint(file);
        for (const v of Object.values(c.position)) assert.ok(Number.isFinite(v), sample);
        assert.ok(Number.isSafeInteger(c.optimizer.step), sample);
        count('checkpoint: ok');
      } catch (e) {
        if (!(e instanceof CheckpointError)) assert.fail(`loadCheckpoint threw ${String(e)}; ${sample}`);
        count('checkpoint: refused');
      }
    }
    assert.ok(Date.now() - t0 < SLOW_CALL_MS, `slow: ${sample}`);
    n++;
  }
  t.diagnostic(`${n} samples: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  assert.ok(n > 200, `only ${n} samples`);
  assert.ok((outcomes.get('decode: ok') ?? 0) > 0 && (outcomes.get('decode: refused') ?? 0) > 0);
  assert.ok((outcomes.get('checkpoint: refused') ?? 0) > 0);
});

const LOCATIONS = [
  'data.bin',
  'sub/../data.bin',
  '../data.bin',
  '../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\win.ini',
  '\\\\server\\share\\x',
  '..\\data.bin',
  '%2e%2e/data.bin',
  'a\0b',
  'link-out.bin',
  '.',
  '',
  'x'.repeat(5000),
];

function mutateTensor(r: Random, t: TensorProto): void {
  const kind = randomInt(r, 6);
  if (kind === 0) t.dims = (t.dims ?? []).map((d) => (r() < 0.4 ? pick(r, [0, -1, 2 ** 31, 2 ** 40, 7]) : d));
  else if (kind === 1) t.dataType = randomInt(r, 22);
  else if (kind === 2 && t.rawData) t.rawData = t.rawData.subarray(0, randomInt(r, t.rawData.length + 1));
  else if (kind === 3) t.floatData = Array.from({ length: randomInt(r, 8) }, () => r());
  else {
    t.dataLocation = DataLocation.EXTERNAL;
    t.rawData = new Uint8Array(0);
    t.externalData = [
      { key: 'location', value: pick(r, LOCATIONS) },
      ...(r() < 0.5 ? [{ key: 'offset', value: pick(r, ['0', '4', '-1', '99999999999999999', 'x']) }] : []),
      ...(r() < 0.5 ? [{ key: 'length', value: pick(r, ['0', '8', String(2 ** 52), '1e3']) }] : []),
    ];
  }
}

test(
  'fuzz: the ONNX reader with structure-aware mutations, confined to the model folder',
  { timeout: 60_000 },
  (t) => {
    const base = testSeed();
    t.diagnostic(`seed ${base} (ATTNVGG_TEST_SEED=${base} repeats this run)`);
    const seed = base ^ 0x5bd1e995; // a stream of its own, apart from the safetensors fuzzer's
    const r = seededRandom(seed);
    const spec = { ...SMALL_SPEC, width: 1 / 512 };
    const good = exportOnnx(spec, testWeights(spec, 3), { classes: '["a","b","c"]' });
    const folder = join(dir, 'model');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'data.bin'), new Uint8Array(4096));
    writeFileSync(join(dir, 'outside.bin'), new Uint8Array(4096));
    try {
      symlinkSync(join(dir, 'outside.bin'), join(folder, 'link-out.bin'));
    } catch {
      // a second run in the same folder
    }
    const asked: string[] = [];
    const inner = folderExternalData(folder);
    const source: ExternalDataSource = {
      read(ref) {
        asked.push(ref.location);
        return inner.read(ref);
      },
    };
    const outcomes = new Map<string, number>();
    const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const start = Date.now();
    let n = 0;
    while (Date.now() - start < BUDGET_MS) {
      const model = decodeModel(Uint8Array.from(good));
      const inits = model.graph?.initializer ?? [];
      for (let k = 1 + randomInt(r, 3); k > 0; k--) mutateTensor(r, pick(r, inits));
      if (r() < 0.2 && model.graph?.node?.length)
        pick(r, model.graph.node).opType = pick(r, ['', 'Loop', 'X']);
      let bytes: Uint8Array;
      try {
        bytes = encodeModel(model);
      } catch {
        count('not encodable');
        n++;
        continue;
      }
      asked.length = 0;
      const t0 = Date.now();
      try {
        readOnnx(bytes, { externalData: source });
        count('ok');
      } catch (e) {
        if (!(e instanceof OnnxError)) assert.fail(`sample ${n} of seed ${base} threw ${String(e)}`);
        count(e.kind);
      }
      for (const location of asked) {
        const rel = relative(folder, join(folder, location));
        assert.ok(rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel), `asked for ${location}`);
      }
      assert.ok(Date.now() - t0 < SLOW_CALL_MS, `sample ${n} was slow`);
      n++;
    }
    t.diagnostic(`${n} samples: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.ok(n > 50, `only ${n} samples`);
    assert.ok((outcomes.get('external-data') ?? 0) > 0, 'external-data refusals seen');
  },
);
