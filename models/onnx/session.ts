// The only module that imports onnxruntime-node: inference on exported models (batch classification,
// feature caching for frozen layers) goes through here, so the runtime and its settings are chosen in
// one place. What it picks and why:
//   - the CPU execution provider by default: its binaries ship in the npm package (no CUDA download), and
//     it is what every user's machine has; a GPU device (device.ts: webgpu, dml, cuda) when asked for;
//   - intra-op threads = the number of cores unless told otherwise (one session uses every core for one
//     batch; run batches one after another rather than sessions side by side);
//   - graph optimisation level 'all' (constant folding, Conv+ReLU fusion, NCHWc layout transforms).
// Outputs are copied into fresh Float32Arrays and the runtime's tensors disposed at once, so callers
// never hold runtime-owned memory. Whether onnxruntime-node hands out external ArrayBuffers (which
// Electron's V8 memory cage rejects) is decided inside the addon, before this copy: smoke-test this path
// inside Electron (docs/architecture.md, known pitfalls). Imports nothing from main/ or electron. (The training
// engine's session, onnx-train/train-session.ts, imports onnxruntime-node too; see its header.)

import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { NamedArray } from '../core/weights.js';
import { executionProvidersFor, type Device } from './device.js';
import { describeError, OnnxError } from './errors.js';

export interface OnnxSessionOptions {
  /** The execution provider (device.ts; default 'cpu'). */
  device?: Device;
  /** Threads for one operator (intra-op). Defaults to the number of cores (os.availableParallelism()). */
  intraOpThreads?: number;
}

export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the model on one float32 input (NCHW for attnvgg models), by default the session's first input,
   * and returns the requested outputs (default: all) by name.
   */
  run(
    input: NamedArray,
    options?: { inputName?: string; outputs?: readonly string[] },
  ): Promise<Record<string, NamedArray>>;
  /** Frees the native session; the object cannot run afterwards. */
  release(): Promise<void>;
}

function sessionOptions(options: OnnxSessionOptions): ort.InferenceSession.SessionOptions {
  const threads = options.intraOpThreads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new OnnxError('runtime', `intraOpThreads must be a whole number of at least 1, got ${threads}.`);
  return {
    executionProviders: executionProvidersFor(options.device ?? 'cpu'),
    logSeverityLevel: 3,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

/** Opens an ONNX model (bytes or a file path) on onnxruntime's CPU provider, or on `options.device`. */
export async function openOnnxSession(
  model: Uint8Array | string,
  options: OnnxSessionOptions = {},
): Promise<OnnxSession> {
  const settings = sessionOptions(options);
  let session: ort.InferenceSession;
  try {
    session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, settings)
        : await ort.InferenceSession.create(model, settings);
  } catch (e) {
    const on = options.device && options.device !== 'cpu' ? ` on ${options.device}` : '';
    throw new OnnxError('runtime', `onnxruntime could not load the model${on}: ${describeError(e)}`, {
      cause: e,
    });
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(input, runOptions = {}) {
      const inputName = runOptions.inputName ?? session.inputNames[0];
      if (!session.inputNames.includes(inputName))
        throw new OnnxError(
          'runtime',
          `The model has no input "${inputName}". Should be one of: ${session.inputNames.join(', ')}.`,
        );
      const wanted = runOptions.outputs ?? session.outputNames;
      const unknown = wanted.filter((n) => !session.outputNames.includes(n));
      if (unknown.length > 0)
        throw new OnnxError(
          'runtime',
          `The model has no output ${unknown.map((n) => `"${n}"`).join(', ')}. Should be among: ${session.outputNames.join(', ')}.`,
        );
      let results: ort.InferenceSession.ReturnType;
      try {
        const feed = { [inputName]: new ort.Tensor('float32', input.data, input.shape) };
        results = await session.run(feed, [...wanted]);
      } catch (e) {
        throw new OnnxError('runtime', `onnxruntime failed to run the model: ${describeError(e)}`, {
          cause: e,
        });
      }
      const out: Record<string, NamedArray> = {};
      for (const name of wanted) {
        const t = results[name];
        if (t.type !== 'float32')
          throw new OnnxError('runtime', `Output "${name}" is ${t.type}, expected float32.`);
        out[name] = { shape: t.dims.map(Number), data: Float32Array.from(t.data as Float32Array) };
        t.dispose();
      }
      return out;
    },
    async release() {
      await session.release();
    },
  };
}
