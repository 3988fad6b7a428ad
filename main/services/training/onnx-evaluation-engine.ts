// Evaluation of a run's weights on onnxruntime: the weights are exported with models/onnx/export.ts (the
// same graph `attnvgg export` writes) and run batch by batch through models/onnx/session.ts, as the
// BatchPredictor of evaluate-model.ts's one evaluation loop (the same report and maps as on
// TensorFlow.js). Used by the onnxruntime training engine, so that a run on it needs no TensorFlow.js
// backend: measured at S=64, batch 32 (2 cores, load 5), one batch took 40-110 ms here against 120-160 ms on tfjs-wasm at width
// 0.125 and 120-250 ms against 370 ms at width 0.25; export and session opening add 0.2 s per evaluation.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { TensorMap } from '../../../models/core/safetensors.js';
import type { ModelSpec } from '../../../models/core/spec.js';
import type { Weights } from '../../../models/core/weights.js';
import { exportOnnx } from '../../../models/onnx/export.js';
import type { Device } from '../../../models/onnx/device.js';
import { openOnnxSession } from '../../../models/onnx/session.js';
import type { DatasetItem } from '../datasets/dataset-types.js';
import type { BatchPredictor } from '../../../models/core/prediction.js';
import { evaluateWithPredictor, type EvaluateOptions, type EvaluationReport } from './evaluate-model.js';

/** NHWC (the batch stream's layout) to NCHW (the exported model's input). */
export function nhwcToNchw(x: Float32Array, n: number, side: number): Float32Array {
  const out = new Float32Array(x.length);
  const plane = side * side;
  for (let b = 0; b < n; b++)
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < 3; c++) out[(b * 3 + c) * plane + p] = x[(b * plane + p) * 3 + c];
  return out;
}

export async function evaluateOnOnnxruntime(
  spec: ModelSpec,
  weights: Weights,
  items: readonly DatasetItem[],
  options: EvaluateOptions,
  intraOpThreads?: number,
  device?: Device,
): Promise<{ report: EvaluationReport; maps: TensorMap }> {
  const session = await openOnnxSession(exportOnnx(spec, weights), { intraOpThreads, device });
  const mapNames = spec.attention ? ['attention_1', 'attention_2', 'attention_3'] : [];
  const s = spec.inputSize;
  const predict: BatchPredictor = async (x, n) => {
    const out = await session.run(
      { shape: [n, 3, s, s], data: nhwcToNchw(x, n, s) },
      { outputs: ['logits', ...mapNames] },
    );
    return {
      logits: out.logits.data,
      maps: mapNames.map((name) => ({
        shape: out[name].shape as [number, number, number],
        data: out[name].data,
      })),
    };
  };
  try {
    return await evaluateWithPredictor(predict, items, options);
  } finally {
    await session.release();
  }
}
