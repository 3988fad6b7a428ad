// classifyFolder on a model with random weights (no training needed): results against onnxruntime run
// directly on the same pre-processed pictures, unreadable files reported and skipped, heat-map and raw
// map files, the threshold, sorting, --resume (done files skipped, changed files redone), stopping and
// continuing, and the refusals.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openOnnxSession } from '../../../../models/onnx/session.js';
import {
  ClassifyError,
  ResultsError,
  classifyFolder,
  type ClassifyProgress,
  type ImageResult,
} from '../../../../main/services/classify/index.js';
import { exportRun, type ModelSidecar } from '../../../../main/services/export/index.js';
import { decodeImage } from '../../../../main/services/images/index.js';
import { generateShapesDataset } from '../../../../main/services/sample/index.js';
import { makeRandomRun, TINY_SPEC } from '../export/run-fixture.js';
import { relativeError } from '../../../helpers/tf.js';
import { resultsOf } from '../../../helpers/classify-results.js';

let dir = '';
let model = '';
let sidecar: ModelSidecar;
let images = '';
const classes = ['circle', 'square', 'triangle'];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-classify-'));
  await makeRandomRun(join(dir, 'run'), TINY_SPEC, classes);
  ({ modelPath: model, sidecar } = await exportRun(join(dir, 'run'), join(dir, 'model.onnx')));
  images = join(dir, 'images');
  await generateShapesDataset(join(dir, 'shapes'), {
    classes: 3,
    size: 40,
    counts: { train: 3, val: 0, test: 0 },
    seed: 4,
  });
  await rm(images, { recursive: true, force: true });
  await mkdir(join(images, 'nested', 'deeper'), { recursive: true });
  for (const c of classes)
    for (const f of await readdir(join(dir, 'shapes', 'train', c)))
      await writeFile(
        join(images, c === 'square' ? 'nested' : '.', `${c}-${f}`),
        await readFile(join(dir, 'shapes', 'train', c, f)),
      );
  // A wide JPEG (cropped to its centre) and a transparent PNG (flattened onto white).
  await sharp({ create: { width: 90, height: 50, channels: 3, background: { r: 200, g: 30, b: 60 } } })
    .jpeg()
    .toFile(join(images, 'nested', 'deeper', 'wide.jpg'));
  await sharp({
    create: { width: 30, height: 30, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0.3 } },
  })
    .png()
    .toFile(join(images, 'alpha.png'));
  // Unusable files.
  await writeFile(join(images, 'notes.txt'), 'not a picture');
  await writeFile(join(images, 'empty.png'), '');
  const png = await readFile(join(images, 'alpha.png'));
  await writeFile(join(images, 'nested', 'cut.png'), png.subarray(0, png.length - 30));
  await writeFile(join(images, '.DS_Store'), 'junk');
});
after(() => rm(dir, { recursive: true, force: true }));

const GOOD = 11;
const BAD = 3;

async function direct(paths: string[]): Promise<{ probabilities: Float32Array; maps: Float32Array[] }> {
  const s = sidecar.preprocessing.size;
  const x = new Float32Array(paths.length * 3 * s * s);
  for (const [n, path] of paths.entries()) {
    const { data } = await decodeImage(path, { ...sidecar.preprocessing, size: s });
    for (let p = 0; p < s * s; p++)
      for (let c = 0; c < 3; c++) x[n * 3 * s * s + c * s * s + p] = data[p * 3 + c];
  }
  const session = await openOnnxSession(model, { intraOpThreads: 1 });
  try {
    const out = await session.run({ shape: [paths.length, 3, s, s], data: x });
    return {
      probabilities: out.probabilities.data,
      maps: ['attention_1', 'attention_2', 'attention_3'].map((k) => out[k].data),
    };
  } finally {
    await session.release();
  }
}

test('every picture classified as onnxruntime does on the same pre-processed input; unreadable files reported', async () => {
  const out = join(dir, 'out-basic');
  const events: ClassifyProgress[] = [];
  const outcome = await classifyFolder(model, [images], out, {
    batch: 4,
    topK: 3,
    onProgress: (p) => events.push(p),
  });
  assert.equal(outcome.status, 'completed');
  const { results, summary, skipped, complete } = await resultsOf(outcome);
  assert.ok(complete);
  assert.deepEqual([summary.images, summary.ok, summary.failed], [GOOD + BAD, GOOD, BAD]);
  assert.deepEqual(
    skipped.map((s) => s.reason),
    ['system-file'],
  );
  const failed = Object.fromEntries(
    results.filter((r) => r.status === 'failed').map((r) => [r.file.split('/').pop(), r.error?.reason]),
  );
  assert.deepEqual(failed, { 'cut.png': 'truncated', 'empty.png': 'empty', 'notes.txt': 'not-an-image' });
  const ok = results.filter((r) => r.status === 'ok');
  const reference = await direct(ok.map((r) => r.path));
  ok.forEach((r, n) => {
    const probs = reference.probabilities.subarray(n * 3, n * 3 + 3);
    const ours = classes.map((c) => r.top.find((t) => t.label === c)?.probability ?? Number.NaN);
    assert.ok(relativeError(ours, probs) < 1e-5, `${r.file}: ${ours} vs ${Array.from(probs)}`);
    const best = probs.indexOf(Math.max(...probs));
    assert.equal(r.label, classes[best]);
    assert.ok(r.ms > 0);
  });
  // Progress: the last event says everything is done, and counts the unreadable files.
  const last = events[events.length - 1];
  assert.deepEqual([last.done, last.total, last.failed, last.etaSeconds], [GOOD + BAD, GOOD + BAD, BAD, 0]);
  // The CSV has one line per file plus the header.
  const csv = (await readFile(outcome.csvPath, 'utf8')).trim().split('\r\n');
  assert.equal(csv.length, GOOD + BAD + 1);
  assert.match(csv[0], /^file,status,label,top1,p1,top2,p2,top3,p3,ms,/);
});

test('in a worker or on the calling thread, the same results', async () => {
  const a = await classifyFolder(model, [images], join(dir, 'out-worker'), { batch: 5 });
  const b = await classifyFolder(model, [images], join(dir, 'out-thread'), {
    batch: 3,
    worker: false,
    threads: 1,
  });
  const strip = (r: ImageResult) => [r.file, r.label, r.top.map((t) => t.label)];
  const [ra, rb] = [(await resultsOf(a)).results, (await resultsOf(b)).results];
  assert.deepEqual(ra.map(strip), rb.map(strip));
  ra.forEach((r, i) =>
    r.top.forEach((t, k) => assert.ok(Math.abs(t.probability - rb[i].top[k].probability) < 1e-5)),
  );
});

test('heat-maps: an overlay PNG per picture and the raw maps, equal to the model outputs', async () => {
  const out = join(dir, 'out-heat');
  const outcome = await classifyFolder(model, [images], out, {
    heatmaps: true,
    rawMaps: 'json',
    legend: true,
    level: 2,
    colormap: 'jet',
  });
  const ok = (await resultsOf(outcome)).results.filter((r) => r.status === 'ok');
  const reference = await direct(ok.map((r) => r.path));
  for (const [n, r] of ok.entries()) {
    assert.ok(r.overlay?.startsWith('heatmaps/'));
    const meta = await sharp(join(out, r.overlay ?? '')).metadata();
    // The shapes are 40 px (under the 256 cap, over S = 32): drawn at 40; the wide JPEG at its 50 px side.
    const side = r.file.endsWith('wide.jpg') ? 50 : r.file.endsWith('alpha.png') ? 32 : 40;
    assert.deepEqual([meta.width, meta.height], [side + (side >= 96 ? 44 : 22), side], r.file);
    const raw = JSON.parse(await readFile(join(out, r.maps?.[0] ?? ''), 'utf8')) as {
      maps: { level: number; height: number; width: number; values: number[][] }[];
    };
    assert.deepEqual(
      raw.maps.map((m) => [m.level, m.height, m.width]),
      [
        [1, 8, 8],
        [2, 4, 4],
        [3, 2, 2],
      ],
    );
    raw.maps.forEach((m, k) => {
      const size = m.height * m.width;
      const expected = reference.maps[k].subarray(n * size, (n + 1) * size);
      assert.ok(relativeError(m.values.flat(), expected) < 1e-5, `${r.file} level ${k + 1}`);
    });
  }
  const npy = await classifyFolder(model, [join(images, 'alpha.png')], join(dir, 'out-npy'), {
    rawMaps: 'npy',
  });
  assert.deepEqual((await resultsOf(npy)).results[0].maps, [
    'heatmaps/alpha.png.attention_1.npy',
    'heatmaps/alpha.png.attention_2.npy',
    'heatmaps/alpha.png.attention_3.npy',
  ]);
  assert.equal((await resultsOf(npy)).results[0].overlay, undefined);
});

test('threshold and sorting: under the threshold the label is "uncertain"; files copied per label', async () => {
  const sorted = join(dir, 'sorted');
  const outcome = await classifyFolder(model, [images], join(dir, 'out-sort'), {
    threshold: 0.99,
    sortInto: sorted,
  });
  const ok = (await resultsOf(outcome)).results.filter((r) => r.status === 'ok');
  for (const r of ok) {
    assert.equal(r.uncertain, r.top[0].probability < 0.99);
    assert.equal(r.label, r.uncertain ? 'uncertain' : r.top[0].label);
    assert.ok(r.sortedTo?.startsWith(join(sorted, r.label ?? '')));
    assert.deepEqual(await readFile(r.sortedTo ?? ''), await readFile(r.path));
  }
  const counted = (await Promise.all((await readdir(sorted)).map((d) => readdir(join(sorted, d))))).flat()
    .length;
  assert.equal(counted, GOOD);
  assert.ok(
    (await resultsOf(outcome)).results
      .filter((r) => r.status === 'failed')
      .every((r) => r.sortedTo === undefined),
  );
});

test('resume: finished files are skipped, a changed file is classified again', async () => {
  const out = join(dir, 'out-resume');
  await classifyFolder(model, [images], out, { heatmaps: true });
  const overlay = join(out, 'heatmaps', 'circle-0000.png.png');
  await rm(overlay);
  const events: ClassifyProgress[] = [];
  const again = await classifyFolder(model, [images], out, {
    resume: true,
    heatmaps: true,
    onProgress: (p) => events.push(p),
  });
  assert.equal(events[events.length - 1].resumed, GOOD + BAD, 'every row taken from the earlier run');
  assert.equal((await resultsOf(again)).summary.images, GOOD + BAD);
  await assert.rejects(readFile(overlay), 'a skipped file is not drawn again');
  const changed = join(images, 'circle-0000.png');
  const later = new Date(Date.now() + 5000);
  await utimes(changed, later, later);
  const third = await classifyFolder(model, [images], out, {
    resume: true,
    heatmaps: true,
    onProgress: (p) => events.push(p),
  });
  assert.equal(
    Math.round((await resultsOf(third)).results.find((r) => r.path === changed)?.mtimeMs ?? 0),
    later.getTime(),
  );
  await readFile(overlay); // drawn again
  assert.equal((await resultsOf(third)).summary.images, GOOD + BAD);
});

test('stopping: the results so far are saved as incomplete, and resume finishes them', async () => {
  const out = join(dir, 'out-stop');
  const controller = new AbortController();
  const stopped = await classifyFolder(model, [images], out, {
    batch: 2,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.done >= 2) controller.abort();
    },
  });
  assert.equal(stopped.status, 'cancelled');
  assert.equal((await resultsOf(stopped)).complete, false);
  const saved = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as {
    complete: boolean;
  };
  assert.equal(saved.complete, false);
  const rows = (await readFile(join(out, 'results.jsonl'), 'utf8')).trim().split('\n');
  assert.ok(rows.length >= 2 && rows.length < GOOD + BAD, `${rows.length} rows saved`);
  // A resumed run stopped in its turn keeps the earlier rows and its own, in input order.
  const again = new AbortController();
  const stoppedAgain = await classifyFolder(model, [images], out, {
    resume: true,
    batch: 1,
    signal: again.signal,
    onProgress: (p) => {
      if (p.done > rows.length) again.abort();
    },
  });
  assert.equal(stoppedAgain.status, 'cancelled');
  const kept = (await readFile(join(out, 'results.jsonl'), 'utf8')).trim().split('\n');
  assert.ok(
    kept.length > rows.length && kept.length < GOOD + BAD,
    `${kept.length} rows after the second stop`,
  );
  const indices = kept.map((l) => (JSON.parse(l) as { index: number }).index);
  assert.deepEqual(
    indices,
    [...indices].sort((x, y) => x - y),
  );
  assert.deepEqual(
    (await readdir(out)).filter((f) => f.endsWith('.next')),
    [],
  );
  const finished = await classifyFolder(model, [images], out, { resume: true, batch: 2 });
  assert.equal(finished.status, 'completed');
  assert.deepEqual(
    (await resultsOf(finished)).results.map((r) => r.index),
    Array.from({ length: GOOD + BAD }, (_, i) => i),
  );
  assert.equal((await resultsOf(finished)).summary.images, GOOD + BAD);
});

test('refusals: maps of a model without attention, results of another model, bad settings', async () => {
  await makeRandomRun(join(dir, 'plain-run'), { ...TINY_SPEC, attention: false }, classes);
  const plain = (await exportRun(join(dir, 'plain-run'), join(dir, 'plain.onnx'))).modelPath;
  await assert.rejects(
    classifyFolder(plain, [images], join(dir, 'out-plain'), { heatmaps: true }),
    (e: unknown) => e instanceof ClassifyError && /without attention/.test(String(e)),
  );
  const plainRun = await classifyFolder(plain, [join(images, 'alpha.png')], join(dir, 'out-plain'));
  assert.equal((await resultsOf(plainRun)).summary.ok, 1);
  await assert.rejects(
    classifyFolder(model, [join(images, 'alpha.png')], join(dir, 'out-plain'), { resume: true }),
    (e: unknown) => e instanceof ResultsError && /another model/.test(String(e)),
  );
  await assert.rejects(classifyFolder(model, [images], join(dir, 'x'), { threshold: 2 }), ClassifyError);
  await assert.rejects(classifyFolder(model, [images], join(dir, 'x'), { link: true }), /--sort-into/);
  await assert.rejects(classifyFolder(model, [join(dir, 'missing')], join(dir, 'x')), /does not exist/);
});
