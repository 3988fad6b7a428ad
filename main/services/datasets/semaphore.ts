// A counting semaphore with a first-come-first-served queue: bounds how many decodes (or any async jobs)
// run at once, and serves earlier requests first so the batch needed soonest is decoded first. Must not
// import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

export interface Semaphore {
  /** Runs `job` when a slot is free; the slot is released when it settles. */
  run<T>(job: () => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createSemaphore(slots: number): Semaphore {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`Expected at least 1 slot, got ${slots}`);
  let active = 0;
  const queue: (() => void)[] = [];
  const release = (): void => {
    active--;
    const next = queue.shift();
    if (next) {
      active++;
      next();
    }
  };
  return {
    async run<T>(job: () => Promise<T>): Promise<T> {
      if (active < slots) active++;
      else await new Promise<void>((resolve) => queue.push(resolve));
      try {
        return await job();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}
