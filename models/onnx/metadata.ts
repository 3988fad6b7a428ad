// The names attnvgg gives to the inputs, outputs and metadata_props of its ONNX files: one place that the
// writer, the reader and the services (sidecar, classification) share. Imports only model spec types.

import type { ModelSpec } from '../core/spec.js';

/** Opset and IR version of written files: the newest pair Debian's python3-onnx 1.12 checker accepts. */
export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
export const PRODUCER_NAME = 'attnvgg';

/** Version of the layout of our files (names, metadata keys); bump when the importer must tell apart. */
export const FORMAT_VERSION = '1';

export const INPUT_NAME = 'input';
export const BATCH_DIM = 'batch';
export const OUTPUT_LOGITS = 'logits';
export const OUTPUT_PROBABILITIES = 'probabilities';
export const ATTENTION_OUTPUTS = ['attention_1', 'attention_2', 'attention_3'] as const;
/** Outputs of the backbone sub-graph (exportBackboneOnnx). */
export const BACKBONE_LOCALS = ['local_1', 'local_2', 'local_3'] as const;
export const BACKBONE_POOL5 = 'pool5';

/** metadata_props keys written by the exporter; callers may not pass these in their own meta. */
export const META = {
  format: 'attnvgg.format_version',
  spec: 'attnvgg.spec',
  graph: 'attnvgg.graph',
  batchNorm: 'attnvgg.batchnorm',
  inputLayout: 'attnvgg.input_layout',
} as const;

/** metadata_props keys of the graphs models/onnx-train writes (training step, evaluation, Grad-CAM). */
export const TRAINING_META = {
  source: 'attnvgg.source',
  frozenBlocks: 'attnvgg.frozen_blocks',
  optimizer: 'attnvgg.optimizer',
} as const;

/**
 * metadata_props keys the export service adds to the exporter's own
 * (META): what the JSON sidecar says, written into the file too, so a sidecar that disagrees is caught.
 */
export const MODEL_META = {
  modelId: 'attnvgg.model_id',
  classes: 'attnvgg.classes',
  preprocessing: 'attnvgg.preprocessing',
  runId: 'attnvgg.run_id',
  datasetFingerprint: 'attnvgg.dataset_fingerprint',
  exportedAt: 'attnvgg.exported_at',
  /** Also written as the file's producer_version. */
  appVersion: 'app_version',
} as const;

export type GraphKind = 'model' | 'backbone';

/** What the input tensor is, in words, for metadata and doc strings. */
export function inputLayoutText(spec: Pick<ModelSpec, 'inputSize'>): string {
  const s = spec.inputSize;
  return `float32 NCHW [${BATCH_DIM}, 3, ${s}, ${s}], RGB, already resized and normalised (see the pre-processing keys and the JSON sidecar)`;
}

export function specToJson(spec: ModelSpec): string {
  const { inputSize, width, numClasses, attention, compatibility, normalisation } = spec;
  return JSON.stringify({ inputSize, width, numClasses, attention, compatibility, normalisation });
}
