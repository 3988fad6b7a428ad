// An export replaces `<name>.onnx` + `<name>.json` as a pair (main/services/export/model-pair.ts): after a
// failure or a SIGKILL at any stage of the replacement, the readers (readSidecar, models.list's
// listModels, classifyFolder) see either the whole old pair or the whole new pair, never a mix; an export
// stopped after its commit point is finished by the next reader; a pending file that does not belong to
// the committed sidecar is never moved in; the next export clears what an interrupted one left.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { classifyFolder } from '../../main/services/classify/index.js';
import {
  MODEL_META,
  SidecarError,
  exportRun,
  listPendingModels,
  pendingModelPath,
  readOnnxHeader,
  readSidecar,
  sidecarPathFor,
  type ExportStage,
} from '../../main/services/export/index.js';
import { listModels } from '../../main/backend/handlers/models-handlers.js';
import { Workspace } from '../../main/backend/workspace.js';
import { writeColourPictures } from '../helpers/pictures.js';
import { makeRandomRun, TINY_SPEC } from '../unit/services/export/run-fixture.js';
import { resultsOf } from '../helpers/classify-results.js';

let dir = '';
let runA = '';
let runB = '';
let images = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-export-pair-'));
  runA = join(dir, 'run-a');
  runB = join(dir, 'run-b');
  // Two runs with different classes, so a mixed pair would also disagree on what the outputs mean.
  await makeRandomRun(runA, TINY_SPEC, ['a', 'b', 'c'], { seed: 1 });
  await makeRandomRun(runB, TINY_SPEC, ['x', 'y', 'z'], { seed: 2 });
  images = await writeColourPictures(join(dir, 'images'));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

class InjectedFailure extends Error {}

/** A fresh workspace with run A exported as models/m.onnx; returns the model path and A's export id. */
async function exportedA(name: string): Promise<{ workspace: Workspace; model: string; idA: string }> {
  const workspace = await Workspace.open(join(dir, name));
  const model = join(workspace.modelsDir, 'm.onnx');
  const a = await exportRun(runA, model);
  return { workspace, model, idA: a.sidecar.modelId };
}

async function modelIdOnDisk(model: string): Promise<string | undefined> {
  return (await readOnnxHeader(model)).metadata.get(MODEL_META.modelId);
}

/** The sidecar's id, the ONNX file's id and models.list agree, and the classes are the pair's own. */
async function assertWholePair(workspace: Workspace, model: string, classes: string[]): Promise<string> {
  const reading = await readSidecar(model);
  assert.deepEqual(reading.sidecar.classes, classes);
  assert.equal(await modelIdOnDisk(model), reading.sidecar.modelId, 'the ONNX file is the sidecar’s own');
  const listed = await listModels(workspace);
  assert.equal(listed.length, 1, 'models.list shows the model once, and no pending file');
  assert.equal(listed[0].entry.id, reading.sidecar.modelId);
  assert.deepEqual(listed[0].entry.classes, classes);
  return reading.sidecar.modelId;
}

describe('an export that fails between its steps', () => {
  const cases: { stage: ExportStage; after: 'old' | 'new' }[] = [
    { stage: 'model-staged', after: 'old' },
    { stage: 'sidecar-committed', after: 'new' },
    { stage: 'model-in-place', after: 'new' },
  ];
  for (const { stage, after: expected } of cases)
    it(`fails at ${stage}: the readers see the ${expected} pair, whole`, async () => {
      const { workspace, model, idA } = await exportedA(`fail-${stage}`);
      const sidecarBefore = await readFile(sidecarPathFor(model), 'utf8');
      const modelBefore = await readFile(model);
      let idB = '';
      await assert.rejects(
        exportRun(runB, model, {
          overwrite: true,
          onStage: async (s) => {
            if (s !== stage) return;
            idB = JSON.parse(await readFile(sidecarPathFor(model), 'utf8')).modelId;
            throw new InjectedFailure(s);
          },
        }),
        InjectedFailure,
      );
      if (expected === 'old') {
        assert.equal(await readFile(sidecarPathFor(model), 'utf8'), sidecarBefore);
        assert.deepEqual(await readFile(model), modelBefore, 'the old model is byte for byte the same');
        assert.equal(await assertWholePair(workspace, model, ['a', 'b', 'c']), idA);
        assert.deepEqual(await listPendingModels(model), [], 'the staged model was removed');
      } else {
        // The sidecar was committed: the pair is export B's, whether or not the model had been moved.
        assert.equal(await assertWholePair(workspace, model, ['x', 'y', 'z']), idB);
        assert.deepEqual(await listPendingModels(model), []);
      }
      const hidden = (await readdir(workspace.modelsDir)).filter((n) => n.startsWith('.'));
      assert.deepEqual(hidden, [], 'no temporary or pending file is left');
    });
});

/** Runs exportRun(runB, model) in a child that SIGKILLs itself at `stage`; returns B's export id. */
function exportAndDie(model: string, stage: ExportStage): string {
  const index = pathToFileURL(join(process.cwd(), 'main/services/export/index.ts')).href;
  const code = `
    import { readFileSync } from 'node:fs';
    const { exportRun, sidecarPathFor } = await import(${JSON.stringify(index)});
    await exportRun(${JSON.stringify(runB)}, ${JSON.stringify(model)}, {
      overwrite: true,
      onStage: (s) => {
        if (s !== ${JSON.stringify(stage)}) return;
        const pending = readFileSync(sidecarPathFor(${JSON.stringify(model)}), 'utf8');
        process.stdout.write(JSON.parse(pending).modelId + '\\n');
        process.kill(process.pid, 'SIGKILL');
      },
    });
    process.stdout.write('survived\\n');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.signal, 'SIGKILL', `the child was killed at ${stage} (stderr: ${r.stderr})`);
  assert.doesNotMatch(r.stdout, /survived/);
  return r.stdout.trim();
}

describe('an export killed (SIGKILL) between its steps', () => {
  it('killed after staging its model: the old pair is read; the next export clears the leftover', async () => {
    const { workspace, model, idA } = await exportedA('kill-staged');
    const modelBefore = await readFile(model);
    exportAndDie(model, 'model-staged');
    const left = await listPendingModels(model);
    assert.equal(left.length, 1, 'the killed export left its staged model');
    assert.deepEqual(await readFile(model), modelBefore);
    assert.equal(await assertWholePair(workspace, model, ['a', 'b', 'c']), idA);
    assert.deepEqual(await listPendingModels(model), left, 'a reader never moves a stale model in');
    const c = await exportRun(runB, model, { overwrite: true });
    assert.deepEqual(await listPendingModels(model), [], 'the next export removed the leftover');
    assert.equal(await assertWholePair(workspace, model, ['x', 'y', 'z']), c.sidecar.modelId);
  });

  it('killed after committing its sidecar: the first reader finishes the export', async () => {
    const { workspace, model, idA } = await exportedA('kill-committed');
    const idB = exportAndDie(model, 'sidecar-committed');
    assert.notEqual(idB, idA);
    // On disk now: B's sidecar, A's model, B's model under its pending name.
    assert.equal(await modelIdOnDisk(model), idA);
    assert.deepEqual(await listPendingModels(model), [pendingModelPath(model, idB)]);
    assert.equal(await assertWholePair(workspace, model, ['x', 'y', 'z']), idB);
    assert.deepEqual(await listPendingModels(model), [], 'the pending model was moved into place');
  });

  it('killed after committing its sidecar: classification runs on the new pair', async () => {
    const { model } = await exportedA('kill-classify');
    const idB = exportAndDie(model, 'sidecar-committed');
    const outcome = await classifyFolder(model, [images], join(dir, 'kill-classify-out'), {
      threads: 1,
      worker: false,
      batch: 2,
    });
    assert.equal(outcome.status, 'completed');
    assert.equal((await resultsOf(outcome)).model.modelId, idB);
    assert.equal((await resultsOf(outcome)).results.filter((r) => r.status === 'ok').length, 2);
    for (const r of (await resultsOf(outcome)).results)
      assert.ok(['x', 'y', 'z'].includes(r.label ?? ''), r.label ?? '');
    assert.equal(await modelIdOnDisk(model), idB);
  });
});

describe('what a reader must never accept', () => {
  it('a pending file that is not the committed export’s model is not moved in', async () => {
    const { model, idA } = await exportedA('wrong-pending');
    // B's sidecar beside A's model, with A's model (renamed) posing as B's pending model.
    const b = await exportRun(runB, join(dir, 'wrong-pending-b', 'm.onnx'));
    await copyFile(b.sidecarPath, sidecarPathFor(model));
    await copyFile(model, pendingModelPath(model, b.sidecar.modelId));
    await assert.rejects(
      readSidecar(model),
      (e: unknown) =>
        e instanceof SidecarError && e.problem === 'mismatch' && /different exports/.test(e.message),
    );
    assert.equal(await modelIdOnDisk(model), idA, 'the model file was left alone');
    assert.equal((await listPendingModels(model)).length, 1);
  });

  it('a sidecar whose model is missing and has no pending model is refused', async () => {
    const { model } = await exportedA('no-model');
    await rm(model);
    await writeFile(join(dir, 'no-model', 'models', '.m.onnx.junk.pending'), 'not a model');
    await assert.rejects(
      readSidecar(model),
      (e: unknown) => e instanceof SidecarError && e.problem === 'model-missing',
    );
  });

  it('a reader running during the export finishes the move itself, and the export still succeeds', async () => {
    const { workspace, model } = await exportedA('concurrent');
    let seenByReader = '';
    const b = await exportRun(runB, model, {
      overwrite: true,
      onStage: async (s) => {
        if (s === 'sidecar-committed') seenByReader = (await readSidecar(model)).sidecar.modelId;
      },
    });
    assert.equal(seenByReader, b.sidecar.modelId);
    assert.equal(await assertWholePair(workspace, model, ['x', 'y', 'z']), b.sidecar.modelId);
  });
});
