// `attnvgg scan <folder>`: what a dataset folder holds before training on it: classes and counts per
// split, files that cannot be used and why, duplicates, and the warnings and errors training would give.
// Must not import electron or anything from main/electron, main/server or renderer.

import { resolve } from 'node:path';
import { scanDataset } from '../../services/datasets/scan-dataset.js';
import { EXIT, UserError, type Command } from '../command.js';
import { numberOption, parseOptions } from '../parse-options.js';

export const scanCommand: Command = {
  name: 'scan',
  summary: 'check a dataset folder: classes, counts, unusable files, duplicates',
  help: `Usage: attnvgg scan <folder> [--val-fraction X] [--seed N] [--json]

Lists the classes (sub-folders) with their image counts per split, the files that cannot be used with
the reason, identical files within and across classes, and any problem that would stop training.
Exit code 3 when the folder cannot be trained on.`,
  async run(context) {
    const { values, positionals } = parseOptions(
      context.argv,
      { 'val-fraction': { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } },
      this.help,
    );
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== 1) throw new UserError(`Expected one folder.\n\n${this.help}`, EXIT.usage);
    const scan = await scanDataset(resolve(positionals[0]), {
      valFraction: numberOption(values, 'val-fraction', { min: 0 }),
      seed: numberOption(values, 'seed', { integer: true, min: 0 }),
    });
    const code = scan.errors.length > 0 ? EXIT.badInput : EXIT.ok;
    if (values.json) {
      const { items, ...summary } = scan;
      context.stdout.write(`${JSON.stringify({ ...summary, images: items.length })}\n`);
      return code;
    }
    const lines = [
      `${scan.root}: ${scan.stats.imagesUsable} usable images in ${scan.classes.length} classes (${scan.layout === 'folders' ? 'split by its train/val/test folders' : `split with seed ${scan.split.seed}, ${Math.round(100 * scan.split.valFraction)} % for validation`})`,
      'class                   train    val   test',
      ...scan.classes.map(
        (c) =>
          `${c.name.padEnd(22).slice(0, 22)} ${String(c.splits.train).padStart(6)} ${String(c.splits.val).padStart(6)} ${String(c.splits.test).padStart(6)}`,
      ),
    ];
    if (scan.problems.length > 0) {
      lines.push(`${scan.problems.length} files skipped:`);
      for (const p of scan.problems.slice(0, 20)) lines.push(`  ${p.path}: ${p.message}`);
      if (scan.problems.length > 20)
        lines.push(`  ... and ${scan.problems.length - 20} more (--json lists all)`);
    }
    if (scan.boxes.pictures > 0)
      lines.push(
        `${scan.boxes.pictures} of ${scan.stats.imagesUsable} pictures have object boxes (${scan.boxes.sources.map((s) => `${s.pictures} from ${s.format}`).join(', ')}): evaluation plays the pointing game on them`,
      );
    for (const p of scan.boxes.problems) lines.push(`box file skipped: ${p.message}`);
    for (const w of scan.warnings) lines.push(`warning: ${w.message}`);
    for (const e of scan.errors) lines.push(`error: ${e.message}`);
    context.stdout.write(`${lines.join('\n')}\n`);
    return code;
  },
};
