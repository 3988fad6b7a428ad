// The comparison's Grad-CAM of the plain model hands over to the CPU, with one warning, when the GPU
// device fails to open the graph or fails while running it (a lost device); on the CPU, or for an error
// that is the caller's (a wrong argument), it fails as it is. onnxruntime is replaced by stand-ins.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelSpec } from '../../../../models/core/spec.js';
import type { Device } from '../../../../models/onnx/device.js';
import { OnnxTrainError } from '../../../../models/onnx-train/errors.js';
import type { GradCamResult } from '../../../../models/core/grad-cam-result.js';
import { openPlainGradCam, type OpenGradCam } from '../../../../main/services/compare/plain-grad-cam.js';

const SPEC: ModelSpec = {
  inputSize: 32,
  width: 0.125,
  numClasses: 3,
  attention: false,
  compatibility: 'pc',
  normalisation: 'softmax',
};

function result(device: Device): GradCamResult {
  return {
    maps: [Float32Array.from([device === 'cpu' ? 1 : 0.5])],
    height: 1,
    width: 1,
    classIndices: [0],
    probabilities: Float32Array.from([1, 0, 0]),
  };
}

/** A stand-in for createOnnxGradCam: `fails` says when a device fails ('open', 'run' or never). */
function standIn(fails: Partial<Record<Device, 'open' | 'run' | Error>>) {
  const log: string[] = [];
  const open: OpenGradCam = async (_spec, _weights, { device }) => {
    log.push(`open ${device}`);
    if (fails[device] === 'open') throw new OnnxTrainError('runtime', `${device} adapter failed`);
    return {
      device,
      async explain() {
        log.push(`explain ${device}`);
        const f = fails[device];
        if (f instanceof Error) throw f;
        if (f === 'run') throw new OnnxTrainError('runtime', `${device} lost`);
        return result(device);
      },
      async dispose() {
        log.push(`dispose ${device}`);
      },
    };
  };
  return { open, log };
}

describe('Grad-CAM of the plain model on the run device', () => {
  it('runs on the device when it works, without a warning', async () => {
    const { open, log } = standIn({});
    const warnings: string[] = [];
    const cam = await openPlainGradCam(SPEC, new Map(), 'webgpu', (m) => warnings.push(m), open);
    assert.equal(cam.device, 'webgpu');
    assert.equal((await cam.explain(new Float32Array(), 1)).maps[0][0], 0.5);
    await cam.dispose();
    assert.deepEqual(log, ['open webgpu', 'explain webgpu', 'dispose webgpu']);
    assert.deepEqual(warnings, []);
  });

  it('hands over to the CPU when the device cannot open the graph', async () => {
    const { open, log } = standIn({ cuda: 'open' });
    const warnings: string[] = [];
    const cam = await openPlainGradCam(SPEC, new Map(), 'cuda', (m) => warnings.push(m), open);
    assert.equal(cam.device, 'cpu');
    assert.equal((await cam.explain(new Float32Array(), 1)).maps[0][0], 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /could not run on cuda \(cuda adapter failed\); it runs on the CPU/);
    assert.deepEqual(log, ['open cuda', 'open cpu', 'explain cpu']);
  });

  it('hands over to the CPU when the device fails while running, and stays there', async () => {
    const { open, log } = standIn({ webgpu: 'run' });
    const warnings: string[] = [];
    const cam = await openPlainGradCam(SPEC, new Map(), 'webgpu', (m) => warnings.push(m), open);
    assert.equal((await cam.explain(new Float32Array(), 1)).maps[0][0], 1);
    assert.equal((await cam.explain(new Float32Array(), 1)).maps[0][0], 1);
    assert.equal(cam.device, 'cpu');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /webgpu lost/);
    await cam.dispose();
    assert.deepEqual(log, [
      'open webgpu',
      'explain webgpu',
      'dispose webgpu',
      'open cpu',
      'explain cpu',
      'explain cpu',
      'dispose cpu',
    ]);
  });

  it('fails as it is on the CPU, and for an error that is not the runtime', async () => {
    const onCpu = standIn({ cpu: 'run' });
    const cam = await openPlainGradCam(SPEC, new Map(), 'cpu', () => assert.fail('no warning'), onCpu.open);
    await assert.rejects(cam.explain(new Float32Array(), 1), /cpu lost/);
    const invalid = new OnnxTrainError('invalid', 'Expected 2 class indices, got 1.');
    const gpu = standIn({ webgpu: invalid });
    const cam2 = await openPlainGradCam(SPEC, new Map(), 'webgpu', () => assert.fail('no warning'), gpu.open);
    await assert.rejects(cam2.explain(new Float32Array(), 1), /Expected 2 class indices/);
    assert.equal(cam2.device, 'webgpu');
    const noCpu = standIn({ cpu: 'open' });
    await assert.rejects(
      openPlainGradCam(SPEC, new Map(), 'cpu', () => undefined, noCpu.open),
      /cpu adapter failed/,
    );
  });
});
