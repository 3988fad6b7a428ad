// The training engine behind a run: what the loop (training-run.ts) needs from whatever computes a step,
// and the choice between the two engines with the reasons a user sees in `attnvgg info` and run.json:
//   - tfjs: models/train/step.ts on TensorFlow.js (native `tensorflow` backend, else wasm, else cpu);
//   - onnxruntime: the whole step compiled into one ONNX graph (models/onnx-train), on all cores or on a
//     GPU device (main/services/device); a GPU device always trains on onnxruntime.
// The interface the engines implement is in training-engine-interface.ts (re-exported here), so that
// no engine imports this module, which creates them. Both take batches as the batch stream yields them,
// keep the same optimiser state (a checkpoint of either resumes on the other) and evaluate into the same
// report. A run from a pretrained backbone with
// blocks 1..5 or 1..4 frozen trains on cached features instead, on the engine chosen here
// (head-training-engine.ts: usesFeatureCache, createHeadTrainingEngine). Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.

import {
  BACKEND_ENV_VAR,
  parseBackendName,
  selectBackend,
  type BackendName,
  type BackendReport,
} from '../../../models/tfjs/backend.js';
import type { Device } from '../../../models/onnx/device.js';
import type { OptimizerName } from '../../../models/train/optimizer.js';

export type {
  EngineBatch,
  EngineName,
  EngineSetup,
  EngineStepResult,
  TrainingEngine,
} from './training-engine-interface.js';
import type { EngineName, EngineSetup, TrainingEngine } from './training-engine-interface.js';

export const ENGINE_NAMES: readonly EngineName[] = ['tfjs', 'onnxruntime'];

/** The environment variable that forces one engine (no fallback). */
export const ENGINE_ENV_VAR = 'ATTNVGG_ENGINE';

/** Optimisers the ONNX training graph has an update for (models/onnx-train/train-graph.ts). */
const ONNX_OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'adam', 'adamw'];

export class TrainingEngineError extends Error {
  override name = 'TrainingEngineError';
}

/** Parses an engine name as a user typed it; throws with the valid choices. */
export function parseEngineName(value: string): EngineName {
  const name = value.trim().toLowerCase();
  if ((ENGINE_NAMES as readonly string[]).includes(name)) return name as EngineName;
  throw new TrainingEngineError(
    `Unsupported engine "${value}". Should be one of: ${ENGINE_NAMES.join(', ')}`,
  );
}

export interface EngineChoice {
  engine: EngineName;
  /** The TensorFlow.js backend, when the tfjs engine trains. */
  backend?: BackendReport;
  /** Why this engine, in words a user can act on (forced, or why the others were not used). */
  reasons: string[];
  /** True when the caller or ATTNVGG_ENGINE named the engine: no fallback then. */
  forced: boolean;
}

export interface ChooseEngineOptions {
  /** Forced by the caller (CLI --engine); ATTNVGG_ENGINE forces too when this is absent. */
  engine?: EngineName;
  /** An explicit TensorFlow.js backend (CLI --backend): asks for the tfjs engine. */
  backend?: BackendName;
  optimizer: OptimizerName;
  /** Where ATTNVGG_ENGINE and ATTNVGG_BACKEND are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The resolved device (main/services/device): a GPU device trains on onnxruntime. */
  device?: Device;
}

/** Why the ONNX engine cannot train with these settings, or null when it can. */
export function onnxEngineRefusal(config: { optimizer: OptimizerName }): string | null {
  if (!ONNX_OPTIMIZERS.includes(config.optimizer))
    return `the onnxruntime engine has no update for the optimizer "${config.optimizer}" (it has: ${ONNX_OPTIMIZERS.join(', ')})`;
  return null;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v !== undefined && v.trim() !== '' ? v : undefined;
}

/**
 * Picks the engine: native TensorFlow when it loads (first choice), else onnxruntime, else TensorFlow.js
 * on wasm or cpu (only when forced, when a TensorFlow.js backend was asked for, or when onnxruntime
 * cannot serve the settings). Loads the TensorFlow.js backend on the way (selectBackend).
 */
export async function chooseTrainingEngine(options: ChooseEngineOptions): Promise<EngineChoice> {
  const env = options.env ?? process.env;
  const fromEnv = envValue(env, ENGINE_ENV_VAR);
  const forced = options.engine ?? (fromEnv === undefined ? undefined : parseEngineName(fromEnv));
  const how = options.engine !== undefined ? `--engine ${options.engine}` : `${ENGINE_ENV_VAR}=${fromEnv}`;
  const backendEnv = envValue(env, BACKEND_ENV_VAR);
  const askedBackend =
    options.backend ?? (backendEnv === undefined ? undefined : parseBackendName(backendEnv));

  const gpu = options.device !== undefined && options.device !== 'cpu' ? options.device : undefined;
  if (gpu && forced === 'tfjs')
    throw new TrainingEngineError(
      `${how}, but the device ${gpu} runs only the onnxruntime engine; use --device cpu or --engine onnxruntime.`,
    );
  if (forced === 'onnxruntime') {
    const refusal = onnxEngineRefusal(options);
    if (refusal) throw new TrainingEngineError(`${how}, but ${refusal}; use --engine tfjs.`);
    // Not for training: the caller may still draw attention maps with TensorFlow.js (the demo does).
    await selectBackend({ env }).catch(() => undefined);
    return { engine: 'onnxruntime', reasons: [`forced by ${how}`], forced: true };
  }
  if (gpu) {
    const refusal = onnxEngineRefusal(options);
    if (refusal) throw new TrainingEngineError(`The device ${gpu} trains on onnxruntime, but ${refusal}.`);
    await selectBackend({ env }).catch(() => undefined);
    return {
      engine: 'onnxruntime',
      reasons: [`a GPU device (${gpu}) was chosen: onnxruntime trains on it (a GPU beats a CPU)`],
      forced: false,
    };
  }
  const backend = await selectBackend(options.backend ? { prefer: options.backend, env } : { env });
  if (forced === 'tfjs') return { engine: 'tfjs', backend, reasons: [`forced by ${how}`], forced: true };
  if (backend.chosen === 'tensorflow')
    return {
      engine: 'tfjs',
      backend,
      reasons: ['native TensorFlow loaded: the first choice for training'],
      forced: false,
    };
  // A backend asked for that did not load (--backend only prefers) leaves the choice to the rules below.
  if (askedBackend !== undefined && askedBackend === backend.chosen)
    return {
      engine: 'tfjs',
      backend,
      reasons: [
        `the TensorFlow.js backend ${askedBackend} was asked for (${options.backend ? `--backend ${options.backend}` : `${BACKEND_ENV_VAR}=${backendEnv}`})`,
      ],
      forced: false,
    };
  const native = backend.attempts
    .filter((a) => a.name.startsWith('tensorflow'))
    .map((a) => `${a.name}: ${a.reason ?? 'not used'}`)
    .join('; ');
  const refusal = onnxEngineRefusal(options);
  if (refusal)
    return {
      engine: 'tfjs',
      backend,
      reasons: [
        `native TensorFlow did not load (${native})`,
        `${refusal}: TensorFlow.js ${backend.chosen} trains`,
      ],
      forced: false,
    };
  return {
    engine: 'onnxruntime',
    reasons: [
      `native TensorFlow did not load (${native})`,
      `onnxruntime trains several times faster than TensorFlow.js ${backend.chosen} on a CPU (bench/RESULTS.md)`,
    ],
    forced: false,
  };
}

/** The engine chosen, as lines of text for `attnvgg info`. */
export function describeEngineChoice(choice: EngineChoice): string {
  const lines = [
    `Training engine: ${choice.engine}${choice.backend ? ` (TensorFlow.js ${choice.backend.chosen})` : ''}`,
  ];
  for (const reason of choice.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n');
}

/** How to open each engine for one kind of run (full images, or cached features). */
export interface EngineOpeners<E> {
  onnxruntime(setup: EngineSetup): Promise<E>;
  tfjs(setup: EngineSetup, backend: BackendName): Promise<E>;
}

/**
 * Opens the chosen engine with `open`. A GPU device whose onnxruntime session cannot start (no adapter,
 * a driver that refuses the graph) falls back to the CPU; under automatic choice an onnxruntime that fails
 * to start at all (its native binary missing, say) falls back to TensorFlow.js. Each fallback's reason is
 * added to `choice.reasons`.
 */
export async function openChosenEngine<E>(
  choice: EngineChoice,
  setup: EngineSetup,
  open: EngineOpeners<E>,
): Promise<E> {
  if (choice.engine === 'onnxruntime') {
    try {
      return await open.onnxruntime(setup);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (setup.device !== undefined && setup.device !== 'cpu') {
        choice.reasons.push(
          `${setup.device} could not start (${message.split('\n')[0]}): the CPU trains instead`,
        );
        return open.onnxruntime({ ...setup, device: 'cpu' });
      }
      if (choice.forced) throw error;
      choice.reasons.push(`onnxruntime could not start (${message}): TensorFlow.js trains instead`);
      choice.engine = 'tfjs';
      choice.backend = await selectBackend();
    }
  }
  return open.tfjs(setup, choice.backend?.chosen ?? (await selectBackend()).chosen);
}

/** Opens the chosen engine for a run on images (openChosenEngine's fallbacks apply). */
export async function createTrainingEngine(
  choice: EngineChoice,
  setup: EngineSetup,
): Promise<TrainingEngine> {
  return openChosenEngine<TrainingEngine>(choice, setup, {
    onnxruntime: async (s) => (await import('./onnx-training-engine.js')).createOnnxTrainingEngine(s),
    tfjs: async (s, backend) =>
      (await import('./tfjs-training-engine.js')).createTfjsTrainingEngine(s, backend),
  });
}
