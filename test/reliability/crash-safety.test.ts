// Crash safety: a training process is killed with SIGKILL at seeded random moments, several times. After
// every kill the run folder is readable (run.json parses, the checkpoint loads, every visible file is
// whole), the only leftovers are hidden temporary files, the next start resumes from exactly the last
// complete checkpoint and removes those temporaries, and the run completes with none left. The seed is printed; ATTNVGG_TEST_SEED=N repeats a run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors } from '../../models/core/safetensors.js';
import { isAtomicTemporary, removeStaleTemporaries } from '../../main/services/storage/atomic-write.js';
import { loadCheckpoint, type LoopPosition } from '../../main/services/training/checkpoint.js';
import { readMetrics, runPath } from '../../main/services/training/run-folder.js';
import { tempShapesDataset } from '../helpers/shapes-folder.js';
import { seededRandom, testSeed } from './seeded.js';

const CHILD = fileURLToPath(new URL('./train-child.ts', import.meta.url));
const KILLS = 6;

let dir = '';
let dataset = '';

before(async () => {
  ({ dir, dataset } = await tempShapesDataset(
    'attnvgg-crash-',
    { classes: 2, size: 32, counts: { train: 12, val: 4, test: 4 }, seed: 3 },
    'data',
  ));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface ChildRun {
  lines: Record<string, unknown>[];
  killed: boolean;
  code: number | null;
  stderr: string;
}

/** Runs the training child; `killAt` decides from each printed line (or a timer) when to SIGKILL it. */
function runChild(
  runDir: string,
  kill: { afterLines?: number; extraMs?: number; afterMs?: number } | null,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, runDir, dataset], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    let killed = false;
    let stderr = '';
    let pending = '';
    const doKill = (): void => {
      if (killed || child.exitCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    };
    if (kill?.afterMs !== undefined) setTimeout(doKill, kill.afterMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (kill?.afterLines !== undefined && lines.length === kill.afterLines) {
          if (kill.extraMs) setTimeout(doKill, kill.extraMs);
          else doKill();
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ lines, killed, code, stderr }));
  });
}

/** Every visible file of the run folder is whole; hidden ones are only atomic-write temporaries. */
async function checkRunFolder(
  runDir: string,
): Promise<{ position: LoopPosition | null; leftovers: string[] }> {
  const leftovers: string[] = [];
  if (!existsSync(runDir)) return { position: null, leftovers };
  for (const folder of [runDir, join(runDir, 'checkpoints')]) {
    if (!existsSync(folder)) continue;
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) {
        assert.ok(isAtomicTemporary(entry.name), `unexpected hidden file ${entry.name}`);
        leftovers.push(entry.name);
        continue;
      }
      const path = join(folder, entry.name);
      if (entry.isDirectory()) continue;
      if (entry.name.endsWith('.json')) JSON.parse(await readFile(path, 'utf8'));
      else if (entry.name.endsWith('.safetensors')) decodeSafetensors(await readFile(path));
      else assert.equal(entry.name, 'metrics.jsonl', `unexpected file ${entry.name}`);
    }
  }
  if (existsSync(runPath(runDir, 'record'))) {
    const record = JSON.parse(await readFile(runPath(runDir, 'record'), 'utf8')) as { status?: string };
    assert.equal(typeof record.status, 'string');
  }
  await readMetrics(runDir); // tolerates a line torn by a kill
  const last = runPath(runDir, 'lastCheckpoint');
  const position = existsSync(last) ? (await loadCheckpoint(last)).position : null;
  return { position, leftovers };
}

test('kill -9 at random moments: the folder stays readable and the run resumes to completion', async (t) => {
  const seed = testSeed();
  t.diagnostic(`seed ${seed} (ATTNVGG_TEST_SEED=${seed} repeats this run)`);
  const random = seededRandom(seed);
  const runDir = join(dir, 'run');
  let position: LoopPosition | null = null;
  let kills = 0;
  let allLeftovers = 0;
  let totalSteps = 18; // 24 training images, batch 4, 3 epochs; updated from the 'started' event
  for (let round = 0; round < KILLS; round++) {
    // Mostly after a printed event (a step or a checkpoint just written) plus 0-30 ms, which lands inside
    // checkpoint writes; sometimes at a random time from the start (start-up, scan, evaluation).
    // Each remaining step prints two lines (step, checkpoint), so this lands before the run's end.
    const remainingLines = 2 * (totalSteps - (position?.globalStep ?? 0));
    // The timer stays under 1.5 s: a whole run from a fresh start took 2.4 s on a quiet machine here
    // (about 1 s of it start-up), and a timer that fires after the run has ended lands no kill.
    // A timer kill only while at least half the run is left: near the end a resumed run finishes
    // within the timer and the kill would not land.
    const timerCanLand = remainingLines >= totalSteps;
    const kill =
      timerCanLand && random() < 0.25
        ? { afterMs: 300 + Math.floor(random() * 1200) }
        : {
            afterLines: 1 + Math.floor(random() * Math.max(1, remainingLines)),
            extraMs: Math.floor(random() * 30),
          };
    const run = await runChild(runDir, kill);
    const started = run.lines.find((l) => l.type === 'started') as
      { resumedAt?: { epoch: number; stepInEpoch: number } } | undefined;
    if (started) {
      const info = started as { epochs?: number; stepsPerEpoch?: number };
      totalSteps = (info.epochs ?? 3) * (info.stepsPerEpoch ?? 6);
      // Resumes from exactly the checkpoint on disk before this start (or from scratch without one).
      const expected: { epoch: number; stepInEpoch: number } | undefined = position
        ? { epoch: position.epoch, stepInEpoch: position.stepInEpoch }
        : undefined;
      assert.deepEqual(
        started.resumedAt,
        expected,
        `round ${round}: resumed at the last complete checkpoint`,
      );
      const firstStep = run.lines.find((l) => l.type === 'step') as { globalStep: number } | undefined;
      if (firstStep && position) assert.equal(firstStep.globalStep, position.globalStep + 1);
    }
    if (!run.killed) {
      assert.equal(run.code, 0, run.stderr);
      t.diagnostic(`round ${round}: the run ended before the kill (${JSON.stringify(kill)})`);
      break;
    }
    kills++;
    const state = await checkRunFolder(runDir);
    allLeftovers += state.leftovers.length;
    position = state.position ?? position;
    t.diagnostic(
      `round ${round}: killed ${JSON.stringify(kill)} after ${run.lines.length} events; checkpoint at ` +
        (state.position ? `epoch ${state.position.epoch} step ${state.position.stepInEpoch}` : 'none') +
        (state.leftovers.length ? `; ${state.leftovers.length} temporary file(s) left` : ''),
    );
  }
  assert.ok(kills >= 3, `at least 3 kills landed (${kills})`);

  // Finish without a kill.
  const last = await runChild(runDir, null);
  assert.equal(last.code, 0, last.stderr);
  const result = last.lines.find((l) => l.type === 'result' || l.type === 'already-finished');
  assert.equal(result?.status, 'completed');
  const record = JSON.parse(await readFile(runPath(runDir, 'record'), 'utf8')) as { status: string };
  assert.equal(record.status, 'completed');
  const evaluation = JSON.parse(await readFile(runPath(runDir, 'evaluation'), 'utf8')) as {
    metrics: { total: number };
  };
  assert.equal(evaluation.metrics.total, 8);
  // Resuming removes what killed writers left (resumeTraining calls removeStaleTemporaries on the run
  // folder and its checkpoints folder), so after the final resume no temporary is left, however many
  // the kills left on the way.
  const { leftovers } = await checkRunFolder(runDir);
  t.diagnostic(
    `${kills} kills, ${allLeftovers} temporary files seen after kills, ${leftovers.length} left at the end`,
  );
  assert.deepEqual(leftovers, [], 'no temporary file is left after the final resume');
  assert.deepEqual(
    [
      ...(await removeStaleTemporaries(runDir)),
      ...(await removeStaleTemporaries(join(runDir, 'checkpoints'))),
    ],
    [],
  );
});
