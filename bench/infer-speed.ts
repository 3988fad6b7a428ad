// Benchmark, run by hand: inference images/s of our ONNX export on onnxruntime-node (infer-64, infer-224)
// beside the PyTorch peer's `speed` inference figure measured in the same session (BENCHMARKS.md), plus
// diagnostics of what limits the runtime and the end-to-end `classify` figure.
//   node --import tsx bench/infer-speed.ts [--config 64|224|both] [--threads 1,2] [--repeat 3]
//   node --import tsx bench/infer-speed.ts --config 64 --diagnose
//   node --import tsx bench/infer-speed.ts --config 64 --classify DIR [--no-peer]
// Models: random weights (as the peer), exported through main/services/export from a run folder made
// here. Each measurement runs in a child process of its own (its peak RSS is its own). Prints JSON lines
// on stdout (machine, ours, peer, ratio, summary, diagnose, classify), progress on stderr. Imports
// main/services and models/; the diagnostics talk to onnxruntime-node directly (optimisation levels,
// per-operator profile), which the app itself does only through models/onnx/session.ts.

import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { createRandom } from '../models/core/random.js';
import { encodeSafetensors } from '../models/core/safetensors.js';
import type { ModelSpec } from '../models/core/spec.js';
import { initWeights } from '../models/core/weights.js';
import { classifyFolder } from '../main/services/classify/classify-folder.js';
import { measureInferSpeed, peakRssMb, resetPeakRss } from '../main/services/classify/infer-speed.js';
import { exportRun } from '../main/services/export/export-run.js';
import { runPath, writeRunRecord } from '../main/services/training/run-folder.js';
import { resolveConfig } from '../main/services/training/training-config.js';
import { lastJson, runCaptured } from './run-child.js';
import { median } from '../models/bench/process-stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_PEER = path.resolve(HERE, '..', '..', 'shared', 'peers', 'attnvgg_torch.py');

const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: 'both' },
    threads: { type: 'string', default: '1,2' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    diagnose: { type: 'boolean', default: false },
    classify: { type: 'string' },
    'classify-threads': { type: 'string', default: '1,2' },
    'no-peer': { type: 'boolean', default: false },
    peer: { type: 'string', default: process.env.ATTNVGG_PEER ?? DEFAULT_PEER },
    'peer-steps': { type: 'string' },
    'peer-threads': { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string' },
    child: { type: 'string' },
    model: { type: 'string' },
    batch: { type: 'string' },
    input: { type: 'string' },
    heatmaps: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const HELP = `Usage: node --import tsx bench/infer-speed.ts [options]
  --config 64|224|both     infer-64 (S=64, width 0.25, batch 32) and/or infer-224 (S=224, width 1.0, batch 8)
  --threads N[,N...]       onnxruntime intra-op threads, one measurement per value (default 1,2)
  --steps N --warmup N     timed and untimed runs (default 20 and 3 at S=64, 5 and 1 at S=224)
  --repeat N               rounds of (ours, peer); the summary gives medians (default 1)
  --diagnose               also: each graph optimisation level, and time per operator type (profile)
  --classify DIR           also: end-to-end \`classify\` of DIR with the infer model (with and without
                           --heatmaps), images/s and peak RSS, per --classify-threads value (default 1,2)
  --peer PATH | --no-peer  the PyTorch peer (default ../shared/peers/attnvgg_torch.py, ATTNVGG_PEER)
  --peer-steps N           the peer's --steps (default 5 at S=64, 3 at S=224, as BENCHMARKS.md)
  --peer-threads N[,N...]  the peer's threads, one peer run per value and round (default 2, as
                           BENCHMARKS.md; 1 gives a same-thread-count ratio for our 1-thread figure)
  --python PATH            the Python with torch (default /usr/bin/python3)
  --out FILE               also append the JSON lines to FILE`;

interface Config {
  id: string;
  size: number;
  width: number;
  batch: number;
  steps: number;
  warmup: number;
  peerSteps: number;
}

const CONFIGS: Record<string, Config> = {
  '64': { id: 'infer-64', size: 64, width: 0.25, batch: 32, steps: 20, warmup: 3, peerSteps: 5 },
  '224': { id: 'infer-224', size: 224, width: 1.0, batch: 8, steps: 5, warmup: 1, peerSteps: 3 },
};

function int(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
  return n;
}

function list(name: string, value: string): number[] {
  return value.split(',').map((v) => int(name, v));
}

const load = (): number => Math.round(os.loadavg()[0] * 100) / 100;

function emit(row: Record<string, unknown>): void {
  const line = JSON.stringify({ ...row, load_1m: load() });
  console.log(line);
  if (args.out) appendFileSync(args.out, line + '\n');
}

function note(text: string): void {
  process.stderr.write(`[infer-speed] ${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// The model: a run folder with random weights, exported like any run.

async function exportRandomModel(dir: string, c: Config): Promise<string> {
  const spec: ModelSpec = {
    inputSize: c.size,
    width: c.width,
    numClasses: 10,
    attention: true,
    compatibility: 'pc',
    normalisation: 'softmax',
  };
  const runDir = path.join(dir, `run-${c.size}`);
  await mkdir(path.join(runDir, 'checkpoints'), { recursive: true });
  writeFileSync(runPath(runDir, 'bestCheckpoint'), encodeSafetensors(initWeights(spec, createRandom(0))));
  await writeRunRecord(runDir, {
    format: 'attnvgg-run/1',
    id: `bench-${c.size}`,
    status: 'completed',
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    config: resolveConfig({ dataset: 'random', inputSize: c.size, width: c.width }),
    spec,
    classes: Array.from({ length: 10 }, (_, i) => `class${i}`),
    datasetFingerprint: 'random weights',
    backend: 'none',
    appVersion: 'bench',
  });
  const { modelPath } = await exportRun(runDir, path.join(dir, `${c.id}.onnx`), { overwrite: true });
  return modelPath;
}

// ---------------------------------------------------------------------------------------------
// Child modes: one JSON line on stdout.

async function childInfer(): Promise<Record<string, unknown>> {
  return {
    ...(await measureInferSpeed(args.model ?? '', {
      batch: int('batch', args.batch),
      threads: int('threads', args.threads),
      steps: int('steps', args.steps),
      warmup: int('warmup', args.warmup),
    })),
  };
}

/** onnxruntime directly: each optimisation level, then a profiled run summed per operator type. */
async function childDiagnose(): Promise<Record<string, unknown>> {
  const model = args.model ?? '';
  const batch = int('batch', args.batch);
  const threads = int('threads', args.threads);
  const steps = int('steps', args.steps);
  const spec = JSON.parse(readFileSync(model.replace(/\.onnx$/, '.json'), 'utf8')).spec as ModelSpec;
  const s = spec.inputSize;
  const random = createRandom(1);
  const data = Float32Array.from({ length: batch * 3 * s * s }, () => random.normal());
  const feeds = { input: new ort.Tensor('float32', data, [batch, 3, s, s]) };
  const base: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  const levels: Record<string, number> = {};
  for (const level of ['disabled', 'basic', 'extended', 'all'] as const) {
    const session = await ort.InferenceSession.create(model, { ...base, graphOptimizationLevel: level });
    for (let i = 0; i < 2; i++) await session.run(feeds);
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await session.run(feeds);
      ms.push(performance.now() - t);
    }
    levels[level] = Number((batch / (median(ms) / 1000)).toPrecision(4));
    await session.release();
    note(`diagnose ${path.basename(model)} threads ${threads}: ${level} ${levels[level]} img/s`);
  }
  // Per-operator profile of the 'all' graph (what runs after fusion and layout changes).
  const prefix = path.join(os.tmpdir(), `attnvgg-ort-profile-${process.pid}`);
  const session = await ort.InferenceSession.create(model, {
    ...base,
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  for (let i = 0; i < 2 + steps; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  // onnxruntime names the file <prefix>_<date-time>.json.
  const name = readdirSync(os.tmpdir()).find(
    (f) => f.startsWith(path.basename(prefix)) && f.endsWith('.json'),
  );
  if (!name) throw new Error('onnxruntime wrote no profile');
  const file = path.join(os.tmpdir(), name);
  const events = JSON.parse(readFileSync(file, 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string };
  }[];
  rmSync(file, { force: true });
  const byOp = new Map<string, number>();
  let runs = 0;
  let runUs = 0;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') {
      runs++;
      runUs += e.dur;
    }
    if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.args?.op_name)
      byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur);
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  const ops = [...byOp.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([op, us]) => ({
      op,
      ms_per_run: Number((us / 1000 / runs).toFixed(2)),
      share: Number((us / total).toFixed(3)),
    }));
  return {
    model: path.basename(model),
    batch,
    threads,
    img_s_by_optimisation_level: levels,
    profiled_run_ms: Number((runUs / 1000 / runs).toFixed(2)),
    kernel_ms_per_run: Number((total / 1000 / runs).toFixed(2)),
    ops,
  };
}

async function childClassify(): Promise<Record<string, unknown>> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'attnvgg-bench-classify-'));
  const scope = resetPeakRss() ? 'run' : 'process';
  const started = performance.now();
  try {
    const outcome = await classifyFolder(args.model ?? '', [args.input ?? ''], out, {
      heatmaps: args.heatmaps,
      threads: int('threads', args.threads),
    });
    const seconds = (performance.now() - started) / 1000;
    const { summary } = outcome.summary;
    return {
      model: path.basename(args.model ?? ''),
      heatmaps: args.heatmaps,
      threads: int('threads', args.threads),
      images: summary.images,
      failed: summary.failed,
      wall_s: Number(seconds.toFixed(2)),
      img_s: Number((summary.images / seconds).toPrecision(4)),
      peak_rss_mb: peakRssMb(),
      peak_rss_scope: scope,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Parent mode

async function child(mode: string, extra: string[]): Promise<Record<string, unknown> | undefined> {
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), '--child', mode, ...extra];
  const { code, stdout } = await runCaptured(process.execPath, argv);
  const row = lastJson(stdout);
  if (code !== 0 || row === undefined || typeof row.error === 'string') {
    emit({ kind: 'failed', mode, reason: typeof row?.error === 'string' ? row.error : `exit code ${code}` });
    return undefined;
  }
  return row;
}

async function peer(c: Config, threads: number): Promise<number | undefined> {
  if (args['no-peer']) return undefined;
  if (!existsSync(args.peer)) {
    note(`peer not found at ${args.peer}: pass --peer PATH or --no-peer`);
    return undefined;
  }
  const steps = args['peer-steps'] ?? String(c.peerSteps);
  const argv = [
    args.peer,
    'speed',
    '--size',
    String(c.size),
    '--width',
    String(c.width),
    '--batch',
    String(c.batch),
  ];
  argv.push('--steps', steps, '--threads', String(threads));
  note(`peer: ${args.python} ${argv.join(' ')}`);
  const { code, stdout } = await runCaptured(args.python, argv);
  const row = lastJson(stdout);
  if (code !== 0 || row === undefined) {
    note(`the peer failed (exit code ${code})`);
    return undefined;
  }
  emit({ kind: 'peer', id: c.id, ...row });
  return Number(row.infer_img_s);
}

function cpuModel(): string {
  return os.cpus()[0]?.model ?? 'unknown';
}

/** `--child MODE`: one measurement in this process, its JSON row on stdout. */
async function runChild(mode: string): Promise<void> {
  const modes: Record<string, () => Promise<Record<string, unknown>>> = {
    infer: childInfer,
    diagnose: childDiagnose,
    classify: childClassify,
  };
  try {
    process.stdout.write(JSON.stringify(await modes[mode]()) + '\n');
  } catch (error) {
    process.stdout.write(
      JSON.stringify({ error: error instanceof Error ? error.message : String(error) }) + '\n',
    );
    process.exitCode = 1;
  }
}

/** The configurations of --config, with --steps and --warmup applied. */
function chosenConfigs(): Config[] {
  const chosen = args.config === 'both' ? ['64', '224'] : [args.config];
  return chosen.map((k) => {
    const c = CONFIGS[k];
    if (!c) throw new Error(`--config must be 64, 224 or both, got ${k}`);
    return {
      ...c,
      steps: args.steps ? int('steps', args.steps) : c.steps,
      warmup: args.warmup ? int('warmup', args.warmup) : c.warmup,
    };
  });
}

function emitMachine(): void {
  emit({
    kind: 'machine',
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cpu: cpuModel(),
    node: process.version,
    onnxruntime: ort.env.versions.common,
  });
}

/** The rounds' images/s of ours and of the peer, per thread count (as given: a count given twice runs twice). */
interface Rounds {
  threads: readonly number[];
  peerThreads: readonly number[];
  ours: Map<number, number[]>;
  peers: Map<number, number[]>;
}

/** A child's arguments for measuring `model` of configuration `c` on `threads` threads. */
function measureArgs(c: Config, model: string, threads: number): string[] {
  return [
    '--model',
    model,
    '--batch',
    String(c.batch),
    '--threads',
    String(threads),
    '--steps',
    String(c.steps),
  ];
}

/** One round of ours at each thread count. */
async function ourRound(c: Config, model: string, round: number, r: Rounds): Promise<void> {
  for (const t of r.threads) {
    const row = await child('infer', [...measureArgs(c, model, t), '--warmup', String(c.warmup)]);
    if (!row) continue;
    emit({ kind: 'ours', id: c.id, round, ...row });
    r.ours.get(t)?.push(Number(row.infer_img_s));
  }
}

/** One round of the peer at each of its thread counts, each beside this round's figures of ours. */
async function peerRound(c: Config, round: number, r: Rounds): Promise<void> {
  for (const pt of r.peerThreads) {
    const p = await peer(c, pt);
    if (p === undefined) continue;
    r.peers.get(pt)?.push(p);
    for (const t of r.threads) {
      const mine = r.ours.get(t)?.at(-1);
      if (mine !== undefined)
        emit({
          kind: 'ratio',
          id: c.id,
          round,
          threads: t,
          peer_threads: pt,
          ours: mine,
          peer: p,
          ratio: Number((mine / p).toFixed(2)),
        });
    }
  }
}

/** The medians and ranges of the rounds, ours beside the peer's, per pair of thread counts. */
function emitSummaries(c: Config, r: Rounds): void {
  for (const t of r.threads) {
    const values = r.ours.get(t) ?? [];
    if (values.length === 0) continue;
    const m = median(values);
    for (const pt of r.peerThreads) {
      const pv = r.peers.get(pt) ?? [];
      const pm = pv.length > 0 ? median(pv) : undefined;
      emit({
        kind: 'summary',
        id: c.id,
        threads: t,
        peer_threads: pt,
        rounds: values.length,
        ours_median: m,
        ours_range: [Math.min(...values), Math.max(...values)],
        peer_median: pm ?? null,
        peer_range: pv.length > 0 ? [Math.min(...pv), Math.max(...pv)] : null,
        ratio: pm ? Number((m / pm).toFixed(2)) : null,
      });
    }
  }
}

/** --diagnose: the optimisation levels and the per-operator profile, per thread count. */
async function diagnose(c: Config, model: string, threads: readonly number[]): Promise<void> {
  for (const t of threads) {
    const row = await child('diagnose', measureArgs(c, model, t));
    if (row) emit({ kind: 'diagnose', id: c.id, ...row });
  }
}

/** --classify DIR: end-to-end classification of DIR, without and with heat-maps, per thread count. */
async function classifyEndToEnd(c: Config, model: string, input: string): Promise<void> {
  for (const heat of [false, true])
    for (const t of list('classify-threads', args['classify-threads'])) {
      const row = await child('classify', [
        '--model',
        model,
        '--input',
        path.resolve(input),
        '--threads',
        String(t),
        ...(heat ? ['--heatmaps'] : []),
      ]);
      if (row) emit({ kind: 'classify', id: c.id, ...row });
    }
}

/** Every measurement of one configuration, on a model exported into `dir`. */
async function benchConfig(
  dir: string,
  c: Config,
  threads: readonly number[],
  repeat: number,
): Promise<void> {
  const model = await exportRandomModel(dir, c);
  note(`${c.id}: ${model}`);
  const peerThreads = list('peer-threads', args['peer-threads']);
  const rounds: Rounds = {
    threads,
    peerThreads,
    ours: new Map(threads.map((t) => [t, []])),
    peers: new Map(peerThreads.map((t) => [t, []])),
  };
  for (let round = 1; round <= repeat; round++) {
    await ourRound(c, model, round, rounds);
    await peerRound(c, round, rounds);
  }
  emitSummaries(c, rounds);
  if (args.diagnose) await diagnose(c, model, threads);
  if (args.classify) await classifyEndToEnd(c, model, args.classify);
}

async function main(): Promise<void> {
  if (args.help) {
    console.log(HELP);
    return;
  }
  if (args.child) return runChild(args.child);
  const configs = chosenConfigs();
  const threads = list('threads', args.threads);
  const repeat = Math.max(1, int('repeat', args.repeat));
  emitMachine();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'attnvgg-bench-infer-'));
  try {
    for (const c of configs) await benchConfig(dir, c, threads, repeat);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
