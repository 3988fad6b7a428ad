// measureTrainSpeed (models/bench/measure-tfjs-training.ts) on a tiny model: every figure is there and
// positive, nothing leaks, bad options are refused with a message, and the backends listed here load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import {
  availableBenchBackends,
  BenchError,
  forwardConvGflop,
  measureTrainSpeed,
  median,
  parseBenchTrainTargets,
  probeBenchBackends,
  type TrainSpeedResult,
} from '../../../../models/bench/measure-tfjs-training.js';
import { measureOnnxTrainSpeed } from '../../../../models/bench/measure-onnx-training.js';

const tiny = { size: 32, width: 0.0625, batch: 2, steps: 1, warmup: 1 } as const;

function assertFigures(result: TrainSpeedResult, backend: string): void {
  assert.equal(result.backend, backend);
  assert.deepEqual([result.size, result.width, result.batch], [32, 0.0625, 2]);
  for (const key of ['train_img_s', 'infer_img_s', 'peak_rss_mb', 'forward_gflop_per_image'] as const) {
    assert.ok(Number.isFinite(result[key]) && result[key] > 0, `${key} = ${result[key]}`);
  }
  assert.equal(result.step_ms.length, 1);
  assert.ok(result.step_ms.every((ms) => ms > 0));
  assert.ok(result.infer_ms.length >= 1 && result.infer_ms.every((ms) => ms > 0));
  // train_img_s is batch over the median step in seconds.
  assert.ok(Math.abs(result.train_img_s - 2 / (result.step_ms[0] / 1000)) / result.train_img_s < 0.05);
}

describe('measureTrainSpeed', () => {
  it('reports positive figures on cpu and leaves no tensors behind', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const progress: string[] = [];
    const result = await measureTrainSpeed({
      ...tiny,
      backend: 'cpu',
      phases: true,
      profile: true,
      onProgress: (e) => progress.push(`${e.stage} ${e.step}/${e.of}`),
    });
    assertFigures(result, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(progress.slice(0, 3), ['warmup 1/1', 'train 1/1', 'infer 1/1']);
    const phases = result.phases;
    assert.ok(phases !== undefined && phases.forward_ms > 0 && phases.update_ms > 0);
    const kernels = result.kernels ?? [];
    const names = kernels.map((k) => k.kernel);
    for (const name of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'])
      assert.ok(names.includes(name), `no ${name} among ${names.join(', ')}`);
    assert.ok(kernels.every((k, i) => i === 0 || kernels[i - 1].ms >= k.ms));
  });

  it('runs on wasm when wasm loads here', async (t) => {
    if (!(await availableBenchBackends()).includes('wasm')) {
      t.skip('wasm backend not available');
      return;
    }
    const before = tf.memory().numTensors;
    const result = await measureTrainSpeed({ ...tiny, backend: 'wasm' });
    assertFigures(result, 'wasm');
    assert.equal(tf.memory().numTensors, before);
    assert.ok((result.threads ?? 0) >= 1);
  });

  it('refuses bad options with what is allowed', async () => {
    await assert.rejects(measureTrainSpeed({ ...tiny, backend: 'cpu', batch: 0 }), {
      name: 'BenchError',
      message: /batch must be an integer of at least 1, got 0/,
    });
    await assert.rejects(measureTrainSpeed({ ...tiny, backend: 'cpu', steps: 0 }), BenchError);
    await assert.rejects(measureTrainSpeed({ ...tiny, backend: 'cpu', size: 48 }), /multiple of 32/);
    await assert.rejects(
      // A name from outside TypeScript (a CLI argument), as the CLI would pass it on.
      measureTrainSpeed({ ...tiny, backend: 'gpu' as unknown as 'cpu' }),
      /Should be one of: tensorflow, wasm, cpu/,
    );
  });
});

describe('bench helpers', () => {
  it('lists cpu as available and gives a reason for every backend that is not', async () => {
    const statuses = await probeBenchBackends();
    assert.deepEqual(
      statuses.map((s) => s.backend),
      ['tensorflow', 'wasm', 'cpu'],
    );
    assert.ok(statuses.find((s) => s.backend === 'cpu')?.available);
    for (const s of statuses.filter((x) => !x.available)) assert.ok((s.reason ?? '').length > 10);
  });

  it('counts VGG16 forward convolution FLOPs and takes medians', () => {
    // torchvision VGG16 at 224: 15.35 G multiply-adds in the convolutions (30.7 GFLOP).
    assert.ok(Math.abs(forwardConvGflop(224, 1) - 30.7) < 0.1, String(forwardConvGflop(224, 1)));
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
  });
});

describe('parseBenchTrainTargets (attnvgg bench train --backend / --engine)', () => {
  it('keeps the order given, once each, and leaves tfjs for the caller to resolve', () => {
    assert.deepEqual(parseBenchTrainTargets([], []), []);
    assert.deepEqual(parseBenchTrainTargets(['wasm', 'ONNXRUNTIME', 'wasm'], ['tfjs', 'onnxruntime']), [
      'wasm',
      'onnxruntime',
      'tfjs',
    ]);
  });

  it('refuses unknown names with the choices', () => {
    assert.throws(() => parseBenchTrainTargets(['gpu'], []), {
      name: 'BenchError',
      message: 'Unsupported --backend "gpu". Should be one of: tensorflow, wasm, cpu, onnxruntime',
    });
    assert.throws(() => parseBenchTrainTargets([], ['torch']), /Should be one of: tfjs, onnxruntime/);
  });
});

describe('measureOnnxTrainSpeed', () => {
  it('reports positive figures for the onnxruntime engine', async () => {
    const result = await measureOnnxTrainSpeed({ ...tiny, threads: 1 });
    assertFigures(result, 'onnxruntime');
    assert.equal(result.threads, 1);
    await assert.rejects(
      measureOnnxTrainSpeed({ ...tiny, batch: 0 }),
      /batch must be an integer of at least 1/,
    );
  });
});
