// `attnvgg data fashion-mnist <out>` and `attnvgg data shapes <out>`: write ready-made datasets as class
// folders. Must not import electron or anything from main/electron, main/server or renderer.

import { resolve } from 'node:path';
import { DEBIAN_FASHION_MNIST, writeFashionMnist } from '../../services/datasets/fashion-mnist.js';
import { generateShapesDataset } from '../../services/sample/index.js';
import { EXIT, UserError, type Command } from '../command.js';
import { numberOption, parseOptions, stringOption } from '../parse-options.js';

export const dataCommand: Command = {
  name: 'data',
  summary: 'write a ready-made dataset (fashion-mnist, shapes) as class folders',
  help: `Usage: attnvgg data fashion-mnist <out> [--source DIR] [--per-class N] [--split train|test|both]
       attnvgg data shapes <out> [--seed N] [--size PX]

fashion-mnist  PNG class folders from the idx files of Debian's dataset-fashion-mnist
               (default source ${DEBIAN_FASHION_MNIST}); --per-class takes the first N of each class.
shapes         the built-in demo dataset: shapes on cluttered backgrounds, train/val/test, with the
               objects' boxes in boxes.json (the ground truth for attention).`,
  async run(context) {
    const { values, positionals } = parseOptions(
      context.argv,
      {
        source: { type: 'string' },
        'per-class': { type: 'string' },
        split: { type: 'string' },
        seed: { type: 'string' },
        size: { type: 'string' },
      },
      this.help,
    );
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    const [kind, out] = positionals;
    if (!kind || !out || positionals.length !== 2)
      throw new UserError(`Expected a dataset name and an output folder.\n\n${this.help}`, EXIT.usage);
    if (kind === 'fashion-mnist') {
      const split = stringOption(values, 'split') ?? 'both';
      if (!['train', 'test', 'both'].includes(split))
        throw new UserError(
          `Unsupported --split "${split}". Should be one of: train, test, both`,
          EXIT.usage,
        );
      const summary = await writeFashionMnist(resolve(out), {
        source: stringOption(values, 'source'),
        perClass: numberOption(values, 'per-class', { integer: true, min: 1 }),
        split: split as 'train' | 'test' | 'both',
      });
      context.stdout.write(`${JSON.stringify(summary)}\n`);
      return EXIT.ok;
    }
    if (kind === 'shapes') {
      const summary = await generateShapesDataset(resolve(out), {
        seed: numberOption(values, 'seed', { integer: true, min: 0 }),
        size: numberOption(values, 'size', { integer: true, min: 16 }),
      });
      context.stdout.write(
        `Wrote ${summary.images} images of ${summary.classes.join(', ')} to ${summary.root}\n`,
      );
      return EXIT.ok;
    }
    throw new UserError(`Unknown dataset "${kind}". Should be one of: fashion-mnist, shapes`, EXIT.usage);
  },
};
