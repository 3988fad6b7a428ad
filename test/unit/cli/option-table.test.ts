// Options as one table (main/cli/option-table.ts): the parser's spec and the help come from the same
// rows, and compare offers train's options less the two it does not take, picked by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optionHelp, optionSpec, withoutOptions, type OptionRow } from '../../../main/cli/option-table.js';
import { compareCommand } from '../../../main/cli/commands/compare.js';
import { TRAINING_OPTION_ROWS, TRAINING_OPTIONS, trainCommand } from '../../../main/cli/commands/train.js';

const rows: OptionRow[] = [
  { name: 'out', short: 'o', type: 'string', value: 'DIR', help: 'where to write' },
  { name: 'a-very-long-option-name', type: 'string', value: 'VALUE', help: ['first line', 'second line'] },
  { name: 'json', type: 'boolean', help: 'JSON lines' },
];

test('spec and help from the same rows, aligned, long names on their own terms', () => {
  assert.deepEqual(optionSpec(rows), {
    out: { type: 'string', short: 'o' },
    'a-very-long-option-name': { type: 'string' },
    json: { type: 'boolean' },
  });
  assert.equal(
    optionHelp(rows),
    [
      '  --out, -o DIR          where to write',
      '  --a-very-long-option-name VALUE first line',
      '                         second line',
      '  --json                 JSON lines',
    ].join('\n'),
  );
  assert.deepEqual(
    withoutOptions(rows, 'out', 'json').map((r) => r.name),
    ['a-very-long-option-name'],
  );
});

test('every training option the parser takes is in the help, and compare leaves out --out and --no-attention', () => {
  for (const name of Object.keys(TRAINING_OPTIONS))
    assert.match(trainCommand.help, new RegExp(`--${name}\\b`), name);
  assert.equal(Object.keys(TRAINING_OPTIONS).length, TRAINING_OPTION_ROWS.length);
  const trainingPart = compareCommand.help.slice(compareCommand.help.indexOf('Training options:'));
  assert.doesNotMatch(trainingPart, /--out\b|--no-attention\b/);
  assert.match(trainingPart, /--epochs N/);
  assert.match(compareCommand.help, /--out, -o DIR {10}the comparison folder/);
});
