// What the job registries (task-job-registry.ts, training-jobs.ts) share: the job.json record in each
// job's folder (written at start and end, read back as cancelled when it was left running by a closed or
// crashed app), the newest-first listing of a workspace's jobs, stopping running jobs within a time limit
// when the app closes, and how often live progress is announced. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../storage/atomic-write.js';

/** The record's file in each job's folder. */
export const JOB_FILE = 'job.json';

/** The fields every job record has. */
export interface JobRecordBase {
  format: string;
  id: string;
  status: string;
  startedAt: string;
  message?: string;
}

/**
 * Reads `<jobDir>/job.json`; null when it is missing, unreadable, of another format or another id. A
 * record still marked 'running' was not running in this session (the app was closed or crashed while it
 * ran): `leftRunning` says what it reads back as.
 */
export async function readJobRecord<R extends JobRecordBase>(
  jobDir: string,
  expected: { format: R['format']; id: string },
  leftRunning: (record: R) => R,
): Promise<R | null> {
  try {
    const record = JSON.parse(await readFile(join(jobDir, JOB_FILE), 'utf8')) as R;
    if (record.format !== expected.format || record.id !== expected.id) return null;
    return record.status === 'running' ? leftRunning(record) : record;
  } catch {
    return null;
  }
}

/** Writes the record to `<jobDir>/job.json` (atomically). */
export async function writeJobRecord(jobDir: string, record: JobRecordBase): Promise<void> {
  await writeJsonAtomic(join(jobDir, JOB_FILE), record);
}

/**
 * Writes an ended job's record; when that fails the job still ends, and its message says the record
 * could not be saved (`what` names the record: "The job record").
 */
export async function writeEndedJobRecord(
  jobDir: string,
  record: JobRecordBase,
  what: string,
): Promise<void> {
  try {
    await writeJobRecord(jobDir, record);
  } catch (error) {
    record.message = `${record.message ?? ''} (${what} could not be saved: ${(error as Error).message})`;
  }
}

/** Every job under `rootDir` (one folder each) as `get` reads it, newest first. */
export async function listJobRecords<R extends JobRecordBase>(
  rootDir: string,
  get: (id: string) => Promise<R | null>,
): Promise<R[]> {
  const entries = await readdir(rootDir, { withFileTypes: true }).catch(() => []);
  const records: (R | null)[] = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => get(e.name)),
  );
  return records.filter((r): r is R => r !== null).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** A running job as stopJobsWithin sees it. */
export interface StoppableJob {
  /** Resolves when the job has ended and its record is written. */
  ended: Promise<void>;
  /** Ends the job's worker hard. */
  terminate: () => Promise<unknown>;
}

/**
 * Waits up to `timeoutMs` for each job (already asked to stop) to end, then ends the ones still going
 * hard: closing the app must not hang on a worker that does not answer.
 */
export async function stopJobsWithin(jobs: StoppableJob[], timeoutMs: number): Promise<void> {
  await Promise.all(
    jobs.map(async (job) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([job.ended.then(() => 'ended' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') await job.terminate();
    }),
  );
}

/** Live progress is announced at most this often, so a fast job does not flood the UI. */
export const ANNOUNCE_EVERY_MS = 250;

/**
 * True when a job's live change should be announced now: always when `urgent` (a state change the UI
 * must show), otherwise at most every ANNOUNCE_EVERY_MS. Marks the job as announced when it says yes.
 */
export function announceDue(job: { lastAnnounced: number }, urgent: boolean, now = Date.now()): boolean {
  if (!urgent && now - job.lastAnnounced < ANNOUNCE_EVERY_MS) return false;
  job.lastAnnounced = now;
  return true;
}
