// Whether onnxruntime-node's WebGPU provider finds an adapter here (Mesa's lavapipe in CI): tests that
// need it skip with the reason where none exists, except where test dependencies are required (CI=true,
// ATTNVGG_REQUIRE_TEST_DEPS=1: skip-or-fail.ts), where a missing adapter fails and names the packages.
import * as ort from 'onnxruntime-node';
import { ONNX_IR_VERSION, ONNX_OPSET } from '../../models/onnx/metadata.js';
import { encodeModel } from '../../models/onnx/proto.js';
import { GraphWriter } from '../../models/onnx-train/graph-writer.js';
import { skipOrFail } from './skip-or-fail.js';

let probed: Promise<string | null> | undefined;

async function probe(): Promise<string | null> {
  const w = new GraphWriter();
  const x = w.input('x', [2]);
  w.output('y', w.op('Add', [x, x], 'y'), [2]);
  const model = encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: w.build('probe', ''),
  });
  try {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['webgpu'],
      logSeverityLevel: 4,
    });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) });
    await session.release();
    const y = Array.from(out.y.data as Float32Array);
    return y[0] === 2 && y[1] === 4 ? null : `the WebGPU provider computed ${y.join(', ')} for 2, 4`;
  } catch (e) {
    return `no WebGPU adapter (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

/**
 * Null when a WebGPU session runs here, else why not (the skip reason). Where test dependencies are
 * required (CI, skip-or-fail.ts) a missing adapter fails instead, naming the packages .ci/run installs.
 */
export async function webgpuMissing(): Promise<string | null> {
  probed ??= probe();
  const reason = await probed;
  const skip = skipOrFail(
    reason === null
      ? null
      : `${reason}; install libvulkan1 and mesa-vulkan-drivers from bookworm-backports (Mesa's lavapipe), as .ci/run does`,
  );
  return skip === false ? null : skip;
}
