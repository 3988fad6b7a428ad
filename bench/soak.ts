// Soak benchmark, run by hand (it takes 30 minutes or more): trains on the sample "shapes" data for at
// least --minutes, epoch after epoch, and records after every epoch TensorFlow.js's live tensor count
// and the process's resident memory. A run that leaks grows per epoch; this flags it and exits 1.
//   nohup node --import tsx bench/soak.ts --minutes 30 --out /tmp/soak.jsonl > /tmp/soak.log 2>&1 &
// Prints one JSON line per epoch (kind "epoch") and a summary (kind "summary") on stdout.
// Imports main/services and models/ only.

import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { generateShapesDataset } from '../main/services/sample/index.js';
import { TrainingControl, startTraining } from '../main/services/training/training-run.js';
import { parseBackendName } from '../models/tfjs/backend.js';
import { median } from '../models/bench/process-stats.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    size: { type: 'string', default: '64' },
    width: { type: 'string', default: '0.25' },
    batch: { type: 'string', default: '32' },
    'train-per-class': { type: 'string', default: '200' },
    backend: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    /** Allowed RSS growth per epoch over the second half of the run, in MiB (least-squares slope). */
    'rss-slope-mb': { type: 'string', default: '2' },
  },
});

const minutes = Number(args.minutes);
const size = Number(args.size);
const rssSlopeLimit = Number(args['rss-slope-mb']);

function load1m(): number {
  return os.loadavg()[0];
}

function rssMb(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/** Peak RSS of this process in MiB (Linux VmHWM), else the current RSS. */
function peakRssMb(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return rssMb();
}

function emit(line: Record<string, unknown>): void {
  const text = JSON.stringify(line);
  process.stdout.write(text + '\n');
  if (args.out) appendFileSync(args.out, text + '\n');
}

/** Least-squares slope of ys against their index. */
function slope(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, i) => {
    num += (i - mx) * (y - my);
    den += (i - mx) ** 2;
  });
  return num / den;
}

interface EpochRecord {
  epoch: number;
  numTensors: number;
  numBytes: number;
  rssMb: number;
  seconds: number;
}

async function main(): Promise<number> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'attnvgg-soak-'));
  const data = path.join(root, 'shapes');
  const perClass = Number(args['train-per-class']);
  process.stderr.write(`soak: generating shapes (${perClass} train images per class) in ${data}\n`);
  await generateShapesDataset(data, { size, counts: { train: perClass, val: 50, test: 50 } });
  emit({
    kind: 'machine',
    date: new Date().toISOString(),
    cpus: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load_1m: load1m(),
  });

  const control = new TrainingControl();
  const started = performance.now();
  const epochs: EpochRecord[] = [];
  const loads: number[] = [];
  let lastEpochAt = started;
  const backend = args.backend ? parseBackendName(args.backend) : undefined;
  const result = await startTraining(
    {
      dataset: data,
      inputSize: size,
      width: Number(args.width),
      batchSize: Number(args.batch),
      // A fixed budget of epochs far beyond what fits; the soak stops the run after --minutes.
      epochs: 100_000,
      schedule: 'constant',
      lr: 0.01,
      keepMisclassifiedMaps: 8,
    },
    {
      runDir: path.join(root, 'run'),
      control,
      ...(backend ? { backend } : {}),
      onEvent: (event) => {
        if (event.type === 'started') process.stderr.write(`soak: backend ${event.backend}\n`);
        if (event.type !== 'epoch') return;
        const now = performance.now();
        const mem = tf.memory();
        const record: EpochRecord = {
          epoch: event.epoch + 1,
          numTensors: mem.numTensors,
          numBytes: mem.numBytes,
          rssMb: Math.round(rssMb()),
          seconds: Math.round((now - lastEpochAt) / 100) / 10,
        };
        lastEpochAt = now;
        epochs.push(record);
        loads.push(load1m());
        emit({
          kind: 'epoch',
          ...record,
          trainLoss: event.trainLoss,
          valAccuracy: event.valAccuracy,
          elapsedMin: Math.round((now - started) / 6000) / 10,
          load_1m: load1m(),
        });
        if ((now - started) / 60_000 >= minutes && epochs.length >= 4) control.request('cancel');
      },
    },
  );

  // Judge the second half: the first epochs fill the decode cache and the wasm heap, which never shrinks.
  const tail = epochs.slice(Math.floor(epochs.length / 2));
  const tensorCounts = new Set(tail.map((e) => e.numTensors));
  const rssSlope = slope(tail.map((e) => e.rssMb));
  const tensorSlope = slope(epochs.slice(1).map((e) => e.numTensors));
  const problems: string[] = [];
  if (epochs.length < 4) problems.push(`only ${epochs.length} epochs finished; need at least 4 to judge`);
  if (tensorCounts.size > 1 || tensorSlope > 0)
    problems.push(`tensor count changes between epochs: ${epochs.map((e) => e.numTensors).join(', ')}`);
  // RSS moves by tens of MiB between epochs (the allocator, the decode cache); a leak shows as a slope
  // that is also large in total, so both must be over their limits.
  const half = Math.ceil(tail.length / 2);
  const tailGrowth =
    median(tail.slice(-half).map((e) => e.rssMb)) - median(tail.slice(0, half).map((e) => e.rssMb));
  if (rssSlope > rssSlopeLimit && tailGrowth > Math.max(32, (rssSlopeLimit * tail.length) / 2))
    problems.push(
      `RSS grows ${rssSlope.toFixed(2)} MiB per epoch over the second half (limit ${rssSlopeLimit}), ${tailGrowth.toFixed(0)} MiB in all`,
    );
  emit({
    kind: 'summary',
    status: result.status,
    minutes: Math.round((performance.now() - started) / 6000) / 10,
    epochs: epochs.length,
    numTensorsFirst: epochs[0]?.numTensors,
    numTensorsLast: epochs.at(-1)?.numTensors,
    rssFirstMb: epochs[0]?.rssMb,
    rssLastMb: epochs.at(-1)?.rssMb,
    rssSlopeSecondHalfMbPerEpoch: Math.round(rssSlope * 100) / 100,
    rssGrowthSecondHalfMb: Math.round(tailGrowth),
    peakRssMb: Math.round(peakRssMb()),
    load_1m_min: Math.min(...loads),
    load_1m_max: Math.max(...loads),
    verdict: problems.length === 0 ? 'no growth' : 'GROWTH',
    problems,
  });
  if (!args.keep) rmSync(root, { recursive: true, force: true });
  else process.stderr.write(`soak: kept ${root}\n`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
