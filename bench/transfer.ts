// The transfer recipe of BENCHMARKS.md (issue 6), through the path a user takes:
//   attnvgg train <folder> --backbone vgg16_bn.onnx --preset quick --size S
// The folder holds train/ (the first 100 training images of each Fashion-MNIST class: 1,000 PNG files)
// and val/ (the first 1,000 test images). The backbone is torchvision's vgg16_bn with random weights and
// BatchNorm statistics, exported to ONNX with torch.onnx.export (BatchNorm folded): the file a user has,
// without an ImageNet download. The quick preset caches the frozen backbone's outputs once (onnxruntime,
// half precision) and trains the attention heads and the classifier for 5 epochs (Adam, lr 1e-3, batch
// 32), then validates and evaluates. Measured: the command's wall time from start to a validated model
// (its run folder written), its peak RSS (/usr/bin/time), and the split into caching and head training
// from its --json events. Against it, `attnvgg_torch.py transfer --size S --per-class 100`, run right
// after in the same session, once per round, also under /usr/bin/time. A peer that is killed (the OOM
// killer at S=224) is reported with its wall time until then: a lower bound on what it would have taken.
// The folder and the backbone are written once, untimed, under --dir.
//
// Run: node --import tsx bench/transfer.ts --size 128|224 [--rounds 1] [--dir $TMPDIR/attnvgg-bench-transfer]
//        [--views 1] [--preset quick|balanced] [--engine tfjs|onnxruntime] [--extra "--more --train --options"]
//        [--no-peer] [--no-ours] [--peer PATH]
// --engine runs ours once per named engine in each round, in the order given (comma-separated), so the
// engines are measured back to back; the peer has no balanced recipe (--no-peer there).
import { spawnSync } from 'node:child_process';
import { access, link, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FASHION_MNIST_CLASSES, writeFashionMnist } from '../main/services/datasets/fashion-mnist.js';
import type { TrainingEvent } from '../main/services/training/training-events.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '1' },
    // Outside the repository: the 11,000 PNGs and the 528 MB backbone must never be committed.
    dir: { type: 'string', default: join(tmpdir(), 'attnvgg-bench-transfer') },
    views: { type: 'string', default: '1' },
    preset: { type: 'string', default: 'quick' },
    engine: { type: 'string', default: '' },
    extra: { type: 'string', default: '' },
    peer: { type: 'string', default: process.env.ATTNVGG_PEER ?? '../shared/peers/attnvgg_torch.py' },
    'no-peer': { type: 'boolean', default: false },
    'no-ours': { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const rounds = Number(values.rounds);
const dir = resolve(values.dir as string);
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const load = () => loadavg().map((l) => Math.round(l * 100) / 100);
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const seconds = (ms: number) => +(ms / 1000).toFixed(1);

/** The dataset folder (train/ and val/, hard links to the written PNGs) and the backbone file. */
async function prepare(): Promise<{ folder: string; backbone: string }> {
  const train = join(dir, 'train-100');
  const test = join(dir, 'test');
  if (!(await exists(join(train, FASHION_MNIST_CLASSES[9]))))
    await writeFashionMnist(train, { split: 'train', perClass: 100 });
  if (!(await exists(join(test, FASHION_MNIST_CLASSES[9])))) await writeFashionMnist(test, { split: 'test' });
  const folder = join(dir, 'folder');
  if (!(await exists(join(folder, 'val', FASHION_MNIST_CLASSES[9])))) {
    await rm(folder, { recursive: true, force: true });
    for (const name of FASHION_MNIST_CLASSES) {
      for (const [split, from, keep] of [
        ['train', train, () => true],
        // The first 1,000 test images: file names are their positions in the idx file.
        ['val', test, (f: string) => Number(f.slice(0, -4)) < 1000],
      ] as const) {
        await mkdir(join(folder, split, name), { recursive: true });
        for (const f of (await readdir(join(from, name))).filter((f) => f.endsWith('.png') && keep(f)))
          await link(join(from, name, f), join(folder, split, name, f));
      }
    }
  }
  const backbone = join(dir, 'backbone', 'folded.onnx');
  if (!(await exists(backbone))) {
    await mkdir(join(dir, 'backbone'), { recursive: true });
    const r = spawnSync(
      '/usr/bin/python3',
      ['test/fixtures/torchvision_vgg16bn_onnx.py', '224', join(dir, 'backbone'), 'folded'],
      { stdio: 'inherit' },
    );
    if (r.status !== 0) throw new Error('exporting the torchvision backbone failed (python3-torchvision?)');
  }
  return { folder, backbone };
}

/** Runs a command under /usr/bin/time: wall seconds, peak RSS, exit status or signal, its stdout. */
function timed(command: string, args: string[]) {
  const timeFile = join(dir, 'time.txt');
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%M', command, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const wallMs = performance.now() - t0;
  return { r, wallMs, timeFile };
}

async function peakRssMib(timeFile: string): Promise<number | null> {
  // GNU time writes "Command terminated by signal 9" before the figure when the child was killed.
  const kib = Number((await readFile(timeFile, 'utf8')).trim().split('\n').at(-1));
  return Number.isFinite(kib) ? Math.round(kib / 1024) : null;
}

async function ours(prepared: { folder: string; backbone: string }, round: number, engine: string) {
  const runDir = join(dir, `run-${size}-${round}${engine ? `-${engine}` : ''}`);
  await rm(runDir, { recursive: true, force: true });
  const loadBefore = load();
  const { r, wallMs, timeFile } = timed(process.execPath, [
    'scripts/attnvgg.mjs',
    'train',
    prepared.folder,
    '--backbone',
    prepared.backbone,
    '--preset',
    String(values.preset),
    '--size',
    String(size),
    '--cached-views',
    String(values.views),
    ...(engine ? ['--engine', engine] : []),
    ...String(values.extra).split(' ').filter(Boolean),
    '--out',
    runDir,
    '--json',
  ]);
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TrainingEvent & { time?: string });
  const finished = events.find((e) => e.type === 'finished');
  if (r.status !== 0 || finished?.type !== 'finished' || finished.status !== 'completed')
    return { who: 'ours', round, error: r.stdout.slice(-2000), status: r.status, signal: r.signal };
  const epochs = events.filter((e) => e.type === 'epoch');
  const evaluated = events.filter((e) => e.type === 'evaluated');
  const started = events.find((e) => e.type === 'started');
  // An epoch event's trainSeconds is the run's training time so far (cumulative): the last one is the total.
  // (Until 2026-12-07 this summed them, which overstated the head time: 15 epoch-times for 5 epochs.)
  const headSeconds = epochs.at(-1)?.trainSeconds ?? 0;
  // The events on stdout carry no times; the run's metrics.jsonl records the same events with theirs.
  const timedEvents = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TrainingEvent & { time?: string });
  const phases = phaseSeconds(timedEvents);
  return {
    who: 'ours',
    round,
    size,
    command:
      `attnvgg train --backbone --preset ${values.preset}${engine ? ` --engine ${engine}` : ''} ${values.extra}`.trim(),
    engine: started?.engine,
    images: started?.trainImages,
    validation_images: started?.valImages,
    views: Number(values.views),
    total_seconds: seconds(wallMs),
    head_train_seconds: +headSeconds.toFixed(1),
    ...phases,
    train_loss: epochs.map((e) => +e.trainLoss.toFixed(4)),
    val_acc: epochs.at(-1)?.valAccuracy,
    evaluated: evaluated.map((e) => ({ split: e.split, accuracy: e.accuracy, images: e.images })),
    peak_rss_mib: await peakRssMib(timeFile),
    load_before: loadBefore,
    load_after: load(),
  };
}

/**
 * The run's phases from its events' times: caching (start to the last caching event), the head phase
 * (from there to the last epoch's validation) and the final evaluation (from there to the end).
 */
function phaseSeconds(events: readonly (TrainingEvent & { time?: string })[]) {
  const at = (e: { time?: string } | undefined) => (e?.time ? Date.parse(e.time) : Number.NaN);
  const started = at(events.find((e) => e.type === 'started'));
  const cached = at(events.filter((e) => e.type === 'caching').at(-1));
  const lastEpoch = at(events.filter((e) => e.type === 'epoch').at(-1));
  const finished = at(events.find((e) => e.type === 'finished'));
  const s = (ms: number) => (Number.isFinite(ms) ? +(ms / 1000).toFixed(1) : null);
  return {
    caching_seconds: s(cached - started),
    head_phase_seconds: s(lastEpoch - cached),
    final_evaluation_seconds: s(finished - lastEpoch),
  };
}

async function peer(round: number) {
  const loadBefore = load();
  const { r, wallMs, timeFile } = timed('/usr/bin/python3', [
    values.peer as string,
    'transfer',
    '--size',
    String(size),
    '--per-class',
    '100',
  ]);
  const common = {
    who: 'peer',
    round,
    size,
    process_wall_seconds: seconds(wallMs),
    peak_rss_mib: await peakRssMib(timeFile),
    load_before: loadBefore,
    load_after: load(),
  };
  if (r.status !== 0)
    // /usr/bin/time exits 128 + N when the child died of signal N (137: SIGKILL, the OOM killer).
    return {
      ...common,
      error: (await readFile(timeFile, 'utf8')).trim(),
      status: r.status,
      note: 'did not finish: its wall time is a lower bound',
    };
  const line = r.stdout.trim().split('\n').at(-1) ?? '{}';
  return { ...common, ...(JSON.parse(line) as Record<string, unknown>) };
}

async function main() {
  emit({
    machine: `${availableParallelism()} x ${cpus()[0]?.model ?? '?'}`,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  });
  const prepared = await prepare();
  for (let round = 1; round <= rounds; round++) {
    if (!values['no-ours'])
      for (const engine of String(values.engine).split(',')) emit(await ours(prepared, round, engine.trim()));
    if (!values['no-peer']) emit(await peer(round));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
