// The inference worker (worker_threads): answers the UI's on-demand model questions off the main thread,
// so neither the Electron main process nor the browser-mode server ever blocks on TensorFlow.js. Keeps
// the last run's model loaded. Switches on `message.type` and answers `{ ok: false, message }` on failure.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import sharp from 'sharp';
import { deviceAvailability, type DeviceAvailability } from '../../../models/onnx/device.js';
import { resolveDevice, type DeviceResolution } from '../device/resolve-device.js';
import { parentPort } from 'node:worker_threads';
import { selectBackend, type BackendReport } from '../../../models/tfjs/backend.js';
import { AttentionVgg } from '../../../models/tfjs/model.js';
import { predictArrays } from '../../../models/tfjs/predict.js';
import { decodeImage, decodeImageRgb8 } from '../images/decode-image.js';
import type { Rgb } from '../images/normalise.js';
import { loadRunModel } from '../training/load-run-model.js';
import { DEFAULT_CONFIG } from '../training/training-config.js';
import { chooseTrainingEngine } from '../training/training-engine.js';
import type { AttentionAnswer, InferenceReply, InferenceRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker.ts runs only as a worker thread');

let backend: Promise<BackendReport> | null = null;
interface LoadedModel {
  runDir: string;
  model: AttentionVgg;
  classes: string[];
  mean: Rgb;
  std: Rgb;
}
let loaded: LoadedModel | null = null;

function ensureBackend(): Promise<BackendReport> {
  backend ??= selectBackend();
  return backend;
}

let engineChoice: Promise<{
  engine: string;
  reasons: string[];
  device: DeviceResolution & { available: DeviceAvailability[] };
}> | null = null;

/**
 * The training engine and device a run with the default settings gets (training-engine.ts,
 * device/resolve-device.ts: ATTNVGG_DEVICE or cpu), why, and the devices this machine offers.
 */
function ensureEngineChoice() {
  engineChoice ??= ensureBackend().then(async () => {
    const device = await resolveDevice();
    const c = await chooseTrainingEngine({ optimizer: DEFAULT_CONFIG.optimizer, device: device.device });
    return { engine: c.engine, reasons: c.reasons, device: { ...device, available: deviceAvailability() } };
  });
  return engineChoice;
}

async function modelOf(runDir: string): Promise<LoadedModel> {
  if (loaded?.runDir === runDir) return loaded;
  loaded?.model.dispose();
  loaded = null;
  const run = await loadRunModel(runDir);
  const next: LoadedModel = {
    runDir,
    model: AttentionVgg.fromWeights(run.record.spec, run.weights),
    classes: run.record.classes,
    mean: run.record.config.mean,
    std: run.record.config.std,
  };
  loaded = next;
  return next;
}

async function attention(runDir: string, path: string, displaySize: number): Promise<AttentionAnswer> {
  await ensureBackend();
  const { model, classes, mean, std } = await modelOf(runDir);
  const size = model.spec.inputSize;
  const input = await decodeImage(path, { size, mean, std });
  const prediction = predictArrays(model, input.data, 1);
  // The same crop at a size worth looking at: the maps line up with it exactly.
  const picture = await decodeImageRgb8(path, { size: displaySize });
  const png = await sharp(picture.data, { raw: { width: displaySize, height: displaySize, channels: 3 } })
    .png()
    .toBuffer();
  return {
    inputSize: size,
    imageSize: displaySize,
    png: new Uint8Array(png),
    maps: prediction.maps.map((m, i) => ({
      level: i + 1,
      height: m.shape[1],
      width: m.shape[2],
      values: Array.from(m.data),
    })),
    classes,
    probabilities: Array.from(prediction.probabilities),
  };
}

async function answer(request: InferenceRequest): Promise<InferenceReply> {
  switch (request.type) {
    case 'backend': {
      const { device, engine, reasons } = await ensureEngineChoice();
      return {
        id: request.id,
        ok: true,
        type: 'backend',
        report: await ensureBackend(),
        trainingEngine: { engine, reasons },
        device,
      };
    }
    case 'attention':
      return {
        id: request.id,
        ok: true,
        type: 'attention',
        answer: await attention(request.runDir, request.path, request.displaySize),
      };
  }
}

// One request at a time: they share the model and the backend's threads.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: InferenceRequest) => {
  queue = queue.then(async () => {
    let reply: InferenceReply;
    try {
      reply = await answer(request);
    } catch (error) {
      reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
});
