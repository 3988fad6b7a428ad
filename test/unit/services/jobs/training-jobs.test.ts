// Training jobs in worker threads: a job that fails says why in plain words and no longer counts as
// active; one job at a time; stop requests reach only running jobs.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JobConflictError, TrainingJobs, type JobEvent } from '../../../../main/services/jobs/index.js';

test('a job whose dataset is missing ends as failed with the reason, and frees the slot', async () => {
  const dir = await mkdtemp(join(os.tmpdir(), 'attnvgg-jobs-'));
  const events: JobEvent[] = [];
  const jobs = new TrainingJobs({ onEvent: (e) => events.push(e) });
  try {
    jobs.start('r1', join(dir, 'r1'), { dataset: join(dir, 'no-such-folder'), inputSize: 32, width: 0.0625 });
    assert.equal(jobs.isActive('r1'), true);
    assert.throws(() => jobs.resume('r2', join(dir, 'r2')), JobConflictError);
    await jobs.whenEnded('r1');
    assert.equal(jobs.isActive('r1'), false);
    assert.equal(jobs.requestStop('r1', 'pause'), false);
    const ended = events.find((e) => e.type === 'ended');
    assert.ok(ended && ended.type === 'ended');
    assert.equal(ended.status, 'failed');
    assert.match(ended.message, /no-such-folder|does not exist|not found|no folder/i);
  } finally {
    await jobs.stopAll(5000);
    await rm(dir, { recursive: true, force: true });
  }
});
