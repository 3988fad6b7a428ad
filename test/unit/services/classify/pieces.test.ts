// The small parts of classification: .npy files numpy can read, the CSV quoting, sorting into label
// folders without overwriting, and the list of input files (walk order, keys, exclusions, junk).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InputError,
  collectInputFiles,
  encodeNpyFloat32,
  labelFolderName,
  resultsCsv,
  sortFile,
  type ClassifyResults,
} from '../../../../main/services/classify/index.js';
import { pythonMissing, runPython } from '../../../helpers/python.js';
import { skipOrFail } from '../../../helpers/skip-or-fail.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-classify-pieces-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('.npy: header layout, and numpy reads the values back', async (t) => {
  const data = Float32Array.from({ length: 6 }, (_, i) => i / 7 - 0.25);
  const bytes = encodeNpyFloat32([2, 3], data);
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0x93, 78, 85, 77, 80, 89, 1, 0]);
  const headerLength = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + headerLength) % 64, 0);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
  assert.throws(() => encodeNpyFloat32([4], data), RangeError);
  const missing = skipOrFail(pythonMissing(['numpy']));
  if (missing) return t.skip(missing);
  const path = join(dir, 'a.npy');
  await writeFile(path, bytes);
  const out = JSON.parse(
    runPython([
      '-c',
      `import numpy, json; a = numpy.load(${JSON.stringify(path)}); print(json.dumps([list(a.shape), str(a.dtype), a.flatten().tolist()]))`,
    ]),
  ) as [number[], string, number[]];
  assert.deepEqual(out[0], [2, 3]);
  assert.equal(out[1], 'float32');
  out[2].forEach((v, i) => assert.equal(v, data[i]));
});

test('CSV: header with top-k columns, RFC 4180 quoting, empty cells for failures', () => {
  const results = {
    settings: { topK: 2 },
    results: [
      {
        file: 'a,b "c".png',
        path: '/x',
        status: 'ok',
        label: 'cat',
        uncertain: false,
        top: [
          { label: 'cat', probability: 0.75 },
          { label: 'dog', probability: 0.25 },
        ],
        ms: 1.23456,
        overlay: 'heatmaps/a.png',
        bytes: 1,
        mtimeMs: 1,
      },
      {
        file: 'bad.jpg',
        path: '/y',
        status: 'failed',
        label: null,
        uncertain: false,
        top: [],
        ms: 0.5,
        error: { reason: 'truncated', message: 'The JPEG file ends early.\nCopy it again.' },
        bytes: 1,
        mtimeMs: 1,
      },
    ],
  } as unknown as ClassifyResults;
  const lines = resultsCsv(results).split('\r\n');
  assert.equal(lines[0], 'file,status,label,top1,p1,top2,p2,ms,overlay,sorted_to,error_reason,error');
  assert.equal(lines[1], '"a,b ""c"".png",ok,cat,cat,0.75,dog,0.25,1.23,heatmaps/a.png,,,');
  // Records end in CRLF; a line break inside a field stays inside its quotes.
  assert.equal(lines[2], 'bad.jpg,failed,,,,,,0.5,,,truncated,"The JPEG file ends early.\nCopy it again."');
  assert.equal(lines.length, 4);
  assert.equal(lines[3], '');
});

test('sorting: copies or links into <label>/, never overwriting', async () => {
  const source = join(dir, 'src');
  await mkdir(join(source, 'x'), { recursive: true });
  await writeFile(join(source, 'p.png'), 'one');
  await writeFile(join(source, 'x', 'p.png'), 'two');
  const root = join(dir, 'sorted');
  const first = await sortFile(join(source, 'p.png'), root, 'cat', 'copy');
  const second = await sortFile(join(source, 'x', 'p.png'), root, 'cat', 'copy');
  assert.equal(first, join(root, 'cat', 'p.png'));
  assert.equal(second, join(root, 'cat', 'p (2).png'));
  assert.equal(await readFile(second, 'utf8'), 'two');
  const linked = await sortFile(join(source, 'p.png'), root, 'dog', 'link');
  assert.ok((await lstat(linked)).isSymbolicLink());
  assert.equal(await readlink(linked), join(source, 'p.png'));
  assert.equal(labelFolderName('a/b'), 'a_b');
  assert.equal(labelFolderName('..'), '_');
  assert.equal(labelFolderName('T-shirt/top: "x"?'), 'T-shirt_top_ _x__');
});

test('input files: sorted keys per input, prefixes for several inputs, junk and output folders left out', async () => {
  const a = join(dir, 'inputs', 'photos');
  await mkdir(join(a, 'sub'), { recursive: true });
  await mkdir(join(a, 'out', 'heatmaps'), { recursive: true });
  for (const f of [
    'b.png',
    'a.jpg',
    'sub/c.png',
    '.hidden.png',
    'Thumbs.db',
    'out/results.csv',
    'out/heatmaps/a.jpg.png',
  ])
    await writeFile(join(a, f), 'x');
  const single = join(dir, 'inputs', 'one.png');
  await writeFile(single, 'x');
  const found = await collectInputFiles([a], [join(a, 'out')]);
  assert.deepEqual(
    found.files.map((f) => f.key),
    ['a.jpg', 'b.png', 'sub/c.png'],
  );
  assert.equal(found.files[2].file, join(a, 'sub', 'c.png'));
  assert.deepEqual(found.problems.map((p) => [p.reason, p.ignorable]).sort(), [
    ['hidden', true],
    ['system-file', true],
  ]);
  const both = await collectInputFiles([a, single, single], [join(a, 'out')]);
  assert.deepEqual(
    both.files.map((f) => f.key),
    ['photos/a.jpg', 'photos/b.png', 'photos/sub/c.png', 'one.png', 'one.png~2'],
  );
  await assert.rejects(
    collectInputFiles([join(dir, 'nope')]),
    (e: unknown) => e instanceof InputError && /does not exist/.test(String(e)),
  );
  await assert.rejects(collectInputFiles([]), InputError);
});
