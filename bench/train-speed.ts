// Benchmark, run by hand: training and inference images/s of the attention-VGG on each TensorFlow.js
// backend available here, beside the PyTorch peer's `speed` run in the same session (BENCHMARKS.md).
//   node --import tsx bench/train-speed.ts --size 64 --width 0.25 --batch 32 [--steps 5] [--repeat 3]
// See bench/README.md for every option. Prints JSON lines on stdout (machine, ours, peer, ratio,
// summary) and progress on stderr. Each backend runs in a child process of its own, so its peak RSS is
// its own. Imports models/bench and models/ only; the peer is a separate Python process.

import { appendFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import {
  forwardConvGflop,
  measureTrainSpeed,
  median,
  probeBenchBackends,
  type TrainSpeedResult,
} from '../models/bench/measure-tfjs-training.js';
import { parseBackendName, type BackendName } from '../models/tfjs/backend.js';
import { lastJson, runCaptured } from './run-child.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT_PEER = path.resolve(HERE, '..', '..', 'shared', 'peers', 'attnvgg_torch.py');
/**
 * The cpu backend's training throughput seen here, in forward-convolution GFLOP x 3 per second: one
 * S=64 w=0.25 b=32 step (15.3 GFLOP) took 495 s (bench/RESULTS.md). Its forward alone is ~15x faster.
 */
const CPU_TRAIN_GFLOPS = 0.03;

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    width: { type: 'string', default: '0.25' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    backend: { type: 'string', multiple: true },
    'cpu-steps': { type: 'string', default: '2' },
    'cpu-budget': { type: 'string', default: '300' },
    repeat: { type: 'string', default: '1' },
    phases: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'no-peer': { type: 'boolean', default: false },
    peer: { type: 'string', default: process.env.ATTNVGG_PEER ?? DEFAULT_PEER },
    'peer-steps': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
    child: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const HELP = `Usage: node --import tsx bench/train-speed.ts [options]
  --size S --width W --batch B   model and batch (default 64, 0.25, 32)
  --steps N --warmup N           timed and untimed training steps per backend (default 5, 2)
  --backend NAME                 only this backend (repeatable: tensorflow, wasm, cpu); default: all
                                 that load, cpu only when its estimated time fits --cpu-budget
  --cpu-steps N                  timed steps on cpu (default 2, 1 warm-up): it is very slow
  --cpu-budget SECONDS           skip cpu when its estimated run is longer (default 300)
  --repeat N                     rounds of (ours, peer); the summary gives medians (default 1)
  --phases                       also time the forward alone and the update alone
  --profile                      also profile one step: time per kernel
  --peer PATH | --no-peer        the PyTorch peer (default ../shared/peers/attnvgg_torch.py, ATTNVGG_PEER)
  --peer-steps N                 the peer's --steps (default: --steps)
  --python PATH                  the Python with torch (default /usr/bin/python3)
  --threads N[,N...]             the peer's threads, one peer run per value (default 2, as
                                 BENCHMARKS.md; 1 matches the wasm backend's single thread)
  --out FILE                     also append the JSON lines to FILE`;

function int(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
  return n;
}

const size = int('size', args.size);
const width = Number(args.width);
const batch = int('batch', args.batch);
const steps = int('steps', args.steps);
const warmup = int('warmup', args.warmup);

/** Every line carries the 1-minute load average: other work on a shared machine shows up there. */
function emit(row: Record<string, unknown>): void {
  const line = JSON.stringify({ ...row, load_1m: Math.round(os.loadavg()[0] * 100) / 100 });
  console.log(line);
  if (args.out) appendFileSync(args.out, line + '\n');
}

function note(text: string): void {
  process.stderr.write(`[train-speed] ${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// Child mode: one backend, one JSON line on stdout.

async function runChild(backend: BackendName): Promise<void> {
  const cpu = backend === 'cpu';
  const cpuSteps = int('cpu-steps', args['cpu-steps']);
  let result: TrainSpeedResult;
  try {
    result = await measureTrainSpeed({
      size,
      width,
      batch,
      backend,
      steps: cpu ? cpuSteps : steps,
      warmup: cpu ? Math.min(warmup, 1) : warmup,
      inferSteps: cpu ? cpuSteps : steps,
      phases: args.phases,
      profile: args.profile,
      onProgress: (e) => note(`${backend} ${e.stage} ${e.step}/${e.of}: ${e.ms.toFixed(0)} ms`),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stdout.write(JSON.stringify({ error: message }) + '\n');
    process.exitCode = 1;
    return;
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Parent mode

async function measureInChild(backend: BackendName): Promise<TrainSpeedResult | undefined> {
  const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out');
  const argv = [...process.execArgv, fileURLToPath(import.meta.url), ...passOn, '--child', backend];
  const { code, stdout } = await runCaptured(process.execPath, argv, 60 * 60 * 1000);
  const row = lastJson(stdout);
  if (code !== 0 || row === undefined || typeof row.error === 'string') {
    const reason = typeof row?.error === 'string' ? row.error : `exit code ${code} (see stderr)`;
    emit({ kind: 'failed', backend, reason });
    return undefined;
  }
  return row as unknown as TrainSpeedResult;
}

interface PeerRow {
  train_img_s: number;
  infer_img_s: number;
  [key: string]: unknown;
}

async function measurePeer(threads: number): Promise<PeerRow | undefined> {
  if (args['no-peer']) return undefined;
  if (!existsSync(args.peer)) {
    note(`peer not found at ${args.peer}: pass --peer PATH or --no-peer`);
    return undefined;
  }
  const peerSteps = args['peer-steps'] ?? String(steps);
  const argv = [args.peer, 'speed', '--size', String(size), '--width', String(width), '--batch'];
  argv.push(String(batch), '--steps', peerSteps, '--threads', String(threads));
  note(`peer: ${args.python} ${argv.join(' ')}`);
  const { code, stdout } = await runCaptured(args.python, argv, 60 * 60 * 1000);
  const row = lastJson(stdout);
  if (code !== 0 || row === undefined) {
    note(`the peer failed (exit code ${code})`);
    return undefined;
  }
  return row as PeerRow;
}

/** The backends to measure: those asked for, else all that load (cpu only if it fits the budget). */
async function chooseBackends(): Promise<BackendName[]> {
  const statuses = await probeBenchBackends();
  const asked = (args.backend ?? []).flatMap((b) => b.split(',')).map(parseBackendName);
  const chosen: BackendName[] = [];
  for (const s of statuses) {
    if (asked.length > 0 && !asked.includes(s.backend)) continue;
    if (!s.available) {
      emit({ kind: 'skipped', backend: s.backend, reason: s.reason });
      continue;
    }
    if (s.backend === 'cpu' && asked.length === 0) {
      const cpuSteps = int('cpu-steps', args['cpu-steps']);
      const stepS = (3 * forwardConvGflop(size, width) * batch) / CPU_TRAIN_GFLOPS;
      // Its inference forward took 1/47 of a training step at S=64: counted as 1/40.
      const estimate = stepS * (Math.min(warmup, 1) + cpuSteps + (cpuSteps + 1) / 40);
      if (estimate > Number(args['cpu-budget'])) {
        const reason = `estimated ${Math.round(estimate)} s at ~${CPU_TRAIN_GFLOPS} GFLOP/s, over --cpu-budget ${args['cpu-budget']} s; pass --backend cpu to run it anyway`;
        emit({ kind: 'skipped', backend: 'cpu', reason });
        continue;
      }
    }
    chosen.push(s.backend);
  }
  return chosen;
}

function ratio(ours: number, peer: number | undefined): number | null {
  return peer === undefined || !(peer > 0) ? null : Math.round((ours / peer) * 1000) / 1000;
}

async function runParent(): Promise<void> {
  emit({
    kind: 'machine',
    date: new Date().toISOString().slice(0, 10),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    tfjs: tf.version_core,
    size,
    width,
    batch,
  });
  const backends = await chooseBackends();
  const rounds = Math.max(1, int('repeat', args.repeat));
  const peerThreads = args.threads.split(',').map((t) => Math.max(1, int('threads', t)));
  const ours = new Map<BackendName, TrainSpeedResult[]>();
  const peers = new Map<number, PeerRow[]>(peerThreads.map((t) => [t, []]));
  for (let round = 1; round <= rounds; round++) {
    const measured = new Map<BackendName, TrainSpeedResult>();
    for (const backend of backends) {
      // The cpu backend is too slow to repeat: one round only.
      if (backend === 'cpu' && round > 1) continue;
      note(`round ${round}/${rounds}: ${backend}`);
      const result = await measureInChild(backend);
      if (result === undefined) continue;
      ours.set(backend, [...(ours.get(backend) ?? []), result]);
      measured.set(backend, result);
      emit({ kind: 'ours', round, ...result });
    }
    for (const threads of peerThreads) {
      const peer = await measurePeer(threads);
      if (peer === undefined) continue;
      peers.get(threads)?.push(peer);
      emit({ kind: 'peer', round, ...peer });
      for (const [backend, last] of measured) {
        emit({
          kind: 'ratio',
          round,
          backend,
          peer_threads: threads,
          train: ratio(last.train_img_s, peer.train_img_s),
          infer: ratio(last.infer_img_s, peer.infer_img_s),
        });
      }
    }
  }
  summarise(ours, peers);
}

function medianOf(xs: number[]): number | undefined {
  return xs.length > 0 ? Number(median(xs).toPrecision(4)) : undefined;
}

/** One line per backend and peer thread count: medians over the rounds and their ratio. */
function summarise(ours: Map<BackendName, TrainSpeedResult[]>, peers: Map<number, PeerRow[]>): void {
  for (const [backend, results] of ours) {
    const train = medianOf(results.map((r) => r.train_img_s)) as number;
    const infer = medianOf(results.map((r) => r.infer_img_s)) as number;
    const peerRuns: [number | null, PeerRow[]][] = peers.size > 0 ? [...peers] : [[null, []]];
    for (const [threads, rows] of peerRuns) {
      const peerTrain = medianOf(rows.map((p) => p.train_img_s));
      const peerInfer = medianOf(rows.map((p) => p.infer_img_s));
      emit({
        kind: 'summary',
        backend,
        runs: results.length,
        train_img_s: train,
        infer_img_s: infer,
        peak_rss_mb: Math.max(...results.map((r) => r.peak_rss_mb)),
        threads: results[0].threads ?? null,
        peer_threads: threads,
        peer_runs: rows.length,
        peer_train_img_s: peerTrain ?? null,
        peer_infer_img_s: peerInfer ?? null,
        train_ratio: ratio(train, peerTrain),
        infer_ratio: ratio(infer, peerInfer),
      });
    }
  }
}

if (args.help) console.log(HELP);
else if (args.child !== undefined) await runChild(parseBackendName(args.child));
else await runParent();
