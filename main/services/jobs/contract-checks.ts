// Compile-time checks that what the services produce fits the API contract's shapes, so the contract
// cannot drift from the engine unnoticed (tsc fails here). No runtime code. Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.
import type {
  BackendReport as ApiBackendReport,
  ClassifyJob as ApiClassifyJob,
  CompareEvent as ApiCompareEvent,
  RunStatus as ApiRunStatus,
  TrainingEvent as ApiTrainingEvent,
  TrainingSettings,
} from '../../api/index.js';
import type { BackendReport } from '../../../models/tfjs/backend.js';
import type { TrainingConfig } from '../training/training-config.js';
import type { RunStatus, TrainingEvent } from '../training/training-events.js';
import type { CompareEvent } from '../compare/index.js';
import type { ClassifyJobRecord } from './classify-jobs.js';

type Fits<A extends B, B> = A;

export type ContractChecks = [
  Fits<TrainingEvent, ApiTrainingEvent>,
  Fits<RunStatus, ApiRunStatus>,
  Fits<ApiRunStatus, RunStatus>,
  Fits<BackendReport, ApiBackendReport>,
  // A classification job's record is what the API answers about it.
  Fits<ClassifyJobRecord, ApiClassifyJob>,
  Fits<ApiClassifyJob['status'], ClassifyJobRecord['status']>,
  // The comparison service's events are what the API's compare events carry.
  Fits<CompareEvent, ApiCompareEvent>,
  // Every setting the UI can send is a TrainingConfig setting of the same type.
  Fits<Required<TrainingSettings>, { [K in keyof TrainingSettings]-?: TrainingConfig[K] }>,
];
