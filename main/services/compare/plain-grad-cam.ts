// Grad-CAM of the plain model for the comparison, on onnxruntime on the device the run resolved
// (models/onnx-train/grad-cam-session.ts: the Grad-CAM graph written with the training engine's layers
// and tape). A GPU device that cannot open or run the graph (an adapter that fails, a lost device) hands
// over to the CPU with a warning, so the report is still written (a provider missing from the binary
// does not fail: onnxruntime drops it and runs on the CPU provider behind it). The TensorFlow.js implementation
// (grad-cam.ts) stays as the independent reference the tests compare it with. Must not import electron
// or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { ModelSpec } from '../../../models/core/spec.js';
import type { Weights } from '../../../models/core/weights.js';
import type { Device } from '../../../models/onnx/device.js';
import { OnnxTrainError } from '../../../models/onnx-train/errors.js';
import { createOnnxGradCam, type OnnxGradCam } from '../../../models/onnx-train/grad-cam-session.js';
import type { GradCamResult } from '../../../models/core/grad-cam-result.js';

export interface PlainGradCam {
  /** Grad-CAM at conv 13 of `n` normalised NHWC images, each for its predicted class. */
  explain(x: Float32Array, n: number): Promise<GradCamResult>;
  /** Where it runs now (the CPU after a GPU failed). */
  readonly device: Device;
  dispose(): Promise<void>;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What opens an onnxruntime Grad-CAM session (createOnnxGradCam; tests pass a stand-in). */
export type OpenGradCam = (
  spec: ModelSpec,
  weights: Weights,
  options: { device: Device },
) => Promise<Pick<OnnxGradCam, 'device' | 'explain' | 'dispose'>>;

/** Opens Grad-CAM of `spec`/`weights` on `device`, falling back to the CPU (with `warn`) as above. */
export async function openPlainGradCam(
  spec: ModelSpec,
  weights: Weights,
  device: Device,
  warn: (message: string) => void,
  open: OpenGradCam = createOnnxGradCam,
): Promise<PlainGradCam> {
  let current: Awaited<ReturnType<OpenGradCam>>;
  const toCpu = async (e: unknown): Promise<typeof current> => {
    warn(`Grad-CAM of the plain model could not run on ${device} (${reason(e)}); it runs on the CPU.`);
    return open(spec, weights, { device: 'cpu' });
  };
  try {
    current = await open(spec, weights, { device });
  } catch (e) {
    if (device === 'cpu' || !(e instanceof OnnxTrainError && e.kind === 'runtime')) throw e;
    current = await toCpu(e);
  }
  return {
    get device() {
      return current.device;
    },
    async explain(x, n) {
      try {
        return await current.explain(x, n);
      } catch (e) {
        if (current.device === 'cpu' || !(e instanceof OnnxTrainError && e.kind === 'runtime')) throw e;
        await current.dispose().catch(() => undefined);
        current = await toCpu(e);
        return current.explain(x, n);
      }
    },
    dispose: () => current.dispose(),
  };
}
