// The pieces of classification at scale without a model: --files-from lists (blank lines, CRLF, standard
// input, output keys), --shard parsing and sizes, the stable walk of folders, result rows read back
// (a cut last line left out, a damaged middle line refused), a resumed run killed before its end put
// back together, and the earlier rows taken in step with the input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  ResultsError,
  collectInputFiles,
  openInputs,
  parseShard,
  planInputs,
  readFileList,
  readRows,
  type ImageResult,
} from '../../../../main/services/classify/index.js';
import { listedKey } from '../../../../main/services/classify/file-list.js';
import {
  EarlierRows,
  ResultWriter,
  recoverInterruptedResume,
} from '../../../../main/services/classify/result-files.js';
import { shardSize } from '../../../../main/services/classify/shard.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-result-files-'));
});
after(() => rm(dir, { recursive: true, force: true }));

function row(index: number, label = 'cat'): ImageResult {
  return {
    index,
    file: `f${index}.png`,
    path: `/p/f${index}.png`,
    status: 'ok',
    label,
    uncertain: false,
    top: [{ label, probability: 0.9 }],
    ms: 1,
    bytes: 10,
    mtimeMs: 1,
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

test('a list: blank lines take no number, CRLF is accepted, standard input works, keys stay inside', async () => {
  const list = join(dir, 'list.txt');
  await writeFile(list, 'a/one.png\r\n\r\n  \n/abs/two.png\n../up/three.png');
  const reader = readFileList(list);
  const entries = await collect(reader.entries);
  assert.deepEqual(
    entries.map((e) => (e.kind === 'file' ? [e.file.file, e.file.path, e.file.key] : null)),
    [
      ['a/one.png', resolve('a/one.png'), 'a/one.png'],
      ['/abs/two.png', '/abs/two.png', 'abs/two.png'],
      ['../up/three.png', resolve('../up/three.png'), '__/up/three.png'],
    ],
  );
  assert.match(reader.sha256() ?? '', /^[0-9a-f]{64}$/);
  const fromStdin = readFileList('-', Readable.from(['a/one.png\n/abs/', 'two.png\n../up/three.png\n']));
  assert.equal((await collect(fromStdin.entries)).length, 3);
  assert.equal(fromStdin.sha256(), reader.sha256(), 'the same lines, the same digest');
  assert.equal(listedKey('C:\\data\\x.jpg'), 'C_/data/x.jpg');
});

test('shards: K/N parsed with plain errors; sizes add up; a shard gets input i when i mod N = K', async () => {
  assert.deepEqual(parseShard('2/5'), { index: 2, count: 5 });
  assert.throws(() => parseShard('5/5'), /less than 5/);
  assert.throws(() => parseShard('1-3'), /expects K\/N/);
  assert.throws(() => parseShard('0/0'), /at least 1/);
  for (const total of [0, 1, 7, 10])
    assert.equal(
      [0, 1, 2].reduce((sum, k) => sum + shardSize(total, k, 3, null), 0),
      total,
    );
  assert.equal(shardSize(10, 0, 3, 2), 2);
  const list = join(dir, 'ten.txt');
  await writeFile(list, Array.from({ length: 10 }, (_, i) => `x${i}.png`).join('\n'));
  const input = openInputs({ list }, [], { index: 1, count: 3 }, null);
  const items = await collect(input.items);
  assert.deepEqual(
    items.map((i) => (i.kind === 'skipped' ? -1 : i.index)),
    [1, 4, 7],
  );
  assert.equal(input.record().total, 10);
  const limited = openInputs({ list }, [], { index: 1, count: 3 }, 2);
  assert.equal((await collect(limited.items)).length, 2);
  assert.equal(limited.record().total, null, 'stopped early: the total is not known');
  assert.deepEqual((await planInputs({ list }, [], 3, null)).shards, [
    { shard: 0, files: 4 },
    { shard: 1, files: 3 },
    { shard: 2, files: 3 },
  ]);
});

test('folders are walked in the order of their relative paths, whatever the listing order', async () => {
  const root = join(dir, 'tree');
  for (const sub of ['a', 'a/b', 'c']) await mkdir(join(root, sub), { recursive: true });
  for (const f of ['a.jpg', 'a/z.jpg', 'a/b/y.jpg', 'a-b.jpg', 'c/x.jpg', 'b.jpg', '.hidden.jpg'])
    await writeFile(join(root, f), 'x');
  const { files, problems } = await collectInputFiles([root]);
  const keys = files.map((f) => f.key);
  assert.deepEqual(keys, [...keys].sort(), 'string order of the keys');
  assert.deepEqual(keys, ['a-b.jpg', 'a.jpg', 'a/b/y.jpg', 'a/z.jpg', 'b.jpg', 'c/x.jpg']);
  assert.deepEqual(
    problems.map((p) => p.reason),
    ['hidden'],
  );
});

test('rows read back one by one: a cut last line is left out, a damaged line elsewhere is refused', async () => {
  const out = join(dir, 'rows');
  await mkdir(out);
  const writer = await ResultWriter.create(out, 1, false);
  await writer.append([row(0), row(1, 'dog')]);
  await writer.finish();
  assert.deepEqual(writer.counts.byLabel, { cat: 1, dog: 1 });
  const path = join(out, 'results.jsonl');
  const csv = await readFile(join(out, 'results.csv'), 'utf8');
  assert.equal(csv.split('\r\n').length, 4, 'header, two rows, final line break');
  await writeFile(path, `${await readFile(path, 'utf8')}{"index": 2, "fi`);
  assert.deepEqual(
    (await collect(readRows(path))).map((r) => r.index),
    [0, 1],
  );
  await writeFile(path, `${JSON.stringify(row(0))}\nnot json\n${JSON.stringify(row(2))}\n`);
  await assert.rejects(
    collect(readRows(path)),
    (e: unknown) => e instanceof ResultsError && /Line 2 of/.test(String(e)),
  );
});

test('a resumed run killed before its end is put back together: its rows, then the earlier ones after them', async () => {
  const out = join(dir, 'recover');
  await mkdir(out);
  const earlier = await ResultWriter.create(out, 1, false);
  await earlier.append([0, 1, 2, 3, 4, 5].map((i) => row(i)));
  await earlier.finish();
  const next = await ResultWriter.create(out, 1, true); // the resumed run: rows 0-2 redone as 'dog'
  await next.append([0, 1, 2].map((i) => row(i, 'dog')));
  await next.close(); // killed: results.jsonl.next left behind
  await writeFile(
    join(out, 'results.jsonl.next'),
    `${await readFile(join(out, 'results.jsonl.next'), 'utf8')}{"ind`,
  );
  await recoverInterruptedResume(out, 1);
  const rows = await collect(readRows(join(out, 'results.jsonl')));
  assert.deepEqual(
    rows.map((r) => [r.index, r.label]),
    [
      [0, 'dog'],
      [1, 'dog'],
      [2, 'dog'],
      [3, 'cat'],
      [4, 'cat'],
      [5, 'cat'],
    ],
  );
  const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\r\n');
  assert.equal(csv.length, 7);
  await assert.rejects(readFile(join(out, 'results.jsonl.next')), 'the .next file is gone');
});

test('earlier rows are taken in step with the input: the matching one, those the input skipped, the rest', async () => {
  const out = join(dir, 'earlier');
  await mkdir(out);
  const writer = await ResultWriter.create(out, 1, false);
  await writer.append([0, 2, 3, 7, 9].map((i) => row(i)));
  await writer.finish();
  const earlier = new EarlierRows(out);
  const at = async (i: number): Promise<[number[], number | null]> => {
    const { before, row: r } = await earlier.upTo(i);
    return [before.map((b) => b.index), r?.index ?? null];
  };
  assert.deepEqual(await at(0), [[], 0]);
  assert.deepEqual(await at(1), [[], null]);
  assert.deepEqual(await at(3), [[2], 3]);
  assert.deepEqual(
    (await earlier.more(10)).map((r) => r.index),
    [7, 9],
  );
  await earlier.close();
});
