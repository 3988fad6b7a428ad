// `attnvgg resume <run>`: continues a stopped or interrupted run from its last complete checkpoint.
// Must not import electron or anything from main/electron, main/server or renderer.

import { resolve } from 'node:path';
import { BACKEND_NAMES, type BackendName } from '../../../models/tfjs/backend.js';
import { ENGINE_NAMES, type EngineName } from '../../services/training/training-engine.js';
import { resumeTraining, TrainingControl } from '../../services/training/training-run.js';
import { EXIT, UserError, type Command } from '../command.js';
import { choiceOption, parseOptions } from '../parse-options.js';
import { deviceCacheDir, deviceOption, DEVICE_HELP, DEVICE_OPTION } from '../device-option.js';
import { outputMode, ProgressWriter } from '../progress-output.js';
import { createTrainingReporter, withInterruptToStop } from '../training-reporter.js';

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'continue a stopped training run from its last checkpoint',
  help: `Usage: attnvgg resume <run-folder> [--engine NAME] [--backend NAME] [--device NAME] [--json]

Continues the run from checkpoints/last.safetensors with the settings it was started with. The engine
is chosen again (--engine ${ENGINE_NAMES.join(' | ')}, env ATTNVGG_ENGINE; --backend NAME trains on that
TensorFlow.js backend): a checkpoint of either engine resumes on the other. The device is the one the
run asked for unless --device or ATTNVGG_DEVICE says otherwise: a run stopped on a GPU resumes on the
CPU, and the other way round.
${DEVICE_HELP}`,
  async run(context) {
    const { values, positionals } = parseOptions(
      context.argv,
      {
        backend: { type: 'string' },
        engine: { type: 'string' },
        ...DEVICE_OPTION,
        json: { type: 'boolean' },
      },
      this.help,
    );
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UserError(`Expected one run folder.\n\n${this.help}`, EXIT.usage);
    const mode = outputMode(context.stdout, Boolean(values.json));
    const out = new ProgressWriter(context.stdout, mode);
    const control = new TrainingControl();
    const backend = choiceOption(values, 'backend', BACKEND_NAMES) as BackendName | undefined;
    const engine = choiceOption(values, 'engine', ENGINE_NAMES) as EngineName | undefined;
    const result = await withInterruptToStop(control, out, () =>
      resumeTraining({
        runDir: resolve(positionals[0]),
        backend,
        engine,
        device: deviceOption(values),
        deviceCacheDir: deviceCacheDir(),
        control,
        onEvent: createTrainingReporter(out, mode),
      }),
    );
    out.end();
    return result.status === 'cancelled' || result.status === 'paused' ? EXIT.interrupted : EXIT.ok;
  },
};
