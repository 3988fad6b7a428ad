// Benchmark, run by hand: training images/s of the ONNX training engine (models/onnx-train, a whole SGD
// step as one onnxruntime graph) beside TensorFlow.js's wasm backend (models/train/step.ts) and the
// PyTorch peer's `speed`, measured in the same session, round after round (BENCHMARKS.md).
//   node --import tsx bench/onnx-train-speed.ts --size 64 --width 0.25 --batch 32 [--repeat 3]
//   node --import tsx bench/onnx-train-speed.ts --size 224 --width 1.0 --batch 8 --steps 2 --warmup 1 --peer-steps 3
// Options: --engine onnx|wasm (repeatable; default both), --steps N --warmup N (timed and untimed
// steps, default 5 and 2), --repeat N (rounds, default 1), --threads N (onnxruntime intra-op threads and
// the peer's, default 2), --inter N (onnxruntime inter-op threads, default 1), --filter-gradient mixed|shifts|per-image|im2col|conv, --no-reuse (fresh output arrays every
// step), --spinning (let onnxruntime's idle threads spin-wait, its own default), --profile PREFIX
// (onnxruntime's per-node profile of the ONNX engine), --no-peer, --peer PATH, --peer-steps N,
// --python PATH, --out FILE (also append the lines there).
// Prints JSON lines (kind: machine, ours, peer, ratio, summary); progress on stderr. Each engine runs in a
// child process of its own, so its peak RSS is its own. Imports models/ only.

import { appendFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRandom } from '../models/core/random.js';
import type { ModelSpec } from '../models/core/spec.js';
import { initWeights } from '../models/core/weights.js';
import type { FilterGradient } from '../models/onnx-train/layers.js';
import { createOnnxTrainer } from '../models/onnx-train/trainer.js';
import { lastJson, runCaptured } from './run-child.js';
import { median, peakRssMb, resetPeakRss } from '../models/bench/measure-tfjs-training.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_PEER = path.resolve(HERE, '..', '..', 'shared', 'peers', 'attnvgg_torch.py');
type Engine = 'onnx' | 'wasm';
const ENGINES: readonly Engine[] = ['onnx', 'wasm'];
/** The peer's `speed` settings: SGD, momentum 0.9, lr 0.01, 10 classes. */
const HYPER = { lr: 0.01, momentum: 0.9 };
const CLASSES = 10;

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    width: { type: 'string', default: '0.25' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    inter: { type: 'string', default: '1' },
    engine: { type: 'string', multiple: true },
    'filter-gradient': { type: 'string', default: 'mixed' },
    'no-reuse': { type: 'boolean', default: false },
    spinning: { type: 'boolean', default: false },
    profile: { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    peer: { type: 'string', default: process.env.ATTNVGG_PEER ?? DEFAULT_PEER },
    'peer-steps': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string' },
    child: { type: 'string' },
  },
});

function int(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
  return n;
}

const size = int('size', args.size);
const width = Number(args.width);
const batch = int('batch', args.batch);
const steps = Math.max(1, int('steps', args.steps));
const warmup = int('warmup', args.warmup);
const threads = Math.max(1, int('threads', args.threads));
const spec: ModelSpec = {
  inputSize: size,
  width,
  numClasses: CLASSES,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

function load(): number {
  return Math.round(os.loadavg()[0] * 100) / 100;
}

function emit(row: Record<string, unknown>): void {
  const line = JSON.stringify({ ...row, load_1m: load() });
  console.log(line);
  if (args.out) appendFileSync(args.out, line + '\n');
}

function note(text: string): void {
  process.stderr.write(`[onnx-train-speed] ${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// Child mode: one engine, one JSON line on stdout.

interface Batch {
  nchw: Float32Array;
  nhwc: Float32Array;
  labels: Int32Array;
}

/** One fixed batch of standard-normal images and random labels, as the peer's `speed`. */
function makeBatch(): Batch {
  const r = createRandom(7);
  const nchw = new Float32Array(batch * 3 * size * size);
  for (let i = 0; i < nchw.length; i++) nchw[i] = r.normal();
  const nhwc = new Float32Array(nchw.length);
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < size * size; p++)
        nhwc[(n * size * size + p) * 3 + c] = nchw[(n * 3 + c) * size * size + p];
  return { nchw, nhwc, labels: Int32Array.from({ length: batch }, () => r.int(CLASSES)) };
}

interface StepTimes {
  wall: number[];
  cpu: number[];
}

async function timeSteps(step: () => Promise<unknown>, label: string): Promise<StepTimes> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await step();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    note(`${label} ${i < warmup ? 'warm-up' : 'step'} ${i + 1}/${warmup + steps}: ${ms.toFixed(0)} ms`);
    if (i >= warmup) {
      wall.push(ms);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  return { wall, cpu };
}

function summarise(engine: string, t: StepTimes, extra: Record<string, unknown>): Record<string, unknown> {
  const ms = median(t.wall);
  return {
    engine,
    size,
    width,
    batch,
    train_img_s: Math.round((batch / ms) * 10000) / 10,
    step_ms: t.wall.map((v) => Math.round(v)),
    cpu_ms_per_step: Math.round(median(t.cpu)),
    ...extra,
  };
}

async function childOnnx(): Promise<Record<string, unknown>> {
  const scope = resetPeakRss() ? 'run' : 'process';
  const t0 = performance.now();
  const trainer = await createOnnxTrainer(spec, initWeights(spec, createRandom(0)), {
    optimizer: { name: 'sgd', momentum: HYPER.momentum },
    intraOpThreads: threads,
    interOpThreads: Math.max(1, int('inter', args.inter)),
    filterGradient: args['filter-gradient'] as FilterGradient,
    reuseStateTensors: !args['no-reuse'],
    spinning: args.spinning,
    profileFilePrefix: args.profile,
  });
  const createS = (performance.now() - t0) / 1000;
  const b = makeBatch();
  const times = await timeSteps(() => trainer.step(b.nchw, b.labels, HYPER), 'onnx');
  const profile = args.profile ? await trainer.endProfiling() : undefined;
  await trainer.dispose();
  return summarise('onnx', times, {
    threads,
    filter_gradient: args['filter-gradient'],
    reuse_state_tensors: !args['no-reuse'],
    spinning: args.spinning,
    create_s: Math.round(createS * 10) / 10,
    peak_rss_mb: Math.round(peakRssMb()),
    peak_rss_scope: scope,
    ...(profile ? { profile_prefix: profile } : {}),
  });
}

async function childWasm(): Promise<Record<string, unknown>> {
  // Loaded here only: the ONNX child never starts TensorFlow.js.
  const tf = await import('@tensorflow/tfjs-core');
  const { selectBackend } = await import('../models/tfjs/backend.js');
  const { AttentionVgg } = await import('../models/tfjs/model.js');
  const { Optimizer } = await import('../models/train/optimizer.js');
  const { trainStep } = await import('../models/train/step.js');
  const report = await selectBackend({ prefer: 'wasm', env: { ...process.env, ATTNVGG_BACKEND: 'wasm' } });
  const scope = resetPeakRss() ? 'run' : 'process';
  const model = AttentionVgg.fromWeights(spec, initWeights(spec, createRandom(0)));
  const optimizer = new Optimizer({ name: 'sgd', momentum: HYPER.momentum });
  const b = makeBatch();
  const x = tf.tensor4d(b.nhwc, [batch, size, size, 3]);
  const y = tf.tensor1d(b.labels, 'int32');
  // trainStep reads the loss back, so the step's work is done when it returns.
  const times = await timeSteps(async () => trainStep(model, optimizer, x, y, { hyper: HYPER }), 'wasm');
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return summarise('tfjs-wasm', times, {
    backend: report.chosen,
    threads: report.threads ?? 1,
    peak_rss_mb: Math.round(peakRssMb()),
    peak_rss_scope: scope,
  });
}

async function runChild(engine: Engine): Promise<void> {
  try {
    const row = engine === 'onnx' ? await childOnnx() : await childWasm();
    process.stdout.write(JSON.stringify(row) + '\n');
  } catch (error) {
    process.stdout.write(
      JSON.stringify({ error: error instanceof Error ? error.message : String(error) }) + '\n',
    );
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Parent mode

async function measureInChild(engine: Engine): Promise<Record<string, unknown> | undefined> {
  const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out');
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), ...passOn, '--child', engine];
  const { code, stdout } = await runCaptured(process.execPath, argv);
  const row = lastJson(stdout);
  if (code !== 0 || row === undefined || typeof row.error === 'string') {
    emit({
      kind: 'failed',
      engine,
      reason: typeof row?.error === 'string' ? row.error : `exit code ${code}`,
    });
    return undefined;
  }
  return row;
}

async function measurePeer(): Promise<Record<string, unknown> | undefined> {
  if (args['no-peer']) return undefined;
  if (!existsSync(args.peer)) {
    note(`peer not found at ${args.peer}: pass --peer PATH or --no-peer`);
    return undefined;
  }
  const argv = [
    args.peer,
    'speed',
    '--size',
    String(size),
    '--width',
    String(width),
    '--batch',
    String(batch),
  ];
  argv.push('--steps', args['peer-steps'] ?? String(steps), '--threads', String(threads));
  note(`peer: ${args.python} ${argv.join(' ')}`);
  const { code, stdout } = await runCaptured(args.python, argv);
  const row = lastJson(stdout);
  if (code !== 0 || row === undefined) {
    note(`the peer failed (exit code ${code})`);
    return undefined;
  }
  return row;
}

async function main(): Promise<void> {
  if (args.child !== undefined) {
    if (!(ENGINES as readonly string[]).includes(args.child))
      throw new Error(`Unknown engine "${args.child}"`);
    return runChild(args.child as Engine);
  }
  const engines = (args.engine ?? [...ENGINES]).flatMap((e) => e.split(',')) as Engine[];
  const unknown = engines.filter((e) => !ENGINES.includes(e));
  if (unknown.length > 0)
    throw new Error(`Unknown engine "${unknown[0]}". Should be one of: ${ENGINES.join(', ')}`);
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  emit({
    kind: 'machine',
    nproc: os.availableParallelism(),
    cpu,
    date: new Date().toISOString(),
    node: process.version,
  });
  const rounds = Math.max(1, int('repeat', args.repeat));
  const ours = new Map<string, number[]>();
  const peers: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const thisRound = new Map<string, number>();
    for (const engine of engines) {
      const row = await measureInChild(engine);
      if (!row) continue;
      emit({ kind: 'ours', round, ...row });
      const name = String(row.engine);
      thisRound.set(name, Number(row.train_img_s));
      ours.set(name, [...(ours.get(name) ?? []), Number(row.train_img_s)]);
    }
    const peer = await measurePeer();
    if (!peer) continue;
    emit({ kind: 'peer', round, ...peer });
    const peerTrain = Number(peer.train_img_s);
    peers.push(peerTrain);
    for (const [engine, imgS] of thisRound)
      emit({ kind: 'ratio', round, engine, train_ratio: Math.round((imgS / peerTrain) * 1000) / 1000 });
  }
  for (const [engine, values] of ours) {
    const m = median(values);
    const p = peers.length > 0 ? median(peers) : undefined;
    emit({
      kind: 'summary',
      engine,
      size,
      width,
      batch,
      rounds: values.length,
      train_img_s_median: m,
      ...(p !== undefined
        ? { peer_train_img_s_median: p, train_ratio: Math.round((m / p) * 1000) / 1000 }
        : {}),
    });
  }
}

main().catch((error: unknown) => {
  note(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
