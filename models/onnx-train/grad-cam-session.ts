// Grad-CAM at conv 13 on onnxruntime: writes the Grad-CAM graph for a spec (grad-cam-graph.ts), opens it
// on a device with the training engine's session opener (train-session.ts) and explains batches of
// images with one set of weights, returning what tfjs/grad-cam.ts returns on
// TensorFlow.js. The weights go up as runtime tensors made once; each call feeds the images and the
// classes to explain. Imports models/ and onnxruntime (through train-session.ts) only.

import type { GradCamResult } from '../core/grad-cam-result.js';
import { validateSpec, type ModelSpec } from '../core/spec.js';
import { checkWeights, type Weights } from '../core/weights.js';
import { isGpuDevice, type Device } from '../onnx/device.js';
import { encodeModel } from '../onnx/proto.js';
import { OnnxTrainError } from './errors.js';
import { buildGradCamGraph, GRAD_CAM_IO } from './grad-cam-graph.js';
import type { PoolBackward } from './layers.js';
import type { InputLayout } from './train-graph.js';
import { float32Tensor, openTrainSession, type RuntimeTensor } from './train-session.js';

export type { GradCamResult };

export interface OnnxGradCamOptions {
  /** The onnxruntime execution provider (default 'cpu'). */
  device?: Device;
  /** Layout of the images passed to explain(): 'nhwc' (default: what the batch stream yields) or 'nchw'. */
  inputLayout?: InputLayout;
  /** Default: 'indices' on the CPU, 'argmax' on a GPU device (no MaxPool Indices or MaxUnpool there). */
  poolBackward?: PoolBackward;
  /** onnxruntime intra-op threads (default: the number of cores). */
  intraOpThreads?: number;
}

export interface OnnxGradCam {
  readonly spec: ModelSpec;
  readonly device: Device;
  /**
   * Grad-CAM of `n` normalised images (`x` in the input layout). `classIndices` defaults to each
   * image's predicted class (the first arg-max of its logits).
   */
  explain(x: Float32Array, n: number, classIndices?: readonly number[]): Promise<GradCamResult>;
  dispose(): Promise<void>;
}

/** The classes to explain as the graph takes them: float32, -1 for "the predicted one". */
function classFeed(n: number, k: number, classIndices: readonly number[] | undefined): Float32Array {
  if (classIndices === undefined) return new Float32Array(n).fill(-1);
  if (classIndices.length !== n)
    throw new OnnxTrainError('invalid', `Expected ${n} class indices, got ${classIndices.length}.`);
  for (const c of classIndices)
    if (!Number.isInteger(c) || c < 0 || c >= k)
      throw new OnnxTrainError('invalid', `Class index ${c} is not in [0, ${k - 1}].`);
  return Float32Array.from(classIndices);
}

export async function createOnnxGradCam(
  spec: ModelSpec,
  weights: Weights,
  options: OnnxGradCamOptions = {},
): Promise<OnnxGradCam> {
  validateSpec(spec);
  try {
    checkWeights(spec, weights);
  } catch (e) {
    throw new OnnxTrainError('invalid', e instanceof Error ? e.message : String(e), { cause: e });
  }
  const device = options.device ?? 'cpu';
  const inputLayout = options.inputLayout ?? 'nhwc';
  const graph = buildGradCamGraph(spec, {
    inputLayout,
    poolBackward: options.poolBackward ?? (isGpuDevice(device) ? 'argmax' : 'indices'),
  });
  const session = await openTrainSession(encodeModel(graph.model), {
    device,
    intraOpThreads: options.intraOpThreads,
    label: 'Grad-CAM',
  });
  const weightFeeds: Record<string, RuntimeTensor> = {};
  for (const name of graph.weightInputs) {
    const a = weights.get(name);
    if (a) weightFeeds[name] = float32Tensor(Float32Array.from(a.data), a.shape);
  }
  const s = spec.inputSize;
  const k = spec.numClasses;
  const side = graph.side;
  let disposed = false;

  return {
    spec,
    device,
    async explain(x, n, classIndices) {
      if (disposed) throw new OnnxTrainError('disposed', 'This Grad-CAM session was disposed.');
      if (!Number.isInteger(n) || n < 1)
        throw new OnnxTrainError(
          'invalid',
          `The number of images must be a whole number of at least 1, got ${n}.`,
        );
      if (x.length !== n * 3 * s * s)
        throw new OnnxTrainError(
          'invalid',
          `Expected ${n} images of ${s} x ${s} x 3 (${n * 3 * s * s} floats), got ${x.length} floats.`,
        );
      const dims = inputLayout === 'nchw' ? [n, 3, s, s] : [n, s, s, 3];
      const out = await session.run(
        {
          ...weightFeeds,
          [GRAD_CAM_IO.x]: float32Tensor(x, dims),
          [GRAD_CAM_IO.classes]: float32Tensor(classFeed(n, k, classIndices), [n]),
        },
        { [GRAD_CAM_IO.cam]: null, [GRAD_CAM_IO.chosen]: null, [GRAD_CAM_IO.probabilities]: null },
      );
      const cam = out[GRAD_CAM_IO.cam].data as Float32Array;
      const per = side * side;
      return {
        maps: Array.from({ length: n }, (_, i) => Float32Array.from(cam.subarray(i * per, (i + 1) * per))),
        height: side,
        width: side,
        classIndices: Array.from(out[GRAD_CAM_IO.chosen].data as Float32Array, (c) => Math.round(c)),
        probabilities: Float32Array.from(out[GRAD_CAM_IO.probabilities].data as Float32Array),
      };
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
