// Classification as an array job: three shards run as separate `attnvgg classify --shard K/3`
// processes and merged equal one unsharded run row for row (heat-maps included); a shard killed half-way
// resumes and the merge is the same; merges that cannot be right are refused with what is wrong (a
// missing shard, a shard of another model, overlapping shards, other options, inputs left out by
// --limit); a list of 1,000,000 lines is planned and classified with --limit in bounded memory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  MergeError,
  mergeShards,
  readSummary,
  type ImageResult,
} from '../../../main/services/classify/index.js';
import { exportRun } from '../../../main/services/export/index.js';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import { makeRandomRun, TINY_SPEC } from '../../unit/services/export/run-fixture.js';
import { cli } from '../../helpers/cli.js';

const CLI = resolve('main/cli/main.ts');
/** The same command, reporting its peak memory (process.resourceUsage) on stderr at the end. */
const CLI_RSS = resolve('test/integration/classify/cli-rss-child.ts');
let dir = '';
let model = '';
let otherModel = '';
let list = '';
/** Listed paths: the pictures, an unreadable line, and some pictures listed twice. */
let lines: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-scale-out-'));
  const classes = ['circle', 'square', 'triangle'];
  await makeRandomRun(join(dir, 'run'), TINY_SPEC, classes);
  model = (await exportRun(join(dir, 'run'), join(dir, 'model.onnx'))).modelPath;
  await makeRandomRun(join(dir, 'run-b'), TINY_SPEC, classes);
  otherModel = (await exportRun(join(dir, 'run-b'), join(dir, 'other.onnx'))).modelPath;
  await generateShapesDataset(join(dir, 'shapes'), {
    classes: 3,
    size: 40,
    counts: { train: 4, val: 0, test: 0 },
    seed: 7,
  });
  const pictures: string[] = [];
  for (const c of classes)
    for (const f of (await readdir(join(dir, 'shapes', 'train', c))).sort())
      pictures.push(join(dir, 'shapes', 'train', c, f));
  lines = [...pictures, join(dir, 'missing.png'), ...pictures.slice(0, 5)];
  list = join(dir, 'list.txt');
  // Blank lines and CRLF line ends are part of real lists: blank lines take no number.
  await writeFile(list, `${lines.slice(0, 4).join('\r\n')}\r\n\r\n${lines.slice(4).join('\n')}\n`);
});
after(() => rm(dir, { recursive: true, force: true }));

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `attnvgg ...args` in a process of its own (reporting its peak memory when `timed`). */
function run(
  args: string[],
  opts: { timed?: boolean; killWhen?: () => Promise<boolean> } = {},
): Promise<Child> {
  const [command, ...rest] = [process.execPath, '--import', 'tsx', opts.timed ? CLI_RSS : CLI, ...args];
  const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  let watching = true;
  if (opts.killWhen) {
    const poll = async (): Promise<void> => {
      while (watching) {
        if (await opts.killWhen?.()) {
          child.kill('SIGKILL');
          return;
        }
        await new Promise((r) => setTimeout(r, 15));
      }
    };
    void poll();
  }
  return new Promise((done) =>
    child.on('close', (code, signal) => {
      watching = false;
      done({ code, signal, stdout, stderr });
    }),
  );
}

async function rows(folder: string): Promise<ImageResult[]> {
  const text = await readFile(join(folder, 'results.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ImageResult);
}

/** A row without what depends on where and when it ran (time, output folder, batch rounding). */
function comparable(r: ImageResult): unknown {
  return {
    index: r.index,
    file: r.file,
    status: r.status,
    label: r.label,
    top: r.top.map((t) => t.label),
    error: r.error?.reason,
  };
}

/** Row for row: the same files, labels and reasons, and probabilities within float rounding. */
function assertSameRows(got: readonly ImageResult[], expected: readonly ImageResult[]): void {
  assert.deepEqual(got.map(comparable), expected.map(comparable));
  got.forEach((r, i) =>
    r.top.forEach((t, k) => assert.ok(Math.abs(t.probability - expected[i].top[k].probability) < 1e-5)),
  );
}

const shardArgs = (k: number, out: string, extra: string[] = []): string[] => [
  'classify',
  model,
  '--files-from',
  list,
  '--shard',
  `${k}/3`,
  '--out',
  out,
  '--heatmaps',
  '--threads',
  '1',
  '--batch',
  '2',
  ...extra,
];

let whole: ImageResult[] = [];

test('three shards in separate processes, merged, equal one unsharded run row for row', async () => {
  const single = await run([
    'classify',
    model,
    '--files-from',
    list,
    '--out',
    join(dir, 'whole'),
    '--heatmaps',
    '--threads',
    '1',
  ]);
  assert.equal(single.code, 0, single.stderr);
  whole = await rows(join(dir, 'whole'));
  assert.equal(whole.length, lines.length, 'one row per non-blank line');
  assert.deepEqual(
    whole.map((r) => r.index),
    lines.map((_, i) => i),
  );
  assert.equal(whole.find((r) => r.file.endsWith('missing.png'))?.status, 'failed');

  const shards = await Promise.all([0, 1, 2].map((k) => run(shardArgs(k, join(dir, `shard-${k}`)))));
  for (const s of shards) assert.equal(s.code, 0, s.stderr);
  for (const k of [0, 1, 2]) {
    const own = await rows(join(dir, `shard-${k}`));
    assert.ok(own.length > 0 && own.every((r) => r.index % 3 === k), `shard ${k} holds only its own inputs`);
    const summary = await readSummary(join(dir, `shard-${k}`));
    assert.deepEqual(summary?.input.shard, { index: k, count: 3 });
    assert.match(summary?.model.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(summary?.input.total, lines.length);
  }
  const merged = await cli(
    'classify',
    'merge',
    join(dir, 'merged'),
    ...[2, 0, 1].map((k) => join(dir, `shard-${k}`)),
  );
  assert.equal(merged.code, 0, merged.err);
  const joined = await rows(join(dir, 'merged'));
  assertSameRows(joined, whole);
  assert.ok(joined.every((r) => (r.status === 'ok') === (r.overlay !== undefined)));
  // The merged rows point at the shards' overlays.
  for (const r of joined.filter((x) => x.overlay))
    await stat(join(dir, 'merged', ...(r.overlay ?? '').split('/')));
  const csv = (await readFile(join(dir, 'merged', 'results.csv'), 'utf8')).trim().split('\r\n');
  assert.equal(csv.length, lines.length + 1);
  const summary = await readSummary(join(dir, 'merged'));
  assert.equal(summary?.summary.images, lines.length);
  assert.equal(summary?.mergedFrom?.length, 3);
});

test('a shard killed half-way resumes where it stopped, and ends as an uninterrupted shard', async () => {
  // A longer list (the same pictures 20 times over), so that the kill lands half-way.
  const longList = join(dir, 'long.txt');
  await writeFile(longList, `${Array.from({ length: 20 }, () => lines.join('\n')).join('\n')}\n`);
  const args = (out: string, extra: string[] = []): string[] => [
    'classify',
    model,
    '--files-from',
    longList,
    '--shard',
    '1/3',
    '--out',
    out,
    '--threads',
    '1',
    ...extra,
  ];
  const plain = await run(args(join(dir, 'long-plain')));
  assert.equal(plain.code, 0, plain.stderr);
  const expected = await rows(join(dir, 'long-plain'));
  const out = join(dir, 'killed-1');
  const first = await run(args(out, ['--heatmaps', '--batch', '1']), {
    killWhen: async () => {
      const text = await readFile(join(out, 'results.jsonl'), 'utf8').catch(() => '');
      return text.split('\n').length > 3; // at least three rows written
    },
  });
  assert.equal(first.signal, 'SIGKILL', `the shard finished before it could be killed: ${first.stderr}`);
  const before = await rows(out);
  assert.ok(before.length < expected.length, `${before.length} of ${expected.length} rows before the kill`);
  // A write cut short by the kill leaves a partial last line: resume leaves it out.
  await appendFile(join(out, 'results.jsonl'), '{"index": 99, "file": "cut sho');
  const refused = await cli('classify', 'merge', join(dir, 'merged-too-soon'), join(dir, 'shard-0'), out);
  assert.notEqual(refused.code, 0);
  assert.match(refused.err, /not finished .*--resume/);
  const resumed = await run(args(out, ['--heatmaps', '--resume', '--json']));
  assert.equal(resumed.code, 0, resumed.stderr);
  const events = resumed.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; resumed?: number });
  const last = events.filter((e) => e.type === 'progress').at(-1);
  assert.ok((last?.resumed ?? 0) >= before.length - 1, `rows of the killed run kept: ${last?.resumed}`);
  assertSameRows(await rows(out), expected);
  assert.equal((await readSummary(out))?.complete, true);
});

test('merges that cannot be right are refused, saying what is wrong', async () => {
  const refuse = async (dirs: string[], pattern: RegExp): Promise<void> => {
    const target = join(dir, `refused-${Math.random().toString(36).slice(2)}`);
    await assert.rejects(
      mergeShards(target, dirs),
      (e: unknown) => e instanceof MergeError && pattern.test(e.message),
    );
    assert.equal(existsSync(join(target, 'results.jsonl')), false, 'nothing is left behind');
  };
  const s = (k: number): string => join(dir, `shard-${k}`);
  await refuse([s(0), s(2)], /Shard 1\/3 is missing/);
  await refuse([s(0), s(1), s(1), s(2)], /Shard 1\/3 is given twice .*overlap/);
  // A shard of another model.
  const other = join(dir, 'other-1');
  const withOther = await run(['classify', otherModel, ...shardArgs(1, other).slice(2)]);
  assert.equal(withOther.code, 0, withOther.stderr);
  await refuse([s(0), other, s(2)], /model file differs/);
  // Other options.
  const topK = join(dir, 'topk-1');
  assert.equal((await run(shardArgs(1, topK, ['--top-k', '1']))).code, 0);
  await refuse([s(0), topK, s(2)], /topK: 3 .*, 1 /);
  // Overlapping splits: shard 0 of 2 holds inputs of shards 0 and 2 of 3.
  const half = join(dir, 'half-0');
  assert.equal(
    (await run([...shardArgs(0, half).slice(0, 5), '0/2', ...shardArgs(0, half).slice(6)])).code,
    0,
  );
  await refuse([s(0), s(1), half], /different splits overlap/);
  // Inputs left out by --limit: named with their lines.
  const limited = join(dir, 'limited-1');
  assert.equal((await run(shardArgs(1, limited, ['--limit', '2']))).code, 0);
  await refuse(
    [s(0), limited, s(2)],
    new RegExp(`no result in any shard: input 7 \\(${lines[7].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`),
  );
  // Resume refuses other options instead of mixing rows.
  const again = await run(shardArgs(1, s(1), ['--resume', '--top-k', '2']));
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /made differently \(topK: 3 there, 2 now\)/);
});

test('a list of 1,000,000 lines: --plan and --limit stay within a memory bound', async (t) => {
  const big = join(dir, 'million.txt');
  const small = join(dir, 'thousand.txt');
  const picture = lines[0];
  const line = (i: number): string =>
    i % 1000 < 5 ? picture : join(dir, 'nowhere', `picture-${String(i).padStart(7, '0')}.png`);
  const write = async (path: string, n: number): Promise<void> => {
    await writeFile(path, '');
    for (let start = 0; start < n; start += 100_000) {
      const chunk = Array.from({ length: Math.min(100_000, n - start) }, (_, j) => line(start + j));
      await appendFile(path, `${chunk.join('\n')}\n`);
    }
  };
  await write(big, 1_000_000);
  await write(small, 1_000);
  const peakMb = (child: Child): number => {
    const kb = /\{"maxRssKb":(\d+)\}\s*$/.exec(child.stderr);
    assert.ok(kb, `no peak memory in: ${child.stderr.slice(-500)}`);
    return Number(kb[1]) / 1024;
  };
  const plan = await run(['classify', model, '--files-from', big, '--shard', '0/3', '--plan', '--json'], {
    timed: true,
  });
  assert.equal(plan.code, 0, plan.stderr);
  const planned = JSON.parse(plan.stdout.trim().split('\n')[0]) as {
    total: number;
    shards: { files: number }[];
  };
  assert.equal(planned.total, 1_000_000);
  assert.deepEqual(
    planned.shards.map((s) => s.files),
    [333_334, 333_333, 333_333],
  );
  const planSmall = await run(['classify', model, '--files-from', small, '--shard', '0/3', '--plan'], {
    timed: true,
  });
  const limitArgs = (from: string, out: string): string[] => [
    'classify',
    model,
    '--files-from',
    from,
    '--shard',
    '2/3',
    '--limit',
    '20',
    '--out',
    out,
    '--threads',
    '1',
  ];
  const limited = await run(limitArgs(big, join(dir, 'million-out')), { timed: true });
  assert.equal(limited.code, 0, limited.stderr);
  const got = await rows(join(dir, 'million-out'));
  assert.deepEqual(
    got.map((r) => r.index),
    Array.from({ length: 20 }, (_, i) => 2 + 3 * i),
  );
  const limitedSmall = await run(limitArgs(small, join(dir, 'thousand-out')), { timed: true });
  assert.equal(limitedSmall.code, 0, limitedSmall.stderr);
  const mb = {
    plan: peakMb(plan),
    planSmall: peakMb(planSmall),
    limit: peakMb(limited),
    limitSmall: peakMb(limitedSmall),
  };
  t.diagnostic(
    `peak RSS (MB): ${JSON.stringify(Object.fromEntries(Object.entries(mb).map(([k, v]) => [k, Math.round(v)])))}`,
  );
  // The bound: a million lines cost at most 50 MB more than a thousand (the list is 60 MB of text; held
  // as rows of paths it would take several times that), and each run stays under 400 MB.
  assert.ok(
    mb.plan - mb.planSmall < 50,
    `--plan: ${mb.plan} MB with 1,000,000 lines, ${mb.planSmall} MB with 1,000`,
  );
  assert.ok(
    mb.limit - mb.limitSmall < 50,
    `--limit: ${mb.limit} MB with 1,000,000 lines, ${mb.limitSmall} MB with 1,000`,
  );
  for (const [what, v] of Object.entries(mb)) assert.ok(v < 400, `${what}: ${v} MB`);
  await rm(big);
});

test('a folder is split by its stable walk; --plan needs no --out', async () => {
  const folder = join(dir, 'shapes', 'train');
  const plan = await cli('classify', model, folder, '--shard', '0/4', '--plan');
  assert.equal(plan.code, 0, plan.err);
  assert.match(
    plan.out,
    /^12 files to classify\nshard 0\/4: 3 files\nshard 1\/4: 3 files\nshard 2\/4: 3 files\nshard 3\/4: 3 files\n$/,
  );
  const out = join(dir, 'folder-shard');
  await mkdir(out);
  const one = await cli('classify', model, folder, '--shard', '3/4', '--out', out, '--threads', '1');
  assert.equal(one.code, 0, one.err);
  const got = await rows(out);
  assert.deepEqual(
    got.map((r) => r.index),
    [3, 7, 11],
  );
  const wholeFolder = await cli(
    'classify',
    model,
    folder,
    '--out',
    join(dir, 'folder-whole'),
    '--threads',
    '1',
  );
  assert.equal(wholeFolder.code, 0);
  const all = await rows(join(dir, 'folder-whole'));
  assert.deepEqual(
    got.map((r) => r.path),
    [3, 7, 11].map((i) => all[i].path),
  );
  const bad = await cli('classify', model, folder, '--shard', '4/4', '--out', out);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /K counts from 0, so it must be less than 4/);
});
