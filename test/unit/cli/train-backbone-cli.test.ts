// `attnvgg train --backbone`: the option, its help, the width check and a quick run from a pretrained
// backbone (a random width-1.0 VGG16_bn written here, at S=32).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../../main/cli/command.js';
import { trainingSettings } from '../../../main/cli/commands/train.js';
import { backboneFileBytes } from '../../helpers/backbone-file.js';
import { cli } from '../../helpers/cli.js';
import { makeTinyShapes } from '../../integration/training/tiny-run.js';

const root = await mkdtemp(join(tmpdir(), 'attnvgg-train-backbone-cli-'));
after(() => rm(root, { recursive: true, force: true }));

test('train --help documents --backbone and the presets it changes', async () => {
  const r = await cli('train', '--help');
  assert.equal(r.code, EXIT.ok);
  assert.match(r.out, /--backbone ID\|FILE/);
  assert.match(r.out, /attnvgg train photos\/ --backbone torchvision-vgg16bn --preset quick/);
  assert.match(r.out, /--cached-views N/);
  assert.match(r.out, /--cache-precision NAME float16 \| float32/);
  assert.match(r.out, /float32 keeps them exact at twice the memory and disk/);
});

test('train --cache-precision takes float16 or float32 and refuses anything else with the choices', async () => {
  const r = await cli('train', join(root, 'nowhere'), '--cache-precision', 'half');
  assert.equal(r.code, EXIT.usage);
  assert.match(r.err, /Unsupported --cache-precision "half"\. Should be one of: float16, float32/);
  assert.deepEqual(
    ['float16', 'float32', undefined].map(
      (p) => trainingSettings(p ? { 'cache-precision': p } : {}).featureCachePrecision,
    ),
    ['float16', 'float32', undefined],
  );
});

test('train --backbone with a width other than 1.0 is refused before any work', async () => {
  const r = await cli(
    'train',
    join(root, 'nowhere'),
    '--backbone',
    join(root, 'missing.onnx'),
    '--width',
    '0.25',
    '--out',
    join(root, 'refused'),
  );
  assert.equal(r.code, EXIT.badInput);
  assert.match(r.err, /set the width to 1\.0/);
});

test('train --backbone --preset quick trains the heads on cached features', async () => {
  const dataset = await makeTinyShapes(join(root, 'data'));
  const file = join(root, 'vgg16_bn.onnx');
  await writeFile(file, backboneFileBytes(4));
  const runDir = join(root, 'run');
  const r = await cli(
    'train',
    dataset,
    '--backbone',
    file,
    '--preset',
    'quick',
    '--size',
    '32',
    '--epochs',
    '1',
    '--batch',
    '8',
    '--out',
    runDir,
    '--json',
  );
  assert.equal(r.code, EXIT.ok, r.err);
  const events = r.out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; split?: string });
  assert.ok(events.some((e) => e.type === 'caching' && e.split === 'train'));
  assert.ok(events.some((e) => e.type === 'finished'));
  const record = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
  assert.equal(record.status, 'completed');
  assert.equal(record.config.backbone, file);
  assert.equal(record.config.freezeBlocks, 5);
  assert.equal(record.config.width, 1);
  assert.match(record.backbone.sha256, /^[0-9a-f]{64}$/);
});
