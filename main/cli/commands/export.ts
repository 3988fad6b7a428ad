// `attnvgg export <run> --out <model.onnx>`: writes a run's model as ONNX with its JSON sidecar.
// Must not import electron or anything from main/electron, main/server or renderer.

import { resolve } from 'node:path';
import { exportRun } from '../../services/export/export-run.js';
import { EXIT, UserError, type Command } from '../command.js';
import { parseOptions, stringOption } from '../parse-options.js';

export const exportCommand: Command = {
  name: 'export',
  summary: "write a run's model as ONNX (with its JSON sidecar) for classification anywhere",
  help: `Usage: attnvgg export <run-folder> --out <model.onnx> [--force] [--json]

Writes the run's best weights (the last checkpoint's if no epoch has finished) as an ONNX file
(opset 17, BatchNorm folded; outputs probabilities, logits and the attention maps attention_1..3) and,
beside it, <model>.json: classes, input size and layout, the exact pre-processing of training,
outputs, model spec, and provenance (run id, dataset fingerprint, dates, app version, test accuracy).
Keep the two files together: \`attnvgg classify\` needs both.

Options:
  --out, -o FILE   the .onnx file to write (its folder is created)
  --force          replace an existing file
  --json           print one JSON object instead of a sentence`,
  async run(context) {
    const { values, positionals } = parseOptions(
      context.argv,
      { out: { type: 'string', short: 'o' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
      this.help,
    );
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    const out = stringOption(values, 'out');
    if (positionals.length !== 1 || !out)
      throw new UserError(`Expected one run folder and --out <model.onnx>.\n\n${this.help}`, EXIT.usage);
    const result = await exportRun(resolve(positionals[0]), resolve(out), {
      overwrite: Boolean(values.force),
    });
    const { sidecar } = result;
    if (values.json) {
      context.stdout.write(
        `${JSON.stringify({
          model: result.modelPath,
          sidecar: result.sidecarPath,
          bytes: result.bytes,
          modelId: sidecar.modelId,
          classes: sidecar.classes,
          inputSize: sidecar.spec.inputSize,
          evaluation: sidecar.provenance.evaluation,
        })}\n`,
      );
      return EXIT.ok;
    }
    const evaluation = sidecar.provenance.evaluation;
    const accuracy = evaluation
      ? `; ${evaluation.split} accuracy ${(100 * evaluation.accuracy).toFixed(1)} % on ${evaluation.images} images`
      : '';
    context.stdout.write(
      `Wrote ${result.modelPath} (${(result.bytes / 2 ** 20).toFixed(1)} MiB) and ${result.sidecarPath}\n` +
        `${sidecar.classes.length} classes (${sidecar.classes.join(', ')}), input ${sidecar.spec.inputSize} px, ` +
        `${sidecar.provenance.weights} weights of run ${sidecar.provenance.runId}${accuracy}\n`,
    );
    return EXIT.ok;
  },
};
