// The public surface of batch classification with exported models: classifyFolder, its inputs (folders,
// lists, shards), its results files and their merge, the inference runner and the inference benchmark.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
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
export {
  InputError,
  collectInputFiles,
  streamInputFiles,
  type InputEntry,
  type InputFile,
  type InputProblem,
} from './collect-files.js';
export { STDIN_LIST, readFileList } from './file-list.js';
export {
  openInputs,
  planInputs,
  type InputPlan,
  type InputRecord,
  type InputSpec,
  type NumberedInput,
} from './input-source.js';
export { MergeError, mergeShards, type MergeOutcome } from './merge-results.js';
export {
  RESULTS_JSONL,
  SUMMARY_FORMAT,
  SUMMARY_JSON,
  loadResults,
  readRows,
  readSummary,
  type ResultsSummary,
} from './result-files.js';
export { ShardError, inShard, parseShard, type Shard } from './shard.js';
export {
  InferSpeedError,
  measureInferSpeed,
  onnxModelSpec,
  peakRssMb,
  resetPeakRss,
  type InferSpeedOptions,
  type InferSpeedResult,
} from './infer-speed.js';
export { InferenceError } from './inference-error.js';
export {
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
  writeResultsJson,
  type ClassifyResults,
  type ClassifySettings,
  type ClassifySummary,
  type ImageResult,
  type SkippedEntry,
  type TopLabel,
} from './results.js';
export { labelFolderName, sortFile } from './sort-into.js';
