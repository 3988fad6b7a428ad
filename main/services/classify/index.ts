// The public surface of batch classification with exported models: classifyFolder, its results files,
// the inference runner and the inference benchmark. Must not import electron or anything from
// main/electron, main/server, main/cli or renderer.
export {
  ClassifyError,
  DEFAULT_BATCH,
  DEFAULT_OVERLAY_SIZE,
  DEFAULT_TOP_K,
  HEATMAPS_FOLDER,
  UNCERTAIN_LABEL,
  classifyFolder,
  defaultClassifyThreads,
  type ClassifyOptions,
  type ClassifyOutcome,
  type ClassifyProgress,
} from './classify-folder.js';
export {
  ModelFileError,
  expectationsOf,
  loadCheckedModel,
  type CheckedModel,
  type ModelExpectations,
  type ModelFileProblem,
} from './check-model.js';
export { InputError, collectInputFiles, type InputFile, type InputProblem } from './collect-files.js';
export {
  InferSpeedError,
  measureInferSpeed,
  onnxModelSpec,
  peakRssMb,
  resetPeakRss,
  type InferSpeedOptions,
  type InferSpeedResult,
} from './infer-speed.js';
export {
  InferenceError,
  openInference,
  type InferenceOptions,
  type InferenceResult,
  type InferenceRunner,
} from './inference-runner.js';
export { encodeNpyFloat32 } from './npy.js';
export {
  RESULTS_CSV,
  RESULTS_FORMAT,
  RESULTS_JSON,
  ResultsError,
  readResults,
  resultsCsv,
  type ClassifyResults,
  type ClassifySettings,
  type ClassifySummary,
  type ImageResult,
  type SkippedEntry,
  type TopLabel,
} from './results.js';
export { labelFolderName, sortFile } from './sort-into.js';
