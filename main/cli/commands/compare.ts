// `attnvgg compare <folder>`: trains the attention model and the plain VGG16_bn head on the same split,
// settings and budget, and writes the comparison report (compare.json, compare.html). The training options
// are the train command's (parsed by its exported trainingSettings). Must not import electron or anything
// from main/electron, main/server or renderer.

import { resolve } from 'node:path';
import { BACKEND_NAMES, type BackendName } from '../../../models/tfjs/backend.js';
import { compareAttention, type CompareEvent, type CompareOptions } from '../../services/compare/index.js';
import { ENGINE_NAMES } from '../../services/training/training-engine.js';
import { PRESET_NAMES } from '../../services/training/training-config.js';
import { TrainingControl } from '../../services/training/training-run.js';
import { EXIT, UserError, type Command } from '../command.js';
import { choiceOption, numberOption, parseOptions, stringOption } from '../parse-options.js';
import { outputMode, ProgressWriter } from '../progress-output.js';
import { createTrainingReporter, withInterruptToStop } from '../training-reporter.js';
import { deviceCacheDir, deviceOption } from '../device-option.js';
import { TRAINING_OPTIONS, trainingOptionsHelp, trainingSettings } from './train.js';

const COMPARE_OPTIONS = {
  ...TRAINING_OPTIONS,
  'time-limit': { type: 'string' },
  explain: { type: 'string' },
  'inference-images': { type: 'string' },
} as const;

const PHASES: Record<string, string> = {
  evaluating: 'Evaluating both models on the same images ...',
  exporting: 'Exporting both models to ONNX ...',
  'timing-inference': 'Timing inference of both exported models (onnxruntime) ...',
  explaining: 'Drawing attention maps and Grad-CAM side by side ...',
  'pointing-game': 'Playing the pointing game against the object boxes ...',
  'writing-report': 'Writing the report ...',
};

export const compareCommand: Command = {
  name: 'compare',
  summary: 'does attention help on my data? train with and without attention and compare',
  help: `Usage: attnvgg compare <folder> --out DIR [--time-limit MIN] [training options]

Trains attention-VGG16_bn and the plain VGG16_bn head (attention off) on <folder>, one after the other,
with the same split, seed, settings and budget; evaluates both on the same images (test/ if the folder has
one, else the validation split) and writes to DIR:
  compare.json   the report for machines (format attnvgg-compare/1)
  compare.html   the same as a self-contained page (opens offline, shareable)
  attention/, plain/   the two run folders;  models/   both exported to ONNX;  explanations/   overlays
The report gives both accuracies with 95 % intervals, McNemar's paired test and a verdict, per-class
differences, parameter counts, training and inference speed, attention maps beside Grad-CAM, and on the
sample dataset (attnvgg data shapes) the pointing game of both.

Comparison options:
  --out, -o DIR          the comparison folder to create (required)
  --time-limit MIN       give each model the same training time in minutes (wall clock, validation
                         included), stopping at the first step after it; the epochs still plan the schedule
                         and cap the run. Without it both train for the same number of epochs.
  --explain N            pictures shown side by side (default 8)
  --inference-images N   evaluation pictures timed for inference speed (default 512)

${trainingOptionsHelp('out', 'no-attention')}`,
  async run(context) {
    const { values, positionals } = parseOptions(context.argv, COMPARE_OPTIONS, this.help);
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1)
      throw new UserError(
        `Expected one dataset folder, got ${positionals.length}.\n\n${this.help}`,
        EXIT.usage,
      );
    const outOption = stringOption(values, 'out');
    if (!outOption)
      throw new UserError(`--out DIR is required: the folder the comparison is written to.`, EXIT.usage);
    if (values['no-attention'])
      throw new UserError(
        '--no-attention does not apply: compare trains both with and without attention.',
        EXIT.usage,
      );
    const minutes = numberOption(values, 'time-limit', { min: 0 });
    if (minutes !== undefined && minutes <= 0)
      throw new UserError(`--time-limit expects a positive number of minutes, got ${minutes}`, EXIT.usage);
    const { attention: _attention, ...training } = trainingSettings(values);
    const mode = outputMode(context.stdout, Boolean(values.json));
    const out = new ProgressWriter(context.stdout, mode);
    const control = new TrainingControl();
    const reporter = createTrainingReporter(out, mode);
    const onEvent = (event: CompareEvent): void => {
      if (mode === 'json') {
        out.json(event);
        return;
      }
      switch (event.type) {
        case 'compare-started':
          out.line(`Comparing attention against the plain VGG16_bn head on ${event.dataset}`);
          break;
        case 'model-started':
          out.line(
            `\n[${event.index + 1}/2] ${event.model === 'attention' ? 'attention model' : 'plain model (attention off)'} -> ${event.runDir}`,
          );
          break;
        case 'training':
          reporter(event.event);
          break;
        case 'budget-reached':
          out.line(
            `time limit reached after ${event.seconds.toFixed(0)} s (epoch ${event.epoch + 1}, step ${event.step})`,
          );
          break;
        case 'phase':
          out.line(PHASES[event.phase] ?? event.phase);
          break;
        case 'warning':
          out.line(`warning: ${event.message}`);
          break;
        case 'finished':
          out.line(`\n${event.message}`);
          if (event.htmlPath) out.line(`Report: ${event.htmlPath}\n        ${event.reportPath}`);
          break;
        case 'model-finished':
          break;
      }
    };
    const result = await withInterruptToStop(control, out, () =>
      compareAttention(
        positionals[0],
        {
          training,
          preset: choiceOption(values, 'preset', PRESET_NAMES),
          backend: choiceOption(values, 'backend', BACKEND_NAMES) as BackendName | undefined,
          engine: choiceOption(values, 'engine', ENGINE_NAMES) as CompareOptions['engine'],
          device: deviceOption(values),
          deviceCacheDir: deviceCacheDir(),
          timeLimitSeconds: minutes === undefined ? undefined : minutes * 60,
          explainImages: numberOption(values, 'explain', { integer: true, min: 0 }),
          inferenceImages: numberOption(values, 'inference-images', { integer: true, min: 1 }),
        },
        { outDir: resolve(outOption), control, onEvent },
      ),
    );
    out.end();
    return result.status === 'completed' ? EXIT.ok : EXIT.interrupted;
  },
};
