// `attnvgg info`: versions, the TensorFlow.js backend that would be used and why the others were not.
// Must not import electron or anything from main/electron, main/server or renderer.

import os from 'node:os';
import { describeBackend, selectBackend } from '../../../models/tfjs/backend.js';
import { APP_VERSION } from '../../services/app-version.js';
import {
  chooseTrainingEngine,
  describeEngineChoice,
  ENGINE_ENV_VAR,
} from '../../services/training/training-engine.js';
import { DEFAULT_CONFIG } from '../../services/training/training-config.js';
import { deviceAvailability, DEVICE_ENV_VAR, type DeviceAvailability } from '../../../models/onnx/device.js';
import { describeDevice, resolveDevice } from '../../services/device/resolve-device.js';
import { EXIT, type Command } from '../command.js';
import { deviceCacheDir, deviceOption, DEVICE_HELP, DEVICE_OPTION } from '../device-option.js';
import { parseOptions } from '../parse-options.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'show versions and which compute backend is used, and why',
  help: `Usage: attnvgg info [--device NAME] [--json]

Prints the app version, the machine, the training engine chosen for the default settings and why
(native TensorFlow first, else onnxruntime; ${ENGINE_ENV_VAR}=tfjs|onnxruntime forces one), and the
TensorFlow.js backend with the reason each better one was not used (ATTNVGG_BACKEND=tensorflow|wasm|cpu
forces one and trains on TensorFlow.js), and the onnxruntime device: what --device (or ${DEVICE_ENV_VAR})
resolves to here and why, and which devices this onnxruntime-node build offers.
${DEVICE_HELP}`,
  async run(context) {
    const { values } = parseOptions(context.argv, { ...DEVICE_OPTION, json: { type: 'boolean' } }, this.help);
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    const report = await selectBackend();
    const resolution = await resolveDevice({ device: deviceOption(values), cacheDir: deviceCacheDir() });
    const choice = await chooseTrainingEngine({
      optimizer: DEFAULT_CONFIG.optimizer,
      device: resolution.device,
    });
    const device = { ...resolution, available: deviceAvailability() };
    const engine = { chosen: choice.engine, forced: choice.forced, reasons: choice.reasons };
    const machine = {
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    };
    if (values.json)
      context.stdout.write(
        `${JSON.stringify({ version: APP_VERSION, machine, engine, device, backend: report })}\n`,
      );
    else
      context.stdout.write(
        `attnvgg ${APP_VERSION}\nmachine: ${machine.platform}, ${machine.cpus} x ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}\n${describeEngineChoice(choice)}\n${describeDevice(resolution)}\n${describeAvailability(device.available)}\n${describeBackend(report)}\n`,
      );
    return EXIT.ok;
  },
};

function describeAvailability(list: readonly DeviceAvailability[]): string {
  return `Devices in this onnxruntime-node build: ${list
    .map((d) => (d.available ? d.device : `${d.device} (no: ${d.reason})`))
    .join('; ')}`;
}
