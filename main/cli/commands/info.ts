// `attnvgg info`: versions, the TensorFlow.js backend that would be used and why the others were not.
// Must not import electron or anything from main/electron, main/server or renderer.

import os from 'node:os';
import { describeBackend, selectBackend } from '../../../models/tfjs/backend.js';
import { APP_VERSION } from '../../services/app-version.js';
import { EXIT, type Command } from '../command.js';
import { parseOptions } from '../parse-options.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'show versions and which compute backend is used, and why',
  help: `Usage: attnvgg info [--json]

Prints the app version, the machine, and the TensorFlow.js backend chosen for training with the reason
each better one was not used. ATTNVGG_BACKEND=tensorflow|wasm|cpu forces one.`,
  async run(context) {
    const { values } = parseOptions(context.argv, { json: { type: 'boolean' } }, this.help);
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    const report = await selectBackend();
    const machine = {
      platform: `${process.platform}-${process.arch}`,
      node: process.version,
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    };
    if (values.json)
      context.stdout.write(`${JSON.stringify({ version: APP_VERSION, machine, backend: report })}\n`);
    else
      context.stdout.write(
        `attnvgg ${APP_VERSION}\nmachine: ${machine.platform}, ${machine.cpus} x ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}\n${describeBackend(report)}\n`,
      );
    return EXIT.ok;
  },
};
