// Whether onnxruntime-node's WebGPU provider finds an adapter here (Mesa's lavapipe in CI): tests that
// need it skip with the reason where none exists, except under CI=true, where a missing adapter fails
// and names the packages .ci/run installs.
import * as ort from 'onnxruntime-node';
import { ONNX_IR_VERSION, ONNX_OPSET } from '../../models/onnx/metadata.js';
import { encodeModel } from '../../models/onnx/proto.js';
import { GraphWriter } from '../../models/onnx-train/graph-writer.js';

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
 * Null when a WebGPU session runs here, else why not (the skip reason). Under CI=true a missing adapter
 * throws instead: CI installs libvulkan1 and bookworm-backports' mesa-vulkan-drivers (.ci/run).
 */
export async function webgpuMissing(): Promise<string | null> {
  probed ??= probe();
  const reason = await probed;
  if (reason !== null && process.env.CI === 'true')
    throw new Error(
      `CI=true but ${reason}: install libvulkan1 and mesa-vulkan-drivers (bookworm-backports, Mesa's lavapipe), as .ci/run does.`,
    );
  return reason;
}
