// The comparison end to end on a tiny generated shapes dataset (3 classes, 32 px, S=32, width 1/16, two
// epochs): every field of the report checked against the run folders it came from, the time limit, a
// cancel, the CLI, and the HTML page in headless Chromium (skipped with the reason when it is missing).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { COMPARE_PHASES } from '../../../main/api/compare-schemas.js';
import { cli } from '../../helpers/cli.js';
import { tempShapesDataset } from '../../helpers/shapes-folder.js';
import { countParameters } from '../../../models/core/spec.js';
import { wilsonInterval } from '../../../models/core/metrics.js';
import {
  compareAttention,
  mcnemarTest,
  parseCompareReport,
  verdictOf,
  type CompareEvent,
  type CompareReport,
} from '../../../main/services/compare/index.js';
import { scanDataset } from '../../../main/services/datasets/scan-dataset.js';
import { readShapesBoxes } from '../../../main/services/sample/index.js';
import { attentionPointingGame } from '../../../main/services/training/attention-pointing.js';
import type { EvaluationReport } from '../../../main/services/training/evaluate-model.js';
import { loadRunModel } from '../../../main/services/training/load-run-model.js';
import { readMetrics, readRunRecord } from '../../../main/services/training/run-folder.js';
import { TrainingControl } from '../../../main/services/training/training-run.js';
import { skipOrFail } from '../../helpers/skip-or-fail.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TRAINING = {
  inputSize: 32,
  width: 0.0625,
  epochs: 2,
  batchSize: 16,
  optimizer: 'adam',
  lr: 0.002,
} as const;

let dir = '';
let data = '';
before(async () => {
  ({ dir, dataset: data } = await tempShapesDataset('attnvgg-compare-', {
    classes: 3,
    size: 32,
    counts: { train: 24, val: 8, test: 8 },
    seed: 1,
  }));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;
const close = (a: number, b: number, rel: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-12), `${what}: ${a} vs ${b}`);

describe('compareAttention on a tiny shapes dataset', () => {
  let outDir = '';
  let report: CompareReport;
  const events: CompareEvent[] = [];

  before(async () => {
    outDir = join(dir, 'epochs');
    const result = await compareAttention(
      data,
      { training: TRAINING, explainImages: 4, inferenceRounds: 3 },
      { outDir, onEvent: (e) => events.push(e) },
    );
    assert.equal(result.status, 'completed');
    report = result.report as CompareReport;
  });

  it('reports progress for both models in order, then the phases', () => {
    const kinds = events.map((e) => (e.type === 'training' ? `${e.model}:${e.event.type}` : e.type));
    assert.equal(kinds[0], 'compare-started');
    const started = events.filter((e) => e.type === 'model-started').map((e) => e.model);
    assert.deepEqual(started, ['attention', 'plain']);
    const lastAttention = kinds.lastIndexOf('attention:finished');
    assert.ok(lastAttention > 0 && lastAttention < kinds.indexOf('plain:started'));
    assert.ok(kinds.includes('attention:step') && kinds.includes('plain:epoch'));
    const phases = events.flatMap((e) => (e.type === 'phase' ? [e.phase] : []));
    assert.deepEqual(phases, [...COMPARE_PHASES]);
    const finished = events.at(-1);
    assert.ok(finished?.type === 'finished' && finished.status === 'completed');
    assert.equal(finished.verdict?.text, report.verdict.text);
    const mf = events.filter((e) => e.type === 'model-finished');
    assert.equal(mf.length, 2);
    for (const e of mf)
      if (e.type === 'model-finished') assert.equal(e.accuracy, report.models[e.model].evaluation.accuracy);
  });

  it('writes a report that passes its schema, with the settings both runs used', async () => {
    const onDisk = parseCompareReport(await readJson(join(outDir, 'compare.json')));
    assert.deepEqual(onDisk, report);
    assert.equal(report.format, 'attnvgg-compare/1');
    assert.ok(Number.isFinite(Date.parse(report.createdAt)));
    assert.match(report.appVersion, /^\d+\.\d+\.\d+/);
    assert.equal(report.dataset, data);
    assert.deepEqual(report.classes, ['circle', 'square', 'triangle']);
    assert.equal(report.settings.preset, null);
    assert.deepEqual(report.settings.budget, { kind: 'epochs', epochs: 2 });
    for (const [k, v] of Object.entries(TRAINING)) assert.equal(report.settings.training[k], v, k);
    assert.equal('attention' in report.settings.training, false);
    assert.equal('dataset' in report.settings.training, false);
    assert.deepEqual(report.warnings, []);
    // Both runs: same settings but attention.
    const [a, p] = await Promise.all([
      readRunRecord(join(outDir, 'attention')),
      readRunRecord(join(outDir, 'plain')),
    ]);
    assert.equal(a.config.attention, true);
    assert.equal(p.config.attention, false);
    assert.deepEqual({ ...a.config, attention: false }, p.config);
  });

  for (const which of ['attention', 'plain'] as const) {
    it(`${which}: evaluation, parameters, training and inference figures match their sources`, async () => {
      const m = report.models[which];
      const runDir = join(outDir, m.runDir);
      assert.equal(m.runDir, which);
      const record = await readRunRecord(runDir);
      assert.equal(m.status, record.status);
      assert.equal(m.status, 'completed');
      assert.equal(m.attention, which === 'attention');
      assert.deepEqual(m.spec, record.spec);
      assert.equal(m.parameters.total, countParameters(record.spec));
      assert.equal(
        m.parameters.trainable,
        countParameters(record.spec, (q) => q.trainable),
      );
      assert.ok(m.parameters.trainable < m.parameters.total);

      const evaluation = await readJson<EvaluationReport>(join(runDir, 'evaluation.json'));
      const e = m.evaluation;
      assert.equal(e.split, 'test');
      assert.equal(e.images, 24);
      assert.equal(e.correct, evaluation.predictions.filter((q) => q.correct).length);
      assert.equal(e.accuracy, e.correct / e.images);
      assert.deepEqual(e.accuracyInterval, wilsonInterval(e.correct, e.images));
      assert.equal(e.macroF1, evaluation.metrics.macroF1);
      close(e.loss as number, evaluation.loss, 1e-12, 'loss');
      assert.deepEqual(e.perClass, evaluation.metrics.perClass);
      assert.deepEqual(
        e.perClass.map((c) => c.support),
        [8, 8, 8],
      );
      assert.equal(
        e.confusion.flat().reduce((s, v) => s + v, 0),
        24,
      );
      assert.equal(
        e.confusion.reduce((s, row, i) => s + row[i], 0),
        e.correct,
      );
      assert.equal(e.weights, 'best');

      const t = m.training;
      const metrics = await readMetrics(runDir);
      const epochs = metrics.filter((x) => x.type === 'epoch');
      assert.equal(t.stoppedBy, 'epochs');
      assert.equal(t.epochsCompleted, 2);
      assert.equal(t.steps, metrics.filter((x) => x.type === 'step').length);
      assert.equal(t.steps, 2 * Math.ceil(72 / 16));
      assert.equal(t.images, 2 * 72);
      const last = epochs.at(-1);
      assert.ok(last?.type === 'epoch');
      // Step seconds summed from the events equal the run's own count of training seconds.
      close(t.trainSeconds, last.trainSeconds, 1e-6, 'training seconds');
      assert.ok(t.wallSeconds >= t.trainSeconds);
      close(t.imagesPerSecond, t.images / t.trainSeconds, 1e-12, 'training images/s');
      assert.equal(t.backend, record.backend);

      const inf = m.inference;
      assert.equal(inf.modelFile, `models/${which}.onnx`);
      assert.equal(inf.onnxBytes, (await stat(join(outDir, inf.modelFile))).size);
      assert.ok(existsSync(join(outDir, `models/${which}.json`)), 'sidecar');
      assert.equal(inf.images, 24);
      assert.equal(inf.batch, 32);
      assert.ok(inf.threads >= 1);
      assert.equal(inf.rounds, 3);
      assert.equal(inf.roundImagesPerSecond.length, 3);
      const sorted = [...inf.roundImagesPerSecond].sort((x, y) => x - y);
      assert.equal(inf.imagesPerSecond, sorted[1]);
    });
  }

  it('pairs the same images, runs McNemar on them and words the verdict accordingly', async () => {
    const [a, p] = await Promise.all(
      ['attention', 'plain'].map((w) => readJson<EvaluationReport>(join(outDir, w, 'evaluation.json'))),
    );
    const plainRight = new Map(p.predictions.map((q) => [q.path, q.correct]));
    const cells = { bothCorrect: 0, attentionOnly: 0, plainOnly: 0, bothWrong: 0 };
    for (const q of a.predictions) {
      const other = plainRight.get(q.path);
      assert.notEqual(other, undefined, 'both models saw the same images');
      if (q.correct && other) cells.bothCorrect++;
      else if (q.correct) cells.attentionOnly++;
      else if (other) cells.plainOnly++;
      else cells.bothWrong++;
    }
    assert.deepEqual(report.paired, {
      split: 'test',
      n: 24,
      ...cells,
      unpaired: 0,
      mcnemar: mcnemarTest(cells.attentionOnly, cells.plainOnly),
    });
    assert.deepEqual(report.verdict, verdictOf(report.paired, report.paired.mcnemar));
    close(
      report.verdict.differencePoints,
      100 * (report.models.attention.evaluation.accuracy - report.models.plain.evaluation.accuracy),
      1e-9,
      'difference',
    );
    assert.deepEqual(
      report.perClass.map((c) => [c.label, c.support, c.attentionRecall, c.plainRecall]),
      report.models.attention.evaluation.perClass.map((c, i) => [
        c.label,
        c.support,
        c.recall,
        report.models.plain.evaluation.perClass[i].recall,
      ]),
    );
    for (const c of report.perClass) {
      close(c.recallDifferencePoints, 100 * (c.attentionRecall - c.plainRecall), 1e-9, 'recall difference');
      close(c.f1DifferencePoints, 100 * (c.attentionF1 - c.plainF1), 1e-9, 'F1 difference');
    }
  });

  it('explains pictures of every class with both models, as PNGs the report points to', async () => {
    const ex = report.explanations;
    assert.equal(ex.size, 128);
    assert.equal(ex.images.length, 4);
    assert.deepEqual(
      ex.images.map((i) => i.label),
      ['circle', 'square', 'triangle', 'circle'],
    );
    for (const img of ex.images) {
      assert.equal(img.relativePath.split('/')[1], img.label);
      assert.ok(report.classes.includes(img.attention.predicted));
      assert.ok(report.classes.includes(img.plain.predicted));
      assert.ok(img.attention.confidence >= 1 / 3 && img.plain.confidence >= 1 / 3);
      for (const file of [img.picture, img.attention.overlay, img.plain.overlay]) {
        const meta = await sharp(join(outDir, file)).metadata();
        assert.equal(meta.format, 'png');
        assert.equal(meta.width, 128);
        assert.equal(meta.height, 128);
      }
    }
  });

  it('plays the pointing game for both; the finest attention score equals the demo pointing game', async () => {
    const p = report.pointing;
    assert.ok(p);
    assert.equal(p.split, 'test');
    assert.equal(p.images, 24);
    const scan = await scanDataset(data, {});
    const testItems = scan.items.filter((i) => i.split === 'test');
    const reference = await attentionPointingGame(
      await loadRunModel(join(outDir, 'attention')),
      testItems,
      await readShapesBoxes(data),
    );
    assert.equal(p.attentionFinest.hits, reference.hits);
    close(p.chanceRate, reference.chanceRate, 1e-12, 'chance rate');
    assert.equal(p.attentionFinest.resolution, 'native 8 x 8');
    assert.equal(p.attentionConv13.resolution, 'native 2 x 2');
    assert.equal(p.gradCamConv13.resolution, 'native 2 x 2');
    assert.equal(p.attentionCombined.resolution, 'picture 32 x 32 (bilinear)');
    for (const s of [p.attentionFinest, p.attentionCombined, p.attentionConv13, p.gradCamConv13]) {
      assert.equal(s.total, 24);
      assert.equal(s.hitRate, s.hits / 24);
    }
  });

  it('writes a self-contained page that opens in headless Chromium without errors', async (t) => {
    const html = await readFile(join(outDir, 'compare.html'), 'utf8');
    assert.ok(html.includes(report.verdict.text.replace(/&/g, '&#38;')));
    assert.doesNotMatch(html, /<script/i);
    const missing = skipOrFail(
      existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium)`,
    );
    if (missing) return t.skip(missing);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!/^(file|data):/.test(r.url())) problems.push(`request to ${r.url()}`);
      });
      page.on('requestfailed', (r) => problems.push(`failed: ${r.url().slice(0, 80)}`));
      await page.goto(pathToFileURL(join(outDir, 'compare.html')).href, { waitUntil: 'load' });
      const images = await page.$$eval('img', (list) =>
        list.map((i) => ({ ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth })),
      );
      assert.equal(images.length, 12);
      for (const i of images) assert.ok(i.ok && i.w === 128, JSON.stringify(i));
      assert.equal(await page.textContent('.verdict'), report.verdict.text);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});

describe('compareAttention budgets and stops', () => {
  it('gives both models the same time limit, stopping at a step boundary, and still reports', async () => {
    const outDir = join(dir, 'time');
    const reached: CompareEvent[] = [];
    // 1 ms: the limit is used up by the first step, so each model trains exactly one step.
    const result = await compareAttention(
      data,
      { training: { ...TRAINING, epochs: 3 }, timeLimitSeconds: 0.001, explainImages: 1, inferenceRounds: 1 },
      { outDir, onEvent: (e) => e.type === 'budget-reached' && reached.push(e) },
    );
    assert.equal(result.status, 'completed');
    const r = result.report as CompareReport;
    assert.deepEqual(r.settings.budget, { kind: 'time', seconds: 0.001, epochs: 3 });
    assert.deepEqual(
      reached.map((e) => e.type === 'budget-reached' && [e.model, e.epoch, e.step]),
      [
        ['attention', 0, 1],
        ['plain', 0, 1],
      ],
    );
    for (const which of ['attention', 'plain'] as const) {
      const m = r.models[which];
      assert.equal(m.training.stoppedBy, 'time-limit');
      assert.equal(m.training.steps, 1);
      assert.equal(m.training.epochsCompleted, 0);
      assert.equal(m.status, 'cancelled');
      assert.equal(m.evaluation.weights, 'last');
      assert.equal(m.evaluation.images, 24);
      // The evaluation the loop did not write is in the run folder now, and the report agrees with it.
      const evaluation = await readJson<EvaluationReport>(join(outDir, which, 'evaluation.json'));
      assert.equal(evaluation.metrics.accuracy, m.evaluation.accuracy);
    }
    assert.equal(r.warnings.length, 2);
    assert.match(r.warnings[0], /did not finish one epoch within the time limit/);
  });

  it('stops when asked, without a report', async () => {
    const outDir = join(dir, 'cancel');
    const control = new TrainingControl();
    const events: CompareEvent[] = [];
    const result = await compareAttention(
      data,
      { training: TRAINING },
      {
        outDir,
        control,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'training' && e.event.type === 'step') control.request('cancel');
        },
      },
    );
    assert.equal(result.status, 'cancelled');
    assert.equal(result.report, undefined);
    assert.equal(existsSync(join(outDir, 'compare.json')), false);
    assert.equal(existsSync(join(outDir, 'plain')), false, 'the second model never started');
    assert.equal((await readRunRecord(join(outDir, 'attention'))).status, 'cancelled');
    const last = events.at(-1);
    assert.ok(last?.type === 'finished' && last.status === 'cancelled');
  });

  it('refuses a folder that already holds a comparison, and bad settings before training', async () => {
    await assert.rejects(
      compareAttention(data, { training: TRAINING }, { outDir: join(dir, 'epochs') }),
      /already holds a comparison/,
    );
    await assert.rejects(
      compareAttention(data, { training: { ...TRAINING, inputSize: 33 } }, { outDir: join(dir, 'bad') }),
      /input size must be a multiple of 32/,
    );
    assert.equal(existsSync(join(dir, 'bad', 'attention')), false);
  });
});

describe('attnvgg compare', () => {
  it('checks its usage', async () => {
    assert.equal((await cli('compare', data)).code, 2);
    assert.equal((await cli('compare', data, '--out', join(dir, 'x'), '--no-attention')).code, 2);
    assert.equal((await cli('compare', data, '--out', join(dir, 'x'), '--time-limit', '0')).code, 2);
    const help = await cli('compare', '--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /--time-limit MIN/);
    assert.match(help.out, /--epochs N/);
    assert.doesNotMatch(help.out, /--no-attention/);
  });

  it('runs a comparison with the train command options and prints JSON events', async () => {
    const outDir = join(dir, 'cli');
    const args = ['compare', data, '--out', outDir, '--size', '32', '--width', '0.0625', '--epochs', '1'];
    const { code, out, err } = await cli(...args, '--batch', '16', '--explain', '2', '--json');
    assert.equal(code, 0, err);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as CompareEvent);
    assert.equal(lines[0].type, 'compare-started');
    const last = lines.at(-1);
    assert.ok(last?.type === 'finished' && last.status === 'completed');
    const r = parseCompareReport(await readJson(join(outDir, 'compare.json')));
    assert.equal(r.settings.training.inputSize, 32);
    assert.equal(r.settings.training.batchSize, 16);
    assert.equal(r.models.plain.training.epochsCompleted, 1);
    assert.equal(r.explanations.images.length, 2);
  });
});
