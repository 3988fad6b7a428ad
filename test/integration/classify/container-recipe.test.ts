// The scale-out recipes of docs/scale-out.md, checked as far as this machine allows (no Docker, Slurm or
// Kubernetes here): deploy/Dockerfile is parsed (known instructions, official Node images, stages that
// exist, sources that exist and are not in .dockerignore, an `npm ci` + `npm run build` build stage and a
// production-only runtime stage) and its two stages are replayed with the files it copies: the build
// compiled into a folder of its own, the runtime's ENTRYPOINT running `classify` from the compiled
// dist/ (worker thread included). The Kubernetes manifest is parsed as YAML and its pod command runs
// here with $JOB_COMPLETION_INDEX set; the Slurm script passes `bash -n` and runs with the variables
// Slurm sets. Every shard then merges into one result set.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exportRun } from '../../../main/services/export/index.js';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import { makeRandomRun, TINY_SPEC } from '../../unit/services/export/run-fixture.js';

const ROOT = resolve('.');
const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');
const MANIFEST = join(ROOT, 'deploy', 'kubernetes', 'classify-indexed-job.yaml');
const SBATCH = join(ROOT, 'deploy', 'slurm', 'classify-array.sbatch');

/** Dockerfile instructions (https://docs.docker.com/reference/dockerfile/). */
const INSTRUCTIONS = new Set([
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

interface Instruction {
  line: number;
  name: string;
  args: string;
}

/** Instructions of a Dockerfile: comments and blank lines left out, '\' continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (pending === null && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending !== null && line.trimStart().startsWith('#')) return; // comment inside a continuation
    const joined: { line: number; text: string } = pending
      ? { line: pending.line, text: `${pending.text} ${line.trim()}` }
      : { line: i + 1, text: line.trim() };
    if (joined.text.endsWith('\\')) {
      pending = { line: joined.line, text: joined.text.slice(0, -1).trimEnd() };
      return;
    }
    pending = null;
    const match = /^(\S+)\s*(.*)$/.exec(joined.text);
    if (!match) throw new Error(`Dockerfile line ${joined.line}: cannot read "${joined.text}"`);
    out.push({ line: joined.line, name: match[1].toUpperCase(), args: match[2] });
  });
  assert.equal(pending, null, 'the Dockerfile ends inside a continued line');
  return out;
}

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    assert.ok(INSTRUCTIONS.has(ins.name), `line ${ins.line}: unknown instruction ${ins.name}`);
    if (ins.name === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(m, `line ${ins.line}: FROM <image> [AS <name>], got "${ins.args}"`);
      stages.push({ image: m[1], name: m[2] ?? String(stages.length), instructions: [] });
      continue;
    }
    assert.ok(stages.length > 0, `line ${ins.line}: ${ins.name} before the first FROM`);
    stages[stages.length - 1].instructions.push(ins);
  }
  return stages;
}

/** COPY's options, sources and destination. */
function copyParts(args: string): { from: string | null; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  let from: string | null = null;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() as string;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
  }
  const dest = words.pop() as string;
  return { from, sources: words, dest };
}

/** A command run to its end, with what it wrote. */
function run(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err += String(d)));
  // A command that exits before reading its input (a refusal) closes the pipe first: not an error here.
  child.stdin.on('error', () => {});
  child.stdin.end(opts.input ?? '');
  return new Promise((done) => child.on('close', (code) => done({ code, out, err })));
}

let dir = '';
let model = '';
let list = '';
const pictures: string[] = [];
/** The replayed image: its /app, inside the repository so that node_modules is found above it. */
let app = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-recipe-'));
  await makeRandomRun(join(dir, 'run'), TINY_SPEC, ['circle', 'square', 'triangle']);
  model = (await exportRun(join(dir, 'run'), join(dir, 'model.onnx'))).modelPath;
  await generateShapesDataset(join(dir, 'shapes'), {
    classes: 3,
    size: 32,
    counts: { train: 2, val: 0, test: 0 },
    seed: 3,
  });
  for (const c of ['circle', 'square', 'triangle'])
    for (const f of (await readdir(join(dir, 'shapes', 'train', c))).sort())
      pictures.push(join(dir, 'shapes', 'train', c, f));
  list = join(dir, 'list.txt');
  await writeFile(list, `${pictures.join('\n')}\n`);
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  app = await mkdtemp(join(ROOT, '.tmp', 'image-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  if (app) await rm(app, { recursive: true, force: true });
});

async function rowsOf(folder: string): Promise<{ index: number; file: string; status: string }[]> {
  const text = await readFile(join(folder, 'results.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { index: number; file: string; status: string });
}

let entrypoint: string[] = [];

test('the Dockerfile parses, and its build and runtime stages replayed here classify from dist/', async () => {
  const stages = stagesOf(parseDockerfile(await readFile(DOCKERFILE, 'utf8')));
  assert.deepEqual(
    stages.map((s) => s.name),
    ['build', 'runtime'],
  );
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    engines: { node: string };
    scripts: Record<string, string>;
  };
  const minimum = Number(/\d+/.exec(pkg.engines.node)?.[0]);
  for (const s of stages) {
    const m = /^node:(\d+)[\w.-]*$/.exec(s.image);
    assert.ok(m, `stage ${s.name}: the official Node image (node:<version>), got ${s.image}`);
    assert.ok(
      Number(m[1]) >= minimum,
      `stage ${s.name}: Node ${m[1]} is older than engines.node ${pkg.engines.node}`,
    );
  }
  const runs = (s: Stage): string =>
    s.instructions
      .filter((i) => i.name === 'RUN')
      .map((i) => i.args)
      .join(' && ');
  const [build, runtime] = stages;
  assert.match(runs(build), /npm ci\b/);
  assert.match(runs(build), /npm run build\b/);
  assert.match(runs(runtime), /npm ci --omit=dev\b/);
  const ignored = (await readFile(join(ROOT, '.dockerignore'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));

  // Replay: each stage's COPY into a folder of its own, the build's `npm run build`, the runtime's entrypoint.
  const buildDir = join(app, 'build');
  const runtimeDir = join(app, 'app');
  const folders: Record<string, string> = { build: buildDir, runtime: runtimeDir };
  for (const s of stages) {
    const here = folders[s.name];
    await mkdir(here, { recursive: true });
    for (const ins of s.instructions.filter((i) => i.name === 'COPY')) {
      const { from, sources, dest } = copyParts(ins.args);
      if (from !== null)
        assert.ok(from in folders && from !== s.name, `line ${ins.line}: no stage "${from}"`);
      for (const source of sources) {
        if (from === null)
          assert.ok(
            !ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)),
            `line ${ins.line}: ${source} is left out by .dockerignore`,
          );
        // Docker's rules: a folder's contents go into the destination; a file into a destination
        // ending in '/' keeps its name. Paths are relative to WORKDIR /app.
        const inApp = (p: string): string => p.replace(/^\/app\/?/, '').replace(/^\.\/?/, '');
        const origin = from === null ? join(ROOT, source) : join(folders[from], inApp(source));
        const target = join(here, inApp(dest), dest.endsWith('/') ? (source.split('/').pop() ?? '') : '');
        const isFolder = (await stat(origin)).isDirectory();
        await cp(origin, isFolder ? join(here, inApp(dest)) : target, { recursive: true });
      }
    }
    if (s.name === 'build') {
      const [tool, ...args] = pkg.scripts.build.split(' ');
      assert.equal(tool, 'tsc');
      const built = await run(
        process.execPath,
        [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ...args],
        { cwd: buildDir },
      );
      assert.equal(built.code, 0, `npm run build failed in the build stage: ${built.out}${built.err}`);
    }
  }
  const entry = runtime.instructions.find((i) => i.name === 'ENTRYPOINT');
  assert.ok(entry, 'the runtime stage has an ENTRYPOINT');
  entrypoint = (JSON.parse(entry.args) as string[]).map((a) => a.replace(/^\/app\//, `${runtimeDir}/`));
  assert.equal(entrypoint[0], 'node');
  const help = await run(process.execPath, [...entrypoint.slice(1), 'classify', '--help']);
  assert.equal(help.code, 0, help.err);
  assert.match(help.out, /--files-from LIST/);
  // The list on standard input, shard 0 of 2, from the compiled CLI (its inference worker is dist's .js).
  const out = join(dir, 'docker-shard-0');
  const classified = await run(
    process.execPath,
    [
      ...entrypoint.slice(1),
      'classify',
      model,
      '--files-from',
      '-',
      '--shard',
      '0/2',
      '--out',
      out,
      '--json',
    ],
    {
      input: `${pictures.join('\n')}\n`,
    },
  );
  assert.equal(classified.code, 0, classified.err);
  const rows = await rowsOf(out);
  assert.deepEqual(
    rows.map((r) => r.index),
    pictures.map((_, i) => i).filter((i) => i % 2 === 0),
  );
  assert.ok(rows.every((r) => r.status === 'ok'));
});

test('the Kubernetes manifest parses as an Indexed Job, and its pod command runs here with $JOB_COMPLETION_INDEX', async (t) => {
  let yaml: { loadAll(text: string): unknown[] };
  try {
    yaml = createRequire(import.meta.url)('js-yaml') as typeof yaml;
  } catch {
    t.skip('no YAML parser (js-yaml, installed with electron-builder) in node_modules');
    return;
  }
  interface Container {
    command?: string[];
    args?: string[];
    env?: { name: string; value: string }[];
  }
  interface JobDoc {
    apiVersion: string;
    kind: string;
    metadata: { name: string };
    spec: { completionMode?: string; completions?: number; template: { spec: { containers: Container[] } } };
  }
  const docs = yaml.loadAll(await readFile(MANIFEST, 'utf8')) as JobDoc[];
  assert.deepEqual(
    docs.map((d) => [d.apiVersion, d.kind, d.metadata.name]),
    [
      ['batch/v1', 'Job', 'attnvgg-classify'],
      ['batch/v1', 'Job', 'attnvgg-classify-merge'],
    ],
  );
  const [job, merge] = docs;
  assert.equal(job.spec.completionMode, 'Indexed');
  const [container] = job.spec.template.spec.containers;
  const shards = container.env?.find((e) => e.name === 'SHARDS')?.value;
  assert.equal(Number(shards), job.spec.completions, 'SHARDS equals completions');
  assert.deepEqual(container.command, ['sh', '-c']);
  const script = container.args?.[0] ?? '';
  assert.match(script, /--shard "\$JOB_COMPLETION_INDEX\/\$SHARDS"/);
  // The pod's command, here: /data is a folder of this test, /app the replayed image.
  assert.ok(entrypoint.length > 0, 'the Dockerfile test ran first');
  const data = join(dir, 'data');
  await mkdir(data, { recursive: true });
  await cp(model, join(data, 'model.onnx'));
  await cp(model.replace(/\.onnx$/, '.json'), join(data, 'model.json'));
  await cp(list, join(data, 'list.txt'));
  const local = (text: string): string =>
    text
      .replaceAll('/data/', `${data}/`)
      .replaceAll('/app/scripts/attnvgg.mjs', entrypoint[1])
      .replace(/^exec node /, `exec ${process.execPath} `);
  const count = Number(shards);
  for (let k = 0; k < count; k++) {
    const pod = await run('sh', ['-c', local(script)], {
      env: { ...process.env, JOB_COMPLETION_INDEX: String(k), SHARDS: shards },
    });
    assert.equal(pod.code, 0, `pod ${k}: ${pod.err}`);
  }
  const mergeScript = merge.spec.template.spec.containers[0].args?.[0] ?? '';
  const merged = await run('sh', ['-c', local(mergeScript).replace(/^node /, `${process.execPath} `)]);
  assert.equal(merged.code, 0, merged.err);
  assert.deepEqual(
    (await rowsOf(join(data, 'results', 'merged'))).map((r) => r.file),
    pictures,
  );
});

test('the Slurm script passes bash -n and runs with the variables Slurm sets', async () => {
  const syntax = await run('bash', ['-n', SBATCH]);
  assert.equal(syntax.code, 0, syntax.err);
  const text = await readFile(SBATCH, 'utf8');
  assert.match(text, /^#SBATCH --requeue$/m);
  assert.ok(entrypoint.length > 0, 'the Dockerfile test ran first');
  const results = join(dir, 'slurm');
  for (const k of [0, 1, 2]) {
    const task = await run('bash', [SBATCH], {
      env: {
        ...process.env,
        MODEL: model,
        LIST: list,
        RESULTS: results,
        SLURM_ARRAY_TASK_ID: String(k),
        SLURM_ARRAY_TASK_COUNT: '3',
        SLURM_CPUS_PER_TASK: '1',
        ATTNVGG: `${process.execPath} ${entrypoint[1]}`,
      },
    });
    assert.equal(task.code, 0, `task ${k}: ${task.err}`);
  }
  const merged = await run(process.execPath, [
    entrypoint[1],
    'classify',
    'merge',
    join(results, 'merged'),
    ...[0, 1, 2].map((k) => join(results, `shard-${k}`)),
  ]);
  assert.equal(merged.code, 0, merged.err);
  assert.deepEqual(
    (await rowsOf(join(results, 'merged'))).map((r) => r.index),
    pictures.map((_, i) => i),
  );
  // Without the array variables the script says what is missing.
  const bare = await run('bash', [SBATCH], {
    env: { PATH: process.env.PATH ?? '', MODEL: model, LIST: list, RESULTS: results },
  });
  assert.notEqual(bare.code, 0);
  assert.match(bare.err, /sbatch --array=0-<N-1>/);
});
