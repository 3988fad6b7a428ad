// The onnxruntime-node session behind the ONNX training engine. It imports onnxruntime-node itself,
// beside models/onnx/session.ts (the app's one inference wrapper), because a training step needs what
// that wrapper deliberately does not offer: many named inputs (every parameter, running statistic and
// momentum buffer, int64 labels, scalar hyper-parameters), outputs written into tensors the caller
// allocated and keeps between steps (so updated weights never get copied into fresh arrays), and
// onnxruntime's profiler. Settings as session.ts: the device's execution provider (models/onnx/device.ts;
// CPU by default), intra-op threads = cores, sequential execution, graph optimisation 'all'; unlike
// session.ts, pool threads do not spin-wait and no memory pattern is planned (see the options).
// Imports nothing from main/ or electron.

import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { executionProvidersFor, type Device } from '../onnx/device.js';
import { ONNX_IR_VERSION, ONNX_OPSET } from '../onnx/metadata.js';
import { encodeModel } from '../onnx/proto.js';
import { GraphWriter } from './graph-writer.js';
import { OnnxTrainError } from './errors.js';

/** A tensor owned by the runtime wrapper: float32 or int64 data with its dimensions. */
export type RuntimeTensor = ort.Tensor;

export interface TrainSessionOptions {
  /** The execution provider (default 'cpu'); a GPU device keeps the CPU provider for shape arithmetic. */
  device?: Device;
  /** onnxruntime's log severity (0 verbose .. 4 fatal; default 3, errors only). */
  logSeverity?: 0 | 1 | 2 | 3 | 4;
  /** What the graph computes, for error messages (default 'training step'; Grad-CAM opens one too). */
  label?: string;
  /** Outputs left on the GPU device (preferredOutputLocation 'gpu-buffer'); fed back as inputs. */
  deviceOutputs?: readonly string[];
  /** Threads for one operator. Default: os.availableParallelism(). */
  intraOpThreads?: number;
  /** Writes onnxruntime's JSON profile (per-node times) with this file prefix; see endProfiling(). */
  profileFilePrefix?: string;
  /**
   * Let idle pool threads spin-wait between operators (onnxruntime's own default). Default here: false.
   * A training step is hundreds of short operators; on a machine where other work runs (the app's own
   * image decoding, other programs), spinning threads steal the cores the other threads need: measured
   * 43 img/s with spinning against 80 without, at load 4 on 2 cores (README.md).
   */
  spinning?: boolean;
  /** Run independent operators side by side with this many inter-op threads (default 1: sequential). */
  interOpThreads?: number;
  /** onnxruntime's CPU memory arena (default true). */
  memoryArena?: boolean;
  /**
   * onnxruntime's memory pattern: one block planned for every intermediate tensor of a run. Default
   * here: false. For this graph the planned block is far larger than what is live at once: peak RSS at
   * S=224, width 1, batch 8 was 3.4 GB with it and 2.0 GB without (S=64: 350 against 256 MB), at the
   * same speed (README.md).
   */
  memoryPattern?: boolean;
}

export interface TrainSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the graph. `outputs` maps each wanted output to a tensor to write it into (same type and
   * shape), or to null to let the runtime allocate it.
   */
  run(
    inputs: Record<string, RuntimeTensor>,
    outputs: Record<string, RuntimeTensor | null>,
  ): Promise<Record<string, RuntimeTensor>>;
  /** Stops profiling and returns the profile file's path ('' when profiling was off). */
  endProfiling(): Promise<string>;
  release(): Promise<void>;
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): RuntimeTensor {
  return new ort.Tensor('float32', data, dims);
}

/** A float16 tensor from its binary16 bits. */
export function float16Tensor(bits: Uint16Array, dims: readonly number[]): RuntimeTensor {
  return new ort.Tensor('float16', bits, dims);
}

export function int64Tensor(data: BigInt64Array, dims: readonly number[]): RuntimeTensor {
  return new ort.Tensor('int64', data, dims);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function openTrainSession(
  model: Uint8Array,
  options: TrainSessionOptions = {},
): Promise<TrainSession> {
  const threads = options.intraOpThreads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new OnnxTrainError(
      'invalid',
      `intraOpThreads must be a whole number of at least 1, got ${threads}.`,
    );
  const inter = options.interOpThreads ?? 1;
  if (!Number.isInteger(inter) || inter < 1)
    throw new OnnxTrainError('invalid', `interOpThreads must be a whole number of at least 1, got ${inter}.`);
  const spin = (options.spinning ?? false) ? '1' : '0';
  const label = options.label ?? 'training step';
  const settings: ort.InferenceSession.SessionOptions = {
    executionProviders: executionProvidersFor(options.device ?? 'cpu'),
    intraOpNumThreads: threads,
    interOpNumThreads: inter,
    executionMode: inter > 1 ? 'parallel' : 'sequential',
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
    graphOptimizationLevel: 'all',
    enableCpuMemArena: options.memoryArena ?? true,
    enableMemPattern: options.memoryPattern ?? false,
    // Shape-merge warnings about symbolic dims are expected for a generated graph; errors still surface.
    logSeverityLevel: options.logSeverity ?? 3,
    ...(options.deviceOutputs && options.deviceOutputs.length > 0
      ? {
          preferredOutputLocation: Object.fromEntries(
            options.deviceOutputs.map((name) => [name, 'gpu-buffer' as const]),
          ),
        }
      : {}),
    logVerbosityLevel: 0,
    ...(options.profileFilePrefix
      ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix }
      : {}),
  };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, settings);
  } catch (e) {
    const on = options.device && options.device !== 'cpu' ? ` on ${options.device}` : '';
    throw new OnnxTrainError(
      'runtime',
      `onnxruntime could not load the ${options.label ? `${label} graph` : 'training graph'}${on}: ${describe(e)}`,
      {
        cause: e,
      },
    );
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(inputs, outputs) {
      try {
        return await session.run(inputs, outputs);
      } catch (e) {
        throw new OnnxTrainError('runtime', `onnxruntime failed to run the ${label}: ${describe(e)}`, {
          cause: e,
        });
      }
    },
    async endProfiling() {
      if (!options.profileFilePrefix) return '';
      // onnxruntime-node writes the file and returns nothing; the name is the prefix plus a timestamp.
      session.endProfiling();
      return options.profileFilePrefix;
    },
    async release() {
      await session.release();
    },
  };
}

/** Copies tensors that live on a GPU device (gpu-buffer outputs) back into host memory. */
export interface DeviceReadback {
  /** The tensors' values in host memory, in the order of `tensors` given at opening. */
  read(tensors: readonly RuntimeTensor[]): Promise<Float32Array[]>;
  release(): Promise<void>;
}

/**
 * onnxruntime-node 1.30 cannot download a gpu-buffer tensor itself (Tensor.getData() aborts the process),
 * so a second session on the same device multiplies each tensor by 1 into host outputs (measured on
 * lavapipe: 2.0 M floats in 57-79 ms; README.md).
 */
export async function openDeviceReadback(
  device: Device,
  shapes: readonly (readonly number[])[],
): Promise<DeviceReadback> {
  const w = new GraphWriter();
  const one = w.scalar(1);
  shapes.forEach((shape, i) => {
    const input = w.input(`in_${i}`, shape);
    w.output(`out_${i}`, w.op('Mul', [input, one], `copy_${i}`), shape);
  });
  const model = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: w.build('attnvgg_readback', 'copies device-resident tensors to host memory'),
  });
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: executionProvidersFor(device),
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw new OnnxTrainError(
      'runtime',
      `onnxruntime could not open the readback on ${device}: ${describe(e)}`,
      {
        cause: e,
      },
    );
  }
  return {
    async read(tensors) {
      const feeds: Record<string, RuntimeTensor> = {};
      tensors.forEach((t, i) => (feeds[`in_${i}`] = t));
      try {
        const out = await session.run(feeds);
        return tensors.map((_, i) => out[`out_${i}`].data as Float32Array);
      } catch (e) {
        throw new OnnxTrainError(
          'runtime',
          `onnxruntime could not read the state back from ${device}: ${describe(e)}`,
          {
            cause: e,
          },
        );
      }
    },
    release: () => session.release(),
  };
}
