// Hostile model files (test/fixtures/make-hostile-models.ts): the ONNX reader and the importer refuse
// each with an OnnxError and never read outside the model's folder; classifying with each (the path a
// user's file takes into onnxruntime) is refused by our own checks first, with a plain message listed per
// fixture below (never the runtime's C++ text), and does not crash the process;
// the file the external-data paths point at is never read (its access time stays put).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, utimes } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportRun } from '../../main/services/export/index.js';
import { OnnxError } from '../../models/onnx/errors.js';
import type { ExternalDataSource } from '../../models/onnx/external-data.js';
import { folderExternalData } from '../../models/onnx/external-files.js';
import { importAttnVggOnnx, readOnnx } from '../../models/onnx/import.js';
import { makeHostileModels, type HostileModels } from '../fixtures/make-hostile-models.js';
import { writeColourPictures } from '../helpers/pictures.js';
import { makeRandomRun, TINY_SPEC } from '../unit/services/export/run-fixture.js';

const CHILD = fileURLToPath(new URL('./classify-child.ts', import.meta.url));
let dir = '';
let images = '';
let made: HostileModels;
let good = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-hostile-models-'));
  await makeRandomRun(join(dir, 'run'), TINY_SPEC, ['a', 'b', 'c']);
  good = join(dir, 'good', 'model.onnx');
  await mkdir(dirname(good), { recursive: true });
  await exportRun(join(dir, 'run'), good);
  made = await makeHostileModels(join(dir, 'hostile'), good);
  images = await writeColourPictures(join(dir, 'images'));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An ExternalDataSource over the model's folder that records every location it is asked for. */
function recordingSource(folder: string, asked: string[]): ExternalDataSource {
  const inner = folderExternalData(folder);
  return {
    read(ref) {
      asked.push(ref.location);
      return inner.read(ref);
    },
  };
}

/** What classifying with each hostile fixture must answer: the error's class and its plain message. */
const notOnnx = { error: 'SidecarError', message: /^This file is not an ONNX model: \S+model\.onnx \(/ };
const outside = {
  error: 'ModelFileError',
  message: /^The model refers to data outside its folder: "[^"]+" \(model .*nothing was read\.$/,
};
const PLAIN_MESSAGES: Record<string, { error: string; message: RegExp }> = {
  empty: notOnnx,
  truncated: notOnnx,
  random: notOnnx,
  text: notOnnx,
  'other-graph': {
    error: 'ModelFileError',
    message: /is not the one its description \(\.json\) describes: it has no output "probabilities"/,
  },
  'huge-dims': { error: 'ModelFileError', message: /^This file is not a valid ONNX model: .*declares shape/ },
  'huge-external': {
    error: 'ModelFileError',
    message: /^The model's external data cannot be used: .*external data is 4503599627370496 bytes/,
  },
  'external-parent': outside,
  'external-absolute': outside,
  'external-link': outside,
  // "..%2f" is a plain file name to the OS: inside the folder, and missing.
  'external-encoded': {
    error: 'ModelFileError',
    message: /^The model's external data cannot be used: .*cannot be found/,
  },
  'external-fifo': {
    error: 'ModelFileError',
    message: /^The model's external data cannot be used: .*not a regular file/,
  },
  'deep-nesting': { error: 'ModelFileError', message: /^This file is not an ONNX model: / },
};

describe('hostile model files', () => {
  it('the reader and the importer refuse each with an OnnxError, asking only for files inside the folder', async () => {
    for (const m of made.models) {
      const bytes = await readFile(m.path);
      const folder = dirname(m.path);
      const asked: string[] = [];
      const options = { externalData: recordingSource(folder, asked) };
      try {
        readOnnx(bytes, options);
        assert.ok(m.validOnnx, `${m.name} (${m.note}) was read as a valid model`);
      } catch (e) {
        assert.ok(e instanceof OnnxError, `${m.name}: ${String(e)}`);
        assert.ok(e.message.length > 15 && !/\n\s+at /.test(e.message), `${m.name}: ${e.message}`);
      }
      assert.throws(() => importAttnVggOnnx(bytes, options), OnnxError, m.name);
      for (const location of asked) {
        const rel = relative(folder, join(folder, location));
        assert.ok(
          rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel),
          `${m.name} asked for ${location}`,
        );
      }
    }
  });

  it('classifying with each is refused in plain words, in a process that does not crash, reading nothing outside', async (t) => {
    // Access times show reads. Set an old one, and check the file system updates it at all (a control
    // file read on purpose); with noatime the check is skipped and the refusals are still checked.
    const old = new Date('2001-01-01T00:00:00Z');
    await utimes(made.outside, old, old);
    const control = join(dir, 'control.bin');
    await (await import('node:fs/promises')).writeFile(control, 'x');
    await utimes(control, old, old);
    await readFile(control);
    const atimeWorks = (await stat(control)).atimeMs !== old.getTime();
    if (!atimeWorks)
      t.diagnostic('this file system does not record reads (noatime): the read check is skipped');

    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', CHILD, images, join(dir, 'out'), ...made.models.map((m) => m.path), good],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(
      child.status,
      0,
      `the classifying process crashed or failed: ${child.signal ?? ''} ${child.stderr}`,
    );
    const lines = child.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { model: string; outcome: string; error?: string; message?: string });
    assert.equal(lines.length, made.models.length + 1, child.stdout);
    for (const m of made.models) {
      const line = lines.find((l) => l.model === m.path);
      assert.equal(line?.outcome, 'refused', `${m.name} (${m.note}): ${JSON.stringify(line)}`);
      assert.ok((line?.message ?? '').length > 15, `${m.name}: a message`);
      assert.ok(!/\n\s+at /.test(line?.message ?? ''), `${m.name}: no stack trace in ${line?.message}`);
      t.diagnostic(`${m.name}: ${line?.error}: ${(line?.message ?? '').slice(0, 160)}`);
      // Refused by our own checks (the sidecar's header check, then check-model.ts), in our own words:
      // never the runtime's C++ text with its source paths and line numbers.
      const expected = PLAIN_MESSAGES[m.name];
      assert.ok(expected, `${m.name}: no expected message listed for this fixture`);
      assert.equal(line?.error, expected.error, `${m.name}: ${line?.message}`);
      assert.match(line?.message ?? '', expected.message, m.name);
      assert.doesNotMatch(line?.message ?? '', /onnxruntime|ONNXRuntimeError|\.(cc|cpp|h):\d+/, m.name);
    }
    // The control: the real export classifies.
    assert.equal(lines.find((l) => l.model === good)?.outcome, 'completed');
    if (atimeWorks)
      assert.equal((await stat(made.outside)).atimeMs, old.getTime(), 'the outside file was read');
    assert.equal(realpathSync(made.outside), made.outside);
  });
});
