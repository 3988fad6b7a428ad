// The first phase of a classification (classify-folder.ts): the options checked, the model's sidecar
// read, and everything the later phases need resolved once: output folders, the input as a spec, the
// defaults filled in, the settings recorded with the results, and how pictures are decoded for the model
// and for the overlays. Must not import electron or anything from main/electron, main/backend, main/server, main/cli
// or renderer.

import { resolve } from 'node:path';
import { preprocessingOf, readSidecar, type ModelSidecar, type Preprocessing } from '../export/sidecar.js';
import type { MapLevel } from '../heatmaps/attention-map.js';
import type { DecodeOptions } from '../images/decode-image.js';
import {
  ClassifyError,
  DEFAULT_BATCH,
  DEFAULT_OVERLAY_SIZE,
  DEFAULT_TOP_K,
  checkClassifyOptions,
  classifySettingsOf,
  defaultClassifyThreads,
  type ClassifyOptions,
} from './classify-options.js';
import type { InputSpec } from './input-source.js';
import type { ClassifySettings } from './results.js';

/** A classification with its options resolved: what every later phase reads. */
export interface ClassifySetup {
  /** The model as given (recorded with the results) and resolved (opened). */
  modelPath: string;
  resolvedModelPath: string;
  sidecar: ModelSidecar;
  /** The output folder, resolved. */
  out: string;
  /** The --sort-into folder, resolved; null without it. */
  sortRoot: string | null;
  spec: InputSpec;
  options: ClassifyOptions;
  classes: readonly string[];
  topK: number;
  threshold: number;
  batchSize: number;
  threads: number;
  settings: ClassifySettings;
  /** Overlays are drawn. */
  heatmaps: boolean;
  /** The attention maps are asked of the model (overlays or raw maps). */
  wantMaps: boolean;
  level: MapLevel;
  /** The model's input side S. */
  size: number;
  /** The model's normalisation (per channel). */
  normalisation: Pick<Preprocessing, 'mean' | 'std'>;
  /** How a picture is decoded for the model (S x S, the model's resize policy). */
  decode: DecodeOptions;
  /** The overlay side of a picture of this size (ClassifyOptions.overlaySize). */
  overlaySide: (sourceWidth: number, sourceHeight: number) => number;
}

/** Checks the options and reads the sidecar; throws ClassifyError or SidecarError. Writes nothing. */
export async function resolveClassifySetup(
  modelPath: string,
  inputs: readonly string[] | InputSpec,
  outDir: string,
  options: ClassifyOptions,
): Promise<ClassifySetup> {
  checkClassifyOptions(options);
  const resolvedModelPath = resolve(modelPath);
  const { sidecar } = await readSidecar(resolvedModelPath);
  const sortRoot = options.sortInto ? resolve(options.sortInto) : null;
  const heatmaps = options.heatmaps ?? false;
  const wantMaps = heatmaps || options.rawMaps !== undefined;
  if (wantMaps && sidecar.outputs.attention.length === 0)
    throw new ClassifyError(
      'This model was trained without attention (--no-attention), so it has no attention maps to draw.',
    );
  const classes = sidecar.classes;
  const topK = Math.min(options.topK ?? DEFAULT_TOP_K, classes.length);
  const batchSize = options.batch ?? DEFAULT_BATCH;
  const threads = options.threads ?? defaultClassifyThreads();
  const { size, mean, std, ...policy } = preprocessingOf(sidecar);
  return {
    modelPath,
    resolvedModelPath,
    sidecar,
    out: resolve(outDir),
    sortRoot,
    spec: 'length' in inputs ? { paths: inputs as readonly string[] } : inputs,
    options,
    classes,
    topK,
    threshold: options.threshold ?? 0,
    batchSize,
    threads,
    settings: classifySettingsOf(options, topK, batchSize, threads, sortRoot),
    heatmaps,
    wantMaps,
    level: options.level ?? 'combined',
    size,
    normalisation: { mean, std },
    decode: { size, ...policy },
    overlaySide: (sourceWidth, sourceHeight) =>
      options.overlaySize ??
      Math.max(size, Math.min(DEFAULT_OVERLAY_SIZE, Math.min(sourceWidth, sourceHeight))),
  };
}
