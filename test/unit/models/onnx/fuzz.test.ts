// A bounded, seeded fuzz loop: mutated bytes of valid small exports go through readOnnx and
// importAttnVggOnnx, which must either succeed or throw an OnnxError: never another exception, never a
// hang (each call is timed; the test has a timeout). Mutations favour the protobuf structure over the
// weight bytes, where a change only alters a number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSpec } from '../../../../models/core/spec.js';
import { createRandom, type Random } from '../../../../models/core/random.js';
import { exportOnnx } from '../../../../models/onnx/export.js';
import { importAttnVggOnnx, readOnnx } from '../../../../models/onnx/import.js';
import { OnnxError } from '../../../../models/onnx/errors.js';
import { decodeModel } from '../../../../models/onnx/proto.js';
import { SMALL_SPEC, testWeights } from './onnx-fixtures.js';

const BUDGET_MS = 3000;
const SLOW_CALL_MS = 1000;

/** Byte positions outside the weights' raw_data (decodeModel's byte fields are views into the input). */
function structurePositions(bytes: Uint8Array): number[] {
  const inRaw = new Uint8Array(bytes.length);
  for (const t of decodeModel(bytes).graph?.initializer ?? [])
    if (t.rawData)
      inRaw.fill(
        1,
        t.rawData.byteOffset - bytes.byteOffset,
        t.rawData.byteOffset - bytes.byteOffset + t.rawData.length,
      );
  return [...inRaw.keys()].filter((i) => inRaw[i] === 0);
}

function mutate(bytes: Uint8Array, structure: number[], r: Random): Uint8Array {
  const at = () => (r.next() < 0.8 ? structure[r.int(structure.length)] : r.int(bytes.length));
  const out = Array.from(bytes);
  const kind = r.int(6);
  if (kind === 0) for (let k = 1 + r.int(8); k > 0; k--) out[at()] = r.int(256);
  else if (kind === 1) out.length = r.int(bytes.length);
  else if (kind === 2) out.splice(at(), 0, ...Array.from({ length: 1 + r.int(16) }, () => r.int(256)));
  else if (kind === 3) out.splice(at(), 1 + r.int(32));
  else if (kind === 4)
    out.splice(at(), 5, 0xff, 0xff, 0xff, 0xff, 0x0f); // a huge length or value
  else {
    const from = at();
    out.splice(at(), 0, ...out.slice(from, from + 1 + r.int(64)));
  }
  return Uint8Array.from(out);
}

const specs: ModelSpec[] = [
  { ...SMALL_SPEC, width: 1 / 512 }, // one channel everywhere: a few kilobytes, mostly structure
  { ...SMALL_SPEC, compatibility: 'dp', normalisation: 'sigmoid' },
];

test(
  'mutated exports give a model or an OnnxError, never another exception or a hang',
  { timeout: 60_000 },
  (t) => {
    const r = createRandom(2024);
    const seeds = specs.map((spec) => {
      const bytes = exportOnnx(spec, testWeights(spec, 9), { classes: '["a","b","c"]' });
      return { bytes, structure: structurePositions(bytes) };
    });
    const outcomes = new Map<string, number>();
    const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const start = Date.now();
    let n = 0;
    while (Date.now() - start < BUDGET_MS) {
      const seed = seeds[n % seeds.length];
      const bytes = mutate(seed.bytes, seed.structure, r);
      for (const [step, run] of [
        ['read', () => readOnnx(bytes)],
        ['import', () => importAttnVggOnnx(bytes)],
      ] as const) {
        const t0 = Date.now();
        try {
          run();
          count(`${step}: ok`);
        } catch (e) {
          if (!(e instanceof OnnxError)) {
            const hex = Buffer.from(bytes).toString('hex');
            assert.fail(`sample ${n} (${step}) threw ${String(e)}; bytes: ${hex.slice(0, 4000)}`);
          }
          count(`${step}: ${e.kind}`);
        }
        const ms = Date.now() - t0;
        assert.ok(ms < SLOW_CALL_MS, `sample ${n} (${step}) took ${ms} ms`);
      }
      n += 1;
    }
    t.diagnostic(`${n} mutated files: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.ok(n > 100, `only ${n} samples in ${BUDGET_MS} ms`);
    assert.ok(
      (outcomes.get('read: malformed') ?? 0) > 0 && (outcomes.get('read: ok') ?? 0) > 0,
      'both outcomes seen',
    );
  },
);
