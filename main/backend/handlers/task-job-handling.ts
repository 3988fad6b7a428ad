// What the API handlers of the task-job registries (classify-handlers.ts, compare-handlers.ts) share:
// a job found by its id (a 'not-found' in the kind's words when it is gone), a new job started (a
// 'conflict' while another of its kind runs), a job cancelled, all jobs listed; each record answered as
// the API's view of it (the record minus its file format tag). Must not import electron or renderer.
import { ApiError } from '../../api/index.js';
import { TaskJobConflictError } from '../../services/jobs/index.js';

/** What the handlers use of a job registry (TaskJobRegistry). */
export interface JobRegistry<O, R> {
  get(id: string): Promise<R | null>;
  start(order: O): Promise<R>;
  cancel(id: string): boolean;
  list(): Promise<R[]>;
}

/** The API's view of a job record: the record minus its file format tag. */
export function withoutFormat<R extends { format: string }>(record: R): Omit<R, 'format'> {
  const { format: _format, ...job } = record;
  return job;
}

export interface TaskJobHandling<O, R, J> {
  /** The job's record; a 'not-found' ApiError when it is no longer in the workspace. */
  requireJob(id: string): Promise<R>;
  start(order: O): Promise<J>;
  /** Asks the job to stop; answers its record as it stands then. */
  cancel(id: string): Promise<J>;
  list(): Promise<J[]>;
}

export function taskJobHandling<O, R, J>(
  registry: JobRegistry<O, R>,
  kind: {
    /** The API's view of a record. */
    toJob: (record: R) => J;
    /** Why a job asked for by its id cannot be found, in the user's words. */
    gone: string;
  },
): TaskJobHandling<O, R, J> {
  const { toJob } = kind;
  const requireJob = async (id: string): Promise<R> => {
    const job = await registry.get(id);
    if (!job) throw new ApiError('not-found', kind.gone);
    return job;
  };
  return {
    requireJob,
    async start(order) {
      try {
        return toJob(await registry.start(order));
      } catch (error) {
        if (error instanceof TaskJobConflictError) throw new ApiError('conflict', error.message);
        throw error;
      }
    },
    async cancel(id) {
      const job = await requireJob(id);
      if (!registry.cancel(id)) return toJob(job);
      return toJob((await registry.get(id)) ?? job);
    },
    async list() {
      return (await registry.list()).map(toJob);
    },
  };
}
