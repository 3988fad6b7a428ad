// Picks the TensorFlow.js backend for training: native `tensorflow` (tfjs-node-gpu with CUDA, then
// tfjs-node), else `wasm` (XNNPACK, with our convolution gradients), else `cpu`, and says why.
// The native packages are optional and loaded by dynamic import only; nothing from main/ or renderer/.

import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from './wasm-conv-gradients.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** In the order selectBackend tries them. */
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** The environment variable that forces one backend (no fallback). */
export const BACKEND_ENV_VAR = 'ATTNVGG_BACKEND';

export interface BackendAttempt {
  /** What was tried, e.g. "tensorflow (tfjs-node-gpu)", "wasm". */
  name: string;
  ok: boolean;
  /** Why it was rejected, in words a user can act on. */
  reason?: string;
}

export interface BackendReport {
  chosen: BackendName;
  attempts: BackendAttempt[];
  /** Compute threads, where the backend says (wasm: XNNPACK threads; cpu: 1). */
  threads?: number;
  notes: string[];
}

export interface SelectBackendOptions {
  /** Tried first; on failure the usual order follows. ATTNVGG_BACKEND overrides it. */
  prefer?: BackendName;
  /** Where ATTNVGG_BACKEND and CUDA_VISIBLE_DEVICES are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** A backend that cannot be chosen or loaded; the message lists the choices or says what to do. */
export class BackendError extends Error {
  override name = 'BackendError';
}

const SETUP_HINT = 'run `npm run setup:native`';
const CUDA_REQUIREMENT = 'tfjs-node-gpu 4.x needs CUDA 11.2 and cuDNN 8.1';

const require = createRequire(import.meta.url);

/** Parses a backend name as a user typed it; throws with the valid choices. */
export function parseBackendName(value: string): BackendName {
  const name = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new BackendError(`Unsupported backend "${value}". Should be one of: ${BACKEND_NAMES.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// Native TensorFlow (tfjs-node-gpu, tfjs-node)

type NativePackage = '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node';

interface LoadOutcome {
  ok: boolean;
  reason?: string;
  notes: string[];
}

/**
 * One load per package per process: a failed tfjs-node import has already registered its kernels
 * (it registers them before it looks for its binary), and importing it again would register them twice.
 */
const nativeLoads = new Map<NativePackage, Promise<LoadOutcome>>();

function packageDir(pkg: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

/** node-pre-gyp puts the addon at lib/napi-v<N>/tfjs_binding.node; true if any such file exists. */
function hasNativeAddon(dir: string): boolean {
  const lib = path.join(dir, 'lib');
  if (!existsSync(lib)) return false;
  return readdirSync(lib).some(
    (entry) => entry.startsWith('napi-v') && existsSync(path.join(lib, entry, 'tfjs_binding.node')),
  );
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/** Turns a failure to load a native TensorFlow package into a sentence a user can act on. */
export function explainNativeLoadError(pkg: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cudaLib = /\b(lib(?:cudart|cublas|cublasLt|cufft|curand|cusolver|cusparse|cudnn)\.so[.\d]*)/.exec(
    message,
  );
  if (cudaLib) return `CUDA device present but ${cudaLib[1]} could not be loaded: ${CUDA_REQUIREMENT}`;
  if (/cudart|cudnn|cuda/i.test(message) && pkg.endsWith('-gpu')) {
    return `CUDA device present but the CUDA libraries could not be loaded (${firstLine(message)}): ${CUDA_REQUIREMENT}`;
  }
  if (/tfjs_binding\.node/.test(message) && /can ?not be found|cannot find/i.test(message)) {
    return `native addon not installed: ${SETUP_HINT}`;
  }
  const libtf = /\b((?:lib)?tensorflow(?:_framework)?\.(?:so|dylib|dll)[.\d]*)/.exec(message);
  if (libtf) {
    return `${libtf[1]} could not be loaded (its download at install time may have failed): ${SETUP_HINT}`;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(pkg)) {
    return `${pkg} is not installed: ${SETUP_HINT}`;
  }
  return `${pkg} failed to load: ${firstLine(message)}`;
}

interface CudaProbe {
  usable: boolean;
  why: string;
}

/** Whether a CUDA device looks usable, without loading any CUDA library ourselves. */
function probeCuda(env: NodeJS.ProcessEnv): CudaProbe {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1')) {
    return { usable: false, why: `CUDA disabled by CUDA_VISIBLE_DEVICES="${visible}"` };
  }
  if (process.platform === 'darwin') return { usable: false, why: 'no CUDA on macOS' };
  if (process.platform === 'linux' && existsSync('/dev/nvidia0')) {
    return { usable: true, why: '/dev/nvidia0' };
  }
  const smi = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000, windowsHide: true });
  if (smi.status === 0 && /GPU \d+/.test(smi.stdout)) return { usable: true, why: 'nvidia-smi lists a GPU' };
  return { usable: false, why: 'no CUDA device found (no /dev/nvidia0 and nvidia-smi lists no GPU)' };
}

async function loadNativeOnce(pkg: NativePackage): Promise<LoadOutcome> {
  const dir = packageDir(pkg);
  if (dir === undefined) return { ok: false, reason: `${pkg} is not installed: ${SETUP_HINT}`, notes: [] };
  if (!hasNativeAddon(dir)) {
    return { ok: false, reason: `native addon not installed: ${SETUP_HINT}`, notes: [] };
  }
  try {
    // A string variable, so TypeScript does not look for the (optional, possibly absent) package.
    const specifier: string = pkg;
    // After a failed tfjs-node-gpu import its kernels stay registered under 'tensorflow'; tfjs-node then
    // replaces each one, with a console warning apiece. PROD silences tfjs-core's warnings meanwhile.
    const quiet = tf.getKernelsForBackend('tensorflow').length > 0;
    const wasProd = tf.env().getBool('PROD');
    if (quiet) tf.env().set('PROD', true);
    try {
      await import(specifier);
    } finally {
      if (quiet) tf.env().set('PROD', wasProd);
    }
  } catch (error) {
    return { ok: false, reason: explainNativeLoadError(pkg, error), notes: [] };
  }
  if (tf.findBackendFactory('tensorflow') === null) {
    return {
      ok: false,
      reason: `${pkg} loaded but registered no 'tensorflow' backend with this copy of @tensorflow/tfjs-core (versions differ?)`,
      notes: [],
    };
  }
  return { ok: true, notes: [] };
}

function loadNative(pkg: NativePackage): Promise<LoadOutcome> {
  let load = nativeLoads.get(pkg);
  if (load === undefined) {
    load = loadNativeOnce(pkg);
    nativeLoads.set(pkg, load);
  }
  return load;
}

interface TryResult {
  attempts: BackendAttempt[];
  ok: boolean;
  threads?: number;
  notes: string[];
}

async function activateTensorflow(pkg: NativePackage): Promise<LoadOutcome> {
  const loaded = await loadNative(pkg);
  if (!loaded.ok) return loaded;
  if (!(await tf.setBackend('tensorflow'))) {
    return {
      ok: false,
      reason: `${pkg} loaded but the 'tensorflow' backend failed to initialise`,
      notes: [],
    };
  }
  const notes: string[] = [];
  if (pkg === '@tensorflow/tfjs-node-gpu') {
    // With CUDA 12 instead of 11.2, TensorFlow can start without the GPU and say nothing (tfjs #8362).
    const usingGpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
    if (usingGpu === false) {
      notes.push(
        `tfjs-node-gpu loaded but TensorFlow is not using the GPU, training runs on the CPU (${CUDA_REQUIREMENT})`,
      );
    }
  }
  return { ok: true, notes };
}

async function tryTensorflow(env: NodeJS.ProcessEnv): Promise<TryResult> {
  const attempts: BackendAttempt[] = [];
  const cuda = probeCuda(env);
  if (cuda.usable) {
    const gpu = await activateTensorflow('@tensorflow/tfjs-node-gpu');
    attempts.push({
      name: 'tensorflow (tfjs-node-gpu)',
      ok: gpu.ok,
      ...(gpu.ok ? {} : { reason: gpu.reason }),
    });
    if (gpu.ok) return { attempts, ok: true, notes: gpu.notes };
  } else {
    attempts.push({ name: 'tensorflow (tfjs-node-gpu)', ok: false, reason: cuda.why });
  }
  const cpu = await activateTensorflow('@tensorflow/tfjs-node');
  attempts.push({ name: 'tensorflow (tfjs-node)', ok: cpu.ok, ...(cpu.ok ? {} : { reason: cpu.reason }) });
  return { attempts, ok: cpu.ok, notes: cpu.notes };
}

// ---------------------------------------------------------------------------------------------
// wasm

/**
 * The folder holding the .wasm binaries, found through the package itself so it works from
 * node_modules and in a packaged app, where electron-builder unpacks them next to app.asar.
 */
export function wasmBinaryDirectory(): string {
  const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const unpacked = dist.replace(/app\.asar(?=[\\/])/, 'app.asar.unpacked');
  return unpacked !== dist && existsSync(unpacked) ? unpacked : dist;
}

const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];
let wasmPathsSet = false;

async function tryWasm(): Promise<TryResult> {
  const name = 'wasm';
  const notes: string[] = [];
  let dir: string;
  try {
    dir = wasmBinaryDirectory();
  } catch (error) {
    const reason = `@tensorflow/tfjs-backend-wasm could not be resolved: ${firstLine(String(error))}`;
    return { attempts: [{ name, ok: false, reason }], ok: false, notes };
  }
  const missing = WASM_BINARIES.filter((file) => !existsSync(path.join(dir, file)));
  if (missing.length > 0) {
    const reason = `wasm binaries missing from ${dir}: ${missing.join(', ')} (unpack them from the asar archive)`;
    return { attempts: [{ name, ok: false, reason }], ok: false, notes };
  }
  if (!wasmPathsSet) {
    // Throws only after a failed initialisation, which setBackend below reports anyway.
    try {
      tfWasm.setWasmPaths(dir + path.sep);
    } catch {
      // keep going
    }
    wasmPathsSet = true;
  }
  registerWasmConvGradients();
  if (!(await tf.setBackend('wasm'))) {
    const reason = `the wasm backend failed to initialise from ${dir} (see the warning above)`;
    return { attempts: [{ name, ok: false, reason }], ok: false, notes };
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  if (simd !== true)
    notes.push('WebAssembly SIMD is not available: the wasm backend runs several times slower');
  const threads = tfWasm.getThreadsCount();
  if (threads <= 1)
    notes.push('the wasm backend runs on one thread under Node (no worker threads in this build)');
  notes.push(
    'convolution gradients on wasm use forward XNNPACK convolutions (models/tfjs/wasm-conv-gradients.ts)',
  );
  return { attempts: [{ name, ok: true }], ok: true, threads, notes };
}

// ---------------------------------------------------------------------------------------------
// cpu

async function tryCpu(): Promise<TryResult> {
  const ok = await tf.setBackend('cpu');
  const notes = ok ? ['the cpu backend is plain JavaScript: expect training to be very slow'] : [];
  return {
    attempts: [{ name: 'cpu', ok, ...(ok ? {} : { reason: 'the cpu backend failed to initialise' }) }],
    ok,
    threads: ok ? 1 : undefined,
    notes,
  };
}

function tryBackend(name: BackendName, env: NodeJS.ProcessEnv): Promise<TryResult> {
  switch (name) {
    case 'tensorflow':
      return tryTensorflow(env);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Makes the best available backend the active TensorFlow.js backend and reports what was tried.
 * ATTNVGG_BACKEND (tensorflow | wasm | cpu) forces one and throws if it cannot load.
 * Safe to call more than once: native packages are imported at most once per process.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendReport> {
  // Production mode: tfjs's own console hints ("install our node backend") would contradict the report
  // this module gives; the report says which backend runs and why.
  tf.env().set('PROD', true);
  const env = options.env ?? process.env;
  const forcedValue = env[BACKEND_ENV_VAR];
  const forced =
    forcedValue !== undefined && forcedValue.trim() !== '' ? parseBackendName(forcedValue) : undefined;

  if (forced !== undefined) {
    const result = await tryBackend(forced, env);
    if (!result.ok) {
      const reasons = result.attempts.map((a) => `${a.name}: ${a.reason ?? 'failed'}`).join('; ');
      throw new BackendError(
        `${BACKEND_ENV_VAR}=${forced}, but the ${forced} backend could not be loaded: ${reasons}`,
      );
    }
    return report(forced, result.attempts, result, [`forced by ${BACKEND_ENV_VAR}=${forcedValue}`]);
  }

  const prefer = options.prefer === undefined ? undefined : parseBackendName(options.prefer);
  const order = prefer === undefined ? BACKEND_NAMES : [prefer, ...BACKEND_NAMES.filter((n) => n !== prefer)];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const result = await tryBackend(name, env);
    attempts.push(...result.attempts);
    if (result.ok) return report(name, attempts, result, []);
  }
  throw new BackendError(
    `No TensorFlow.js backend could be loaded: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`,
  );
}

function report(
  chosen: BackendName,
  attempts: BackendAttempt[],
  result: TryResult,
  extra: string[],
): BackendReport {
  const out: BackendReport = { chosen, attempts, notes: [...extra, ...result.notes] };
  if (result.threads !== undefined) out.threads = result.threads;
  return out;
}

/** The report as lines of text, for `attnvgg info`. */
export function describeBackend(report: BackendReport): string {
  const threads =
    report.threads === undefined ? '' : ` (${report.threads} thread${report.threads === 1 ? '' : 's'})`;
  const lines = [`TensorFlow.js backend: ${report.chosen}${threads}`, 'Tried:'];
  for (const attempt of report.attempts) {
    lines.push(
      `  ${attempt.ok ? '[ok]  ' : '[no]  '}${attempt.name}${attempt.reason ? ` - ${attempt.reason}` : ''}`,
    );
  }
  if (report.notes.length > 0) {
    lines.push('Notes:');
    for (const note of report.notes) lines.push(`  - ${note}`);
  }
  return lines.join('\n');
}
