// `attnvgg eval <run> <folder>`: accuracy, per-class metrics and confusion matrix of a run's model on a
// labelled folder. Must not import electron or anything from main/electron, main/server or renderer.

import { resolve } from 'node:path';
import { selectBackend } from '../../../models/tfjs/backend.js';
import { evaluateRunOnFolder } from '../../services/training/evaluate-folder.js';
import { DEVICE_ENV_VAR } from '../../../models/onnx/device.js';
import { resolveDevice } from '../../services/device/resolve-device.js';
import { EXIT, UserError, type Command } from '../command.js';
import { deviceCacheDir, deviceOption, DEVICE_HELP, DEVICE_OPTION } from '../device-option.js';
import { localisationLines } from '../localisation-lines.js';
import { parseOptions, stringOption } from '../parse-options.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: "evaluate a run's model on a labelled folder",
  help: `Usage: attnvgg eval <run-folder> <dataset-folder> [--name NAME] [--boxes FILE] [--device NAME] [--json]

Classifies every image of <dataset-folder> (class sub-folders named as in training) with the run's best
weights and writes <run-folder>/<NAME>.json (accuracy with a 95 % interval, per-class precision, recall
and F1, confusion matrix, every prediction) and the misclassified images' attention maps beside it.

Where the pictures have object boxes (Pascal VOC XML beside them or in Annotations/, YOLO txt beside
them or in labels/, COCO JSON or boxes.json at the folder's root, or --boxes FILE), it also plays the
pointing game: how often the peak of each attention map, and of the combined map, falls inside a box of
the picture's class, with a 95 % interval, the rate of a random peak and the share of the map's mass
inside the boxes. Coordinates are pixels of the picture as displayed (see docs/boxes.md).

With --device (or ATTNVGG_DEVICE) the exported model runs on onnxruntime on that device; without, on
TensorFlow.js.
${DEVICE_HELP}`,
  async run(context) {
    const { values, positionals } = parseOptions(
      context.argv,
      { name: { type: 'string' }, boxes: { type: 'string' }, ...DEVICE_OPTION, json: { type: 'boolean' } },
      this.help,
    );
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 2)
      throw new UserError(`Expected a run folder and a dataset folder.\n\n${this.help}`, EXIT.usage);
    await selectBackend();
    const asked = deviceOption(values);
    const device =
      asked !== undefined || process.env[DEVICE_ENV_VAR]?.trim()
        ? (await resolveDevice({ device: asked, cacheDir: deviceCacheDir() })).device
        : undefined;
    const result = await evaluateRunOnFolder(resolve(positionals[0]), resolve(positionals[1]), {
      name: stringOption(values, 'name'),
      boxesFile: stringOption(values, 'boxes') && resolve(stringOption(values, 'boxes') as string),
      device,
    });
    const localisation = result.report.localisation;
    const m = result.report.metrics;
    if (values.json) {
      context.stdout.write(
        `${JSON.stringify({ accuracy: m.accuracy, accuracyInterval: m.accuracyInterval, images: m.total, macroF1: m.macroF1, report: result.reportPath, ...(localisation ? { localisation } : {}), ...(result.boxProblems.length > 0 ? { boxProblems: result.boxProblems } : {}) })}\n`,
      );
      return EXIT.ok;
    }
    const lines = [
      `accuracy ${(100 * m.accuracy).toFixed(1)} % (95 % CI ${(100 * m.accuracyInterval[0]).toFixed(1)}-${(100 * m.accuracyInterval[1]).toFixed(1)}) on ${m.total} images; macro F1 ${m.macroF1.toFixed(3)}`,
      'class                 precision  recall     F1  images',
      ...m.perClass.map(
        (c) =>
          `${c.label.padEnd(20).slice(0, 20)}  ${c.precision.toFixed(3).padStart(9)}  ${c.recall.toFixed(3).padStart(6)}  ${c.f1.toFixed(3).padStart(5)}  ${String(c.support).padStart(6)}`,
      ),
      ...(result.report.skipped.length > 0
        ? [`${result.report.skipped.length} files could not be read and were skipped (listed in the report)`]
        : []),
      ...(localisation
        ? [
            `pointing game on ${localisation.images} pictures with boxes (peak inside a box of the picture's class):`,
            ...localisationLines(localisation).map((l) => `  ${l}`),
          ]
        : []),
      ...result.boxProblems.map((p) => `box file skipped: ${p.message}`),
      `report: ${result.reportPath}`,
    ];
    context.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.ok;
  },
};
