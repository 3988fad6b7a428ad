// The public types of a training run (training-run.ts): its options, its control (pause or cancel at
// the next step boundary), its result and its error; apart so that the run's phases (run-setup.ts,
// step-sources.ts) share them without importing the loop. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

import type { BackendName } from '../../../models/tfjs/backend.js';
import type { RunRecord } from './run-folder.js';
import type { EngineName } from './training-engine-interface.js';
import type { RunStatus, TrainingEventListener } from './training-events.js';

export class TrainingError extends Error {
  override name = 'TrainingError';
}

/** Asks a running loop to stop at the next step boundary. */
export class TrainingControl {
  stopRequested: 'pause' | 'cancel' | null = null;
  request(kind: 'pause' | 'cancel'): void {
    this.stopRequested = kind;
  }
}

export interface TrainingRunOptions {
  runDir: string;
  /** A TensorFlow.js backend to train on (asks for the tfjs engine). */
  backend?: BackendName;
  /** Forces an engine (else ATTNVGG_ENGINE, else the automatic choice of training-engine.ts). */
  engine?: EngineName;
  /** onnxruntime intra-op threads (default: the number of cores); 1 makes runs bitwise repeatable. */
  onnxThreads?: number;
  /**
   * The device asked for: cpu, webgpu, dml, cuda or auto (main/services/device). Absent: ATTNVGG_DEVICE,
   * else what the run asked for when it last started, else cpu.
   */
  device?: string;
  /** Where `auto` keeps its verdict (the workspace); absent: it measures each time. */
  deviceCacheDir?: string;
  /** On a GPU device, also checkpoint when this many seconds passed since the last (default 300). */
  gpuCheckpointSeconds?: number;
  /** Test hook: the onnxruntime trainer fails at this step of this session, as a lost device would. */
  failAtStep?: number;
  control?: TrainingControl;
  onEvent?: TrainingEventListener;
  /** Bytes of decoded images kept between epochs (default 512 MiB). */
  decodeCacheBytes?: number;
}

export interface TrainingResult {
  status: RunStatus;
  runDir: string;
  record: RunRecord;
}
