// A hostile dataset folder (test/fixtures/make-hostile-images.ts): the scan, a short training run and a
// classification over it all complete, list every bad file with its reason, survive files vanishing while
// they run, and keep memory bounded on decompression bombs (sharp's pixel limit on, nothing allocated
// from a bomb's claimed size).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyFolder } from '../../main/services/classify/index.js';
import { scanDataset } from '../../main/services/datasets/scan-dataset.js';
import { checkImageFile } from '../../main/services/datasets/check-image-file.js';
import { exportRun } from '../../main/services/export/index.js';
import { decodeImageRgb8, ImageError } from '../../main/services/images/index.js';
import { startTraining } from '../../main/services/training/training-run.js';
import type { TrainingEvent } from '../../main/services/training/training-events.js';
import { makeHostileDataset, pngBomb, type HostileDataset } from '../fixtures/make-hostile-images.js';
import { resultsOf } from '../helpers/classify-results.js';

const MiB = 2 ** 20;
let dir = '';
let data: HostileDataset;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-hostile-'));
  data = await makeHostileDataset(join(dir, 'data'));
  for (const reason of data.notBuilt) console.log(`# not built here: ${reason}`);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Re-creates the vanishing pictures (a previous test deleted them). */
async function restoreVanishing(): Promise<void> {
  for (const [i, path] of data.vanishing.entries())
    await writeFile(
      path,
      await (
        await import('sharp')
      )
        .default({
          create: { width: 20 + i, height: 20, channels: 3, background: { r: 10 * i, g: 90, b: 200 } },
        })
        .png()
        .toBuffer(),
    );
}

async function deleteVanishing(): Promise<void> {
  await Promise.all(data.vanishing.map((p) => rm(p, { force: true })));
}

describe('hostile images', () => {
  it('the scan completes, keeps every valid picture and lists every bad file with its reason', async () => {
    await restoreVanishing();
    let deleted = false;
    const rssBefore = process.memoryUsage().rss;
    const scan = await scanDataset(data.root, {
      concurrency: 2,
      progressIntervalMs: 0,
      onProgress: (p) => {
        // Racing deletion: the first progress report comes while the walk is still going.
        if (!deleted && p.seen >= 1) {
          deleted = true;
          void deleteVanishing();
        }
      },
    });
    const rssGrowth = (process.memoryUsage().rss - rssBefore) / MiB;
    assert.deepEqual(scan.errors, []);
    assert.deepEqual(
      scan.classes.map((c) => c.name),
      data.classes,
    );
    const items = new Set(scan.items.map((i) => i.relativePath));
    const problems = new Map(scan.problems.map((p) => [p.path, p]));
    for (const f of data.files) {
      if (f.scan === 'ok') {
        assert.ok(items.has(f.relativePath), `${f.relativePath} (${f.note}) should be usable`);
        continue;
      }
      const p = problems.get(f.relativePath);
      assert.ok(p, `${f.relativePath} (${f.note}) should be listed as ${f.scan}`);
      assert.equal(p.reason, f.scan, `${f.relativePath} (${f.note}): ${p.message}`);
      assert.ok(p.message.length > 20, `${f.relativePath} has a message in words`);
    }
    // A vanished file is either never seen or reported missing; never an item, never a crash.
    for (const path of data.vanishing) {
      const rel = `beta/${path.split('/').pop()}`;
      assert.ok(!items.has(rel), `${rel} was deleted during the scan but listed as usable`);
      const p = problems.get(rel);
      if (p) assert.equal(p.reason, 'missing', p.message);
    }
    assert.ok(deleted, 'the deletion hook ran');
    // Three 30000 x 30000 bombs would take gigabytes if decoded; the scan reads headers only.
    assert.ok(rssGrowth < 150, `RSS grew ${rssGrowth.toFixed(0)} MiB during the scan`);
  });

  it('decoding a bomb is refused from its header, before any pixels are allocated', async () => {
    for (const bomb of data.bombs) {
      const rssBefore = process.memoryUsage().rss;
      await assert.rejects(decodeImageRgb8(bomb, { size: 32 }), (e: unknown) => {
        assert.ok(e instanceof ImageError);
        assert.equal(e.reason, 'too-large');
        assert.match(e.message, /30000/);
        return true;
      });
      // Even when the caller raises the limit past the header check, sharp's own limitInputPixels
      // refuses it at the same number: the check full decode also gives a reason, not a crash.
      const full = await checkImageFile(bomb, { fullDecode: true });
      assert.equal(full.ok, false);
      const growth = (process.memoryUsage().rss - rssBefore) / MiB;
      assert.ok(growth < 100, `RSS grew ${growth.toFixed(0)} MiB on ${bomb}`);
    }
  });

  it('a bomb just under the pixel limit (16000 x 16000) decodes in bounded memory', async (t) => {
    // 256 Mpx: under the default limit, so it is decoded. Materialised as RGB it would take 768 MB;
    // libvips streams it through the resize instead. Peak RSS is read from Linux's VmHWM after a reset.
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      return t.skip('cannot reset the peak RSS here (not Linux): nothing to measure');
    }
    const path = join(dir, 'bomb-16k.png');
    await writeFile(path, await pngBomb(16000, 16000));
    writeFileSync('/proc/self/clear_refs', '5');
    const before = process.memoryUsage().rss / MiB;
    const image = await decodeImageRgb8(path, { size: 32 });
    assert.equal(image.data.length, 32 * 32 * 3);
    const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
    t.diagnostic(`peak RSS ${peak.toFixed(0)} MiB, ${(peak - before).toFixed(0)} MiB over the start`);
    assert.ok(peak - before < 300, `peak RSS rose ${(peak - before).toFixed(0)} MiB`);
  });

  it(
    'a named pipe read by name (as after a swap mid-scan) is refused at once, not waited on',
    { timeout: 20_000 },
    async (t) => {
      const pipe = join(data.root, 'beta', 'pipe.png');
      if (!data.files.some((f) => f.relativePath === 'beta/pipe.png'))
        return t.skip('no named pipe could be made here');
      const started = Date.now();
      await assert.rejects(decodeImageRgb8(pipe, { size: 32 }), (e: unknown) => {
        assert.ok(e instanceof ImageError);
        assert.equal(e.reason, 'unreadable');
        return true;
      });
      const check = await checkImageFile(pipe);
      assert.equal(check.ok ? 'ok' : check.reason, 'unreadable');
      assert.ok(Date.now() - started < 5000, 'no wait for a writer');
    },
  );

  it('a file nobody may read is reported unreadable by the scan (as "nobody" when running as root)', async (t) => {
    if (data.unreadableIsEffective) {
      const scan = await scanDataset(data.root);
      assert.equal(scan.problems.find((p) => p.path === 'alpha/corpus/locked.png')?.reason, 'unreadable');
      return;
    }
    if (process.getuid?.() !== 0) {
      t.skip('chmod 000 does not stop reads here and this is not root, so no other user can be used');
      return;
    }
    // Root reads anything: re-run the check in a child process as uid/gid 65534 ("nobody").
    await chmod(dir, 0o755);
    const module = fileURLToPath(new URL('../../main/services/datasets/scan-dataset.ts', import.meta.url));
    const script =
      `const { scanDataset } = await import(${JSON.stringify(module)});` +
      `const s = await scanDataset(process.argv[1]);` +
      `console.log(JSON.stringify(s.problems.find((p) => p.path === 'alpha/corpus/locked.png') ?? null));`;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, data.root],
      {
        encoding: 'utf8',
        uid: 65534,
        gid: 65534,
        env: { ...process.env, HOME: tmpdir(), TSX_DISABLE_CACHE: '1' },
        timeout: 60_000,
      },
    );
    if (child.status !== 0) {
      t.skip(`could not run as uid 65534: ${(child.stderr || String(child.error)).split('\n')[0]}`);
      return;
    }
    const problem = JSON.parse(child.stdout.trim().split('\n').pop() as string) as {
      reason: string;
      message: string;
    } | null;
    assert.equal(problem?.reason, 'unreadable', child.stdout);
    assert.match(problem?.message ?? '', /permission denied/);
  });

  it('a short training run and a classification complete, reporting each bad file', async () => {
    await restoreVanishing();
    const events: TrainingEvent[] = [];
    const runDir = join(dir, 'run');
    const result = await startTraining(
      {
        dataset: data.root,
        inputSize: 32,
        width: 0.0625,
        epochs: 1,
        batchSize: 8,
        seed: 1,
        keepMisclassifiedMaps: 2,
      },
      {
        runDir,
        onEvent: (e) => {
          events.push(e);
          // After the scan, before the first batch: these files were listed as usable and are now gone.
          if (e.type === 'started') for (const p of data.vanishing) void rm(p, { force: true });
        },
      },
    );
    assert.equal(result.status, 'completed', result.record.message);
    const skipped = events.filter((e) => e.type === 'skipped-file');
    const reasonOf = (suffix: string): string | undefined =>
      skipped.find((e) => e.path.endsWith(suffix))?.reason;
    for (const f of data.files.filter((x) => x.scan !== 'ok'))
      assert.ok(reasonOf(f.relativePath), `${f.relativePath} (${f.note}) is reported by the run`);
    // Only a full decode finds damage inside a file whose header is fine.
    assert.equal(reasonOf('alpha/corpus/garbage-data.png'), 'corrupt');
    for (const p of data.vanishing) {
      const reason = reasonOf(p.split('/').pop() as string);
      // A file in the validation split may only be reached by the evaluation, which reports differently.
      if (reason !== undefined) assert.equal(reason, 'missing');
    }
    assert.ok(
      data.vanishing.some((p) => reasonOf(p.split('/').pop() as string) === 'missing'),
      'at least one vanished training file is reported missing',
    );

    // Classification over the same folder with the exported model.
    await restoreVanishing();
    const { modelPath } = await exportRun(runDir, join(dir, 'model.onnx'));
    let removed = false;
    const outcome = await classifyFolder(modelPath, [data.root], join(dir, 'classified'), {
      batch: 4,
      threads: 1,
      worker: false,
      onProgress: () => {
        if (!removed) {
          removed = true;
          void deleteVanishing();
        }
      },
    });
    assert.equal(outcome.status, 'completed');
    const byPath = new Map((await resultsOf(outcome)).results.map((r) => [r.path, r]));
    for (const bomb of data.bombs) {
      const r = byPath.get(bomb);
      assert.equal(r?.status, 'failed', bomb);
      assert.equal(r?.error?.reason, 'too-large');
    }
    const failed = (await resultsOf(outcome)).results.filter((r) => r.status === 'failed');
    for (const r of failed) assert.ok(r.error && r.error.message.length > 10, `${r.file} has a reason`);
    // Folders are walked once: alpha may be reached through beta/other-class, so compare real paths.
    const okReal = new Set(
      (await resultsOf(outcome)).results.filter((r) => r.status === 'ok').map((r) => realpathSync(r.path)),
    );
    for (const f of data.files.filter((x) => x.usable))
      assert.ok(
        okReal.has(realpathSync(join(data.root, f.relativePath))),
        `${f.relativePath} (${f.note}) is classified`,
      );
    const nonUtf8 = (await resultsOf(outcome)).results.find((r) => r.path.includes('\uFFFD'));
    if (nonUtf8) assert.match(nonUtf8.error?.message ?? '', /UTF-8/);
    for (const r of (await resultsOf(outcome)).results.filter((x) => data.vanishing.includes(x.path)))
      if (r.status === 'failed') assert.equal(r.error?.reason, 'missing');
  });
});
