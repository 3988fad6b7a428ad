// The device names: parsed with the valid choices in the error, ATTNVGG_DEVICE under an explicit
// option, the execution providers of each device, and one list of choices for the API and the runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEVICE_CHOICES as API_CHOICES, DeviceChoiceSchema } from '../../../../main/api/app-schemas.js';
import {
  DEVICE_CHOICES,
  deviceAvailability,
  executionProvidersFor,
  parseDeviceChoice,
  requestedDevice,
} from '../../../../models/onnx/device.js';

test('device names parse case-insensitively; others are refused with the valid choices', () => {
  assert.equal(parseDeviceChoice(' WebGPU '), 'webgpu');
  assert.throws(
    () => parseDeviceChoice('metal'),
    /Unknown device "metal"\. Should be one of: auto, cpu, webgpu, dml, cuda\./,
  );
  assert.equal(requestedDevice(undefined, {}), 'cpu');
  assert.equal(requestedDevice(undefined, { ATTNVGG_DEVICE: 'auto' }), 'auto');
  assert.equal(requestedDevice('cpu', { ATTNVGG_DEVICE: 'webgpu' }), 'cpu', 'the option wins');
  assert.equal(
    requestedDevice(undefined, { ATTNVGG_DEVICE: ' ' }, 'webgpu'),
    'webgpu',
    'blank: the fallback',
  );
  assert.throws(() => requestedDevice(undefined, { ATTNVGG_DEVICE: 'npu' }), /Unknown ATTNVGG_DEVICE "npu"/);
});

test('a GPU device keeps the CPU provider behind it for shape arithmetic', () => {
  assert.deepEqual(executionProvidersFor('cpu'), ['cpu']);
  assert.deepEqual(executionProvidersFor('webgpu'), ['webgpu', 'cpu']);
  assert.deepEqual(executionProvidersFor('dml'), ['dml', 'cpu']);
  assert.deepEqual(executionProvidersFor('cuda'), ['cuda', 'cpu']);
});

test('the API offers exactly the runtime choices', () => {
  assert.deepEqual([...API_CHOICES], [...DEVICE_CHOICES]);
  assert.equal(DeviceChoiceSchema.safeParse('tpu').success, false);
});

test('DirectML only on Windows; the CPU everywhere', () => {
  const linux = deviceAvailability('linux');
  assert.deepEqual(
    linux.find((d) => d.device === 'cpu'),
    { device: 'cpu', available: true },
  );
  assert.match(linux.find((d) => d.device === 'dml')?.reason ?? '', /Windows only/);
});
