// Which exit code an error that escapes a command gets, decided by its class rather than by its name: our
// own error classes carry messages in plain words about the input (a folder that is not a dataset, a file
// that is not a model, a setting out of range), so they exit with EXIT.badInput; a UserError carries its
// own code; anything else (a TypeError, a bug) is unexpected and exits with EXIT.failed. A unit test
// checks that every error class exported by main/ and models/ is listed here, so a new one cannot fall
// through to "unexpected" by accident. Must not import electron or anything from main/electron or renderer.

import { SpecError } from '../../models/core/spec.js';
import { WeightsError } from '../../models/core/weights.js';
import { OnnxTrainError } from '../../models/onnx-train/errors.js';
import { DeviceError } from '../../models/onnx/device.js';
import { OnnxError } from '../../models/onnx/errors.js';
import { OnnxHeaderError } from '../../models/onnx/read-header.js';
import { BackendError } from '../../models/tfjs/backend.js';
import { WeightFileError } from '../../models/weight-files/errors.js';
import { ApiError } from '../api/api-error.js';
import { ServerStartError } from '../server/http-server.js';
import { BrowserModeError } from '../server/serve-browser-mode.js';
import { WorkspaceError } from '../backend/workspace.js';
import { BackboneDownloadError } from '../services/backbone/download.js';
import { BackboneError } from '../services/backbone/load-backbone.js';
import { BenchError } from '../../models/bench/measure-tfjs-training.js';
import { BoxFileError } from '../services/boxes/box-types.js';
import { ModelFileError } from '../services/classify/check-model.js';
import { ClassifyError } from '../services/classify/classify-options.js';
import { InputError } from '../services/classify/collect-files.js';
import { InferSpeedError } from '../services/classify/infer-speed.js';
import { InferenceError } from '../services/classify/inference-error.js';
import { MergeError } from '../services/classify/merge-results.js';
import { ResultsError } from '../services/classify/results.js';
import { ShardError } from '../services/classify/shard.js';
import { CompareError } from '../services/compare/compare-attention.js';
import { CompareReportError } from '../services/compare/compare-report.js';
import { FashionMnistError } from '../services/datasets/fashion-mnist.js';
import { ExportError } from '../services/export/export-run.js';
import { SidecarError } from '../services/export/sidecar.js';
import { AttentionMapError } from '../services/heatmaps/attention-map.js';
import { ColormapError } from '../services/heatmaps/colormap.js';
import { OverlayError } from '../services/heatmaps/render-overlay.js';
import { ImageError } from '../services/images/image-error.js';
import { TaskError } from '../services/jobs/background-task.js';
import { ClassifyJobConflictError } from '../services/jobs/classify-jobs.js';
import { CompareJobConflictError } from '../services/jobs/compare-jobs.js';
import { TaskJobConflictError } from '../services/jobs/task-job-registry.js';
import { JobConflictError } from '../services/jobs/training-jobs.js';
import { StorageError } from '../services/storage/atomic-write.js';
import { CheckpointError } from '../services/training/checkpoint.js';
import { ResumeError } from '../services/training/resume-point.js';
import { RunFolderError } from '../services/training/run-folder.js';
import { ConfigError } from '../services/training/training-config.js';
import { TrainingEngineError } from '../services/training/training-engine.js';
import { TrainingError } from '../services/training/training-run.js';
import { FeatureCacheError } from '../services/transfer/feature-cache.js';
import { EXIT, UserError } from './command.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes whose message tells the user what is wrong with what they gave the command. */
export const INPUT_ERROR_CLASSES: readonly ErrorClass[] = [
  ApiError,
  AttentionMapError,
  BackboneDownloadError,
  BackboneError,
  BackendError,
  BenchError,
  BoxFileError,
  BrowserModeError,
  CheckpointError,
  ClassifyError,
  ClassifyJobConflictError,
  ColormapError,
  CompareError,
  CompareJobConflictError,
  CompareReportError,
  ConfigError,
  DeviceError,
  ExportError,
  FashionMnistError,
  FeatureCacheError,
  ImageError,
  InferSpeedError,
  InferenceError,
  MergeError,
  InputError,
  JobConflictError,
  ModelFileError,
  OnnxError,
  OnnxHeaderError,
  OnnxTrainError,
  OverlayError,
  ResultsError,
  ResumeError,
  RunFolderError,
  ServerStartError,
  ShardError,
  SidecarError,
  SpecError,
  StorageError,
  TaskError,
  TaskJobConflictError,
  TrainingEngineError,
  TrainingError,
  WeightFileError,
  WeightsError,
  WorkspaceError,
];

/** The exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UserError) return error.exitCode;
  return INPUT_ERROR_CLASSES.some((c) => error instanceof c) ? EXIT.badInput : EXIT.failed;
}
