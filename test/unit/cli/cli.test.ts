// The attnvgg command line: help, usage errors and exit codes, without training anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../../../main/cli/main.js';
import { cli } from '../../helpers/cli.js';
import { generateShapesDataset } from '../../../main/services/sample/index.js';
import { EXIT } from '../../../main/cli/command.js';

test('no command prints the usage and exits 2; --help exits 0', async () => {
  const none = await cli();
  assert.equal(none.code, EXIT.usage);
  assert.match(none.out, /Usage: attnvgg <command>/);
  for (const c of COMMANDS) assert.match(none.out, new RegExp(`\\b${c.name}\\b`));
  assert.equal((await cli('--help')).code, EXIT.ok);
});

test('every command has --help', async () => {
  for (const c of COMMANDS) {
    const r = await cli(c.name, '--help');
    assert.equal(r.code, EXIT.ok, c.name);
    assert.match(r.out, new RegExp(`Usage: attnvgg ${c.name}`));
  }
});

test('unknown commands and options are usage errors that list the valid choices', async () => {
  const unknown = await cli('trian');
  assert.equal(unknown.code, EXIT.usage);
  assert.match(unknown.err, /Unknown command "trian". Should be one of: .*\btrain\b/);
  const option = await cli('train', 'x', '--bogus');
  assert.equal(option.code, EXIT.usage);
  const choice = await cli('train', 'x', '--optimizer', 'rmsprop');
  assert.equal(choice.code, EXIT.usage);
  assert.match(choice.err, /Unsupported --optimizer "rmsprop". Should be one of: sgd, adam, adamw/);
  const number = await cli('train', 'x', '--epochs', 'many');
  assert.equal(number.code, EXIT.usage);
  assert.match(number.err, /--epochs expects an integer/);
});

test('a folder that is not a dataset is unusable input (exit 3), with the reason and no stack trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-cli-'));
  try {
    const r = await cli('train', join(dir, 'missing'), '--out', join(dir, 'run'), '--json');
    assert.equal(r.code, EXIT.badInput);
    assert.match(r.err, /attnvgg train: The dataset cannot be trained on/);
    assert.doesNotMatch(r.err, /\n\s+at /);
    const bad = await cli('eval', join(dir, 'no-run'), dir);
    assert.equal(bad.code, EXIT.badInput);
    assert.match(bad.err, /is not a training run/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('info reports the backend and why better ones were rejected', async () => {
  const r = await cli('info', '--json');
  assert.equal(r.code, EXIT.ok);
  const info = JSON.parse(r.out) as {
    backend: { chosen: string; attempts: { name: string; ok: boolean; reason?: string }[] };
  };
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(info.backend.chosen));
  for (const a of info.backend.attempts) if (!a.ok) assert.ok(a.reason && a.reason.length > 10);
});

test('scan lists classes per split and exits 3 for a folder that cannot be trained on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attnvgg-cli-scan-'));
  try {
    await generateShapesDataset(join(dir, 'shapes'), {
      classes: 2,
      size: 32,
      counts: { train: 3, val: 1, test: 1 },
    });
    const ok = await cli('scan', join(dir, 'shapes'));
    assert.equal(ok.code, EXIT.ok);
    assert.match(ok.out, /10 usable images in 2 classes/);
    assert.match(ok.out, /circle\s+3\s+1\s+1/);
    assert.match(ok.out, /10 of 10 pictures have object boxes \(10 from boxes-json\)/);
    const json = JSON.parse((await cli('scan', join(dir, 'shapes'), '--json')).out) as {
      classes: unknown[];
      images: number;
      boxes: { pictures: number };
    };
    assert.equal(json.images, 10);
    assert.equal(json.boxes.pictures, 10);
    const missing = await cli('scan', join(dir, 'nothing-here'));
    assert.equal(missing.code, EXIT.badInput);
    assert.match(missing.out, /does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('info names the training engine and why', async () => {
  const r = await cli('info', '--json');
  assert.equal(r.code, EXIT.ok);
  const info = JSON.parse(r.out) as { engine: { chosen: string; reasons: string[] } };
  assert.ok(['tfjs', 'onnxruntime'].includes(info.engine.chosen));
  assert.ok(info.engine.reasons.length > 0 && info.engine.reasons.every((s) => s.length > 10));
  assert.match((await cli('info')).out, /^Training engine: (tfjs|onnxruntime)/m);
});

test('train and bench refuse an unknown engine or backend with the choices', async () => {
  const train = await cli('train', 'somewhere', '--engine', 'torch');
  assert.equal(train.code, EXIT.usage);
  assert.match(train.out + train.err, /tfjs, onnxruntime/);
  const tinyBench = ['bench', 'train', '--size', '32', '--width', '0.0625', '--batch', '2'];
  const bench = await cli(...tinyBench, '--backend', 'gpu');
  assert.equal(bench.code, EXIT.usage);
  assert.match(
    bench.out + bench.err,
    /Unsupported --backend "gpu"\. Should be one of: tensorflow, wasm, cpu, onnxruntime/,
  );
  const engine = await cli(...tinyBench, '--engine', 'jax');
  assert.equal(engine.code, EXIT.usage);
  assert.match(engine.out + engine.err, /Unsupported --engine "jax"\. Should be one of: tfjs, onnxruntime/);
});

test('bench train measures the onnxruntime engine: one JSON line with backend and train_img_s', async () => {
  const r = await cli(
    'bench',
    'train',
    ...['--size', '32', '--width', '0.0625', '--batch', '2', '--steps', '2', '--warmup', '1'],
    ...['--backend', 'onnxruntime', '--engine', 'onnxruntime', '--threads', '1', '--json'],
  );
  assert.equal(r.code, EXIT.ok, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines.length, 1, 'onnxruntime named twice is measured once');
  const line = JSON.parse(lines[0]) as {
    kind: string;
    backend: string;
    train_img_s: number;
    peak_rss_mb: number;
    step_ms: number[];
    threads: number;
  };
  assert.deepEqual(
    [line.kind, line.backend, line.threads, line.step_ms.length],
    ['train', 'onnxruntime', 1, 2],
  );
  assert.ok(line.train_img_s > 0 && line.peak_rss_mb > 0);
});
