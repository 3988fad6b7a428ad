// A run's feature cache precision (TrainingConfig.featureCachePrecision) reaches the caches the run
// builds: with no memory budget every cached view spills into <run>/feature-cache/, so the bytes on disk
// while the run trains show how the features are stored, without asking the setting back. A paused
// float32 run resumes with float32 caches again. Quick preset (5 frozen blocks) at S=32.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { valuesPerView } from '../../../models/core/cached-features.js';
import type { FeatureCachePrecision } from '../../../main/services/transfer/feature-cache.js';
import type { TrainingConfig } from '../../../main/services/training/training-config.js';
import {
  resumeTraining,
  startTraining,
  TrainingControl,
  type TrainingResult,
} from '../../../main/services/training/training-run.js';
import { backboneFileBytes, backboneTestSpec } from '../../helpers/backbone-file.js';
import { makeTinyShapes } from '../training/tiny-run.js';

const root = await mkdtemp(join(tmpdir(), 'attnvgg-cache-precision-'));
after(() => rm(root, { recursive: true, force: true }));

const dataset = await makeTinyShapes(join(root, 'data'));
const backbone = join(root, 'vgg16_bn.onnx');
await writeFile(backbone, backboneFileBytes(3));

/** Sizes of the spilled views under <run>/feature-cache/ (each cache's folder holds one file per view). */
function spilledViewSizes(runDir: string): number[] {
  const top = join(runDir, 'feature-cache');
  return readdirSync(top).flatMap((folder) =>
    readdirSync(join(top, folder)).map((file) => statSync(join(top, folder, file)).size),
  );
}

/**
 * Runs (or resumes) until the first training step, records the spilled views' sizes then (the caches
 * exist from the end of caching until the run stops), and pauses there.
 */
async function sizesAtFirstStep(
  runDir: string,
  run: (control: TrainingControl, onEvent: (e: { type: string }) => void) => Promise<TrainingResult>,
): Promise<number[]> {
  const control = new TrainingControl();
  let sizes: number[] | undefined;
  const result = await run(control, (e) => {
    if (e.type !== 'step' || sizes) return;
    sizes = spilledViewSizes(runDir);
    control.request('pause');
  });
  assert.equal(result.status, 'paused', result.record.message);
  assert.ok(sizes, 'a step ran');
  return sizes;
}

function settings(precision?: FeatureCachePrecision): Partial<TrainingConfig> & { dataset: string } {
  return {
    dataset,
    backbone,
    inputSize: 32,
    epochs: 2,
    batchSize: 8,
    // Nothing stays in memory: every view of both caches is a file.
    featureCacheMemoryBytes: 0,
    ...(precision ? { featureCachePrecision: precision } : {}),
  };
}

const start = (runDir: string, precision?: FeatureCachePrecision) =>
  sizesAtFirstStep(runDir, (control, onEvent) =>
    startTraining(settings(precision), { runDir, preset: 'quick', onnxThreads: 1, control, onEvent }),
  );

test('a float32 run caches four bytes per value, the default two, and a resumed run keeps float32', async () => {
  const perView = valuesPerView(backboneTestSpec(), 5);
  // 24 training and 8 validation images (tiny-run.ts's shapes), one view each.
  const views = 32;

  const half = await start(join(root, 'f16'));
  assert.equal(half.length, views);
  assert.ok(
    half.every((bytes) => bytes === perView * 2),
    `float16 views are ${perView * 2} bytes`,
  );

  const f32Run = join(root, 'f32');
  const full = await start(f32Run, 'float32');
  assert.equal(full.length, views);
  assert.ok(
    full.every((bytes) => bytes === perView * 4),
    `float32 views are ${perView * 4} bytes`,
  );

  // Resume rebuilds the caches from run.json's settings: float32 again.
  const resumed = await sizesAtFirstStep(f32Run, (control, onEvent) =>
    resumeTraining({ runDir: f32Run, onnxThreads: 1, control, onEvent }),
  );
  assert.deepEqual(resumed, full);
});
