// Starts one of this folder's worker modules in a worker_threads Worker: the compiled .js file when the
// app runs from dist/, else the .ts source through tsx (a development checkout, the tests). Loads sharp
// in this thread first, as sharp asks on Linux, so its shared libraries outlive every worker.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { Worker } from 'node:worker_threads';
import 'sharp';

export type WorkerModule = 'training-worker' | 'inference-worker' | 'task-worker';

/** True when this code runs from TypeScript sources (tsx), false when compiled. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

export function startWorker(module: WorkerModule, workerData: unknown): Worker {
  const target = new URL(`./${module}${RUNNING_FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);
  if (!RUNNING_FROM_SOURCE) return new Worker(target, { workerData });
  // Node 20 does not apply `--import tsx` from execArgv before a worker's entry module loads, so a
  // tiny bootstrap registers tsx's loader, then imports the TypeScript entry.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(target.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
