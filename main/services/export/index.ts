// The public surface of the export module: a run to `<model>.onnx` + `<model>.json`, and the validated
// reading of that sidecar. Must not import electron or anything from main/electron, main/backend, main/server, main/cli
// or renderer.
export {
  ExportError,
  TRAINING_DECODE,
  exportRun,
  type ExportOptions,
  type ExportStage,
  type ExportResult,
} from './export-run.js';
export { listPendingModels, pendingModelPath } from './model-pair.js';
export { OnnxHeaderError, readOnnxHeader, type OnnxHeader } from './onnx-metadata.js';
export {
  MODEL_META,
  SIDECAR_FORMAT,
  SidecarError,
  preprocessingOf,
  readSidecar,
  sidecarMetadata,
  sidecarPathFor,
  type ModelSidecar,
  type Preprocessing,
  type SidecarProblem,
  type SidecarReading,
} from './sidecar.js';
