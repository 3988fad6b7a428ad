// The JSON sidecar written beside every exported model (`<model>.onnx` -> `<model>.json`): what a program
// needs to use the model without reading the ONNX graph (classes, input size and layout, the exact
// pre-processing of training, the outputs) and where the model came from (run, dataset fingerprint,
// dates, app version, evaluation accuracy). The same facts are also written into the ONNX file's
// metadata_props (keys below), and readSidecar refuses a sidecar that disagrees with them, so a sidecar
// left over from another export is caught; an export interrupted after its commit point is finished by
// readSidecar (model-pair.ts). Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import { COMPATIBILITIES, validateSpec, type ModelSpec } from '../../../models/core/spec.js';
import { META, MODEL_META, specToJson } from '../../../models/onnx/metadata.js';
import { RESIZE_POLICIES, type ResizeKernel, type ResizePolicy } from '../images/decode-image.js';
import type { Rgb } from '../images/normalise.js';
import { completePendingModel, pendingModelPath } from './model-pair.js';
import { OnnxHeaderError, readOnnxHeader, type OnnxHeader } from './onnx-metadata.js';

/** The model's metadata keys, for the export service's other modules (one table: models/onnx/metadata.ts). */
export { MODEL_META };

export const SIDECAR_FORMAT = 'attnvgg-model/1';

/** How a picture becomes network input: decode-image.ts then normalise.ts with these settings. */
export interface Preprocessing {
  /** Pictures are decoded to size x size (the model's input size S). */
  size: number;
  resize: ResizePolicy;
  kernel: ResizeKernel;
  /** Transparent pixels are flattened onto this colour, 0..255. */
  alphaBackground: Rgb;
  /** Colour of the bars of the 'pad' policy, 0..255. */
  padColour: Rgb;
  /** x = (pixel / 255 - mean[c]) / std[c], channels R, G, B. */
  mean: Rgb;
  std: Rgb;
}

const rgb = (min: number, max: number) =>
  z.tuple([z.number().min(min).max(max), z.number().min(min).max(max), z.number().min(min).max(max)]);

const PreprocessingSchema = z.object({
  size: z.number().int().min(1),
  resize: z.enum(RESIZE_POLICIES as [ResizePolicy, ...ResizePolicy[]]),
  kernel: z.enum(['nearest', 'linear', 'cubic', 'lanczos3']),
  alphaBackground: rgb(0, 255),
  padColour: rgb(0, 255),
  mean: rgb(-1e6, 1e6),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
});

const SpecSchema = z.object({
  inputSize: z.number().int(),
  width: z.number(),
  numClasses: z.number().int(),
  attention: z.boolean(),
  compatibility: z.enum(COMPATIBILITIES),
  normalisation: z.enum(['softmax', 'sigmoid']),
});

const SidecarSchema = z.object({
  format: z.literal(SIDECAR_FORMAT),
  modelId: z.string().min(1),
  modelFile: z.string().min(1),
  classes: z.array(z.string().min(1)).min(1),
  input: z.object({
    name: z.string().min(1),
    dtype: z.literal('float32'),
    layout: z.literal('NCHW'),
    channels: z.literal('RGB'),
    shape: z.tuple([z.literal('batch'), z.literal(3), z.number().int(), z.number().int()]),
  }),
  preprocessing: PreprocessingSchema.extend({ formula: z.string() }),
  outputs: z.object({
    logits: z.string().min(1),
    probabilities: z.string().min(1),
    attention: z.array(
      z.object({
        level: z.number().int().min(1).max(3),
        name: z.string().min(1),
        height: z.number().int().min(1),
        width: z.number().int().min(1),
      }),
    ),
  }),
  spec: SpecSchema,
  provenance: z.object({
    runId: z.string(),
    runStatus: z.string(),
    weights: z.enum(['best', 'last']),
    datasetFingerprint: z.string(),
    trainedWithAppVersion: z.string(),
    exportedAt: z.string(),
    appVersion: z.string(),
    evaluation: z
      .object({ split: z.string(), accuracy: z.number().min(0).max(1), images: z.number().int().min(0) })
      .nullable(),
  }),
  onnx: z.object({ opset: z.number().int(), irVersion: z.number().int(), bytes: z.number().int() }),
});

/** The sidecar's content (see SidecarSchema; written by exportRun, read by readSidecar). */
export type ModelSidecar = z.infer<typeof SidecarSchema>;

export type SidecarProblem = 'missing' | 'damaged' | 'mismatch' | 'model-missing' | 'model-damaged';

export class SidecarError extends Error {
  override name = 'SidecarError';
  constructor(
    readonly problem: SidecarProblem,
    message: string,
  ) {
    super(message);
  }
}

/** `<dir>/<name>.onnx` -> `<dir>/<name>.json` (any other extension is replaced the same way). */
export function sidecarPathFor(modelPath: string): string {
  const ext = extname(modelPath);
  const stem = ext ? basename(modelPath, ext) : basename(modelPath);
  return join(dirname(modelPath), `${stem}.json`);
}

/** The pre-processing of a sidecar as plain DecodeOptions + NormaliseOptions fields. */
export function preprocessingOf(sidecar: ModelSidecar): Preprocessing {
  const p = sidecar.preprocessing;
  return {
    size: p.size,
    resize: p.resize,
    kernel: p.kernel,
    alphaBackground: p.alphaBackground,
    padColour: p.padColour,
    mean: p.mean,
    std: p.std,
  };
}

/** The ONNX metadata entries that mirror the sidecar (what exportRun passes to the exporter). */
export function sidecarMetadata(sidecar: ModelSidecar): Record<string, string> {
  return {
    [MODEL_META.modelId]: sidecar.modelId,
    [MODEL_META.classes]: JSON.stringify(sidecar.classes),
    [MODEL_META.preprocessing]: JSON.stringify(preprocessingOf(sidecar)),
    [MODEL_META.runId]: sidecar.provenance.runId,
    [MODEL_META.datasetFingerprint]: sidecar.provenance.datasetFingerprint,
    [MODEL_META.exportedAt]: sidecar.provenance.exportedAt,
    [MODEL_META.appVersion]: sidecar.provenance.appVersion,
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : 'the file'}: ${i.message}`)
    .join('; ');
}

/** Checks the sidecar against itself: spec, classes, input size and outputs must agree. */
function checkConsistent(s: ModelSidecar, path: string): void {
  const problems: string[] = [];
  try {
    validateSpec(s.spec as ModelSpec);
  } catch (e) {
    problems.push(`its model spec is invalid (${(e as Error).message})`);
  }
  if (s.classes.length !== s.spec.numClasses)
    problems.push(`it lists ${s.classes.length} classes but the model has ${s.spec.numClasses} outputs`);
  if (new Set(s.classes).size !== s.classes.length) problems.push('two classes have the same name');
  const size = s.spec.inputSize;
  if (s.preprocessing.size !== size || s.input.shape[2] !== size || s.input.shape[3] !== size)
    problems.push(`its input size disagrees with the model's ${size} px`);
  if (s.spec.attention !== s.outputs.attention.length > 0)
    problems.push('its attention outputs do not match the model spec');
  if (problems.length > 0)
    throw new SidecarError(
      'damaged',
      `The model description ${path} contradicts itself: ${problems.join('; ')}.`,
    );
}

function sameJson(a: unknown, b: string | undefined): boolean {
  if (b === undefined) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

export interface SidecarReading {
  sidecar: ModelSidecar;
  sidecarPath: string;
  modelPath: string;
}

/** Reads the sidecar's text; SidecarError 'missing' when it cannot be read. */
async function readSidecarText(sidecarPath: string): Promise<string> {
  try {
    return await readFile(sidecarPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SidecarError(
      'missing',
      code === 'ENOENT'
        ? `The model's description ${sidecarPath} is missing. It is written beside the .onnx file by ` +
            '`attnvgg export`; copy it along with the model, or export the run again.'
        : `The model's description ${sidecarPath} cannot be read (${code ?? String(e)}).`,
    );
  }
}

/** Parses and validates the sidecar's text (schema, then consistency with itself). */
function parseSidecar(text: string, sidecarPath: string): ModelSidecar {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SidecarError(
      'damaged',
      `The model's description ${sidecarPath} is damaged (not valid JSON). Export the run again.`,
    );
  }
  const parsed = SidecarSchema.safeParse(json);
  if (!parsed.success)
    throw new SidecarError(
      'damaged',
      `The model's description ${sidecarPath} is damaged or not an attnvgg model description (${describeIssues(parsed.error)}). Export the run again.`,
    );
  checkConsistent(parsed.data, sidecarPath);
  return parsed.data;
}

/** The model file's header; SidecarError 'model-missing' or 'model-damaged' when it cannot be read. */
async function readModelHeader(modelPath: string): Promise<OnnxHeader> {
  try {
    return await readOnnxHeader(modelPath);
  } catch (e) {
    if (e instanceof OnnxHeaderError)
      throw new SidecarError('model-damaged', `This file is not an ONNX model: ${modelPath} (${e.message}).`);
    const code = (e as NodeJS.ErrnoException).code;
    throw new SidecarError(
      'model-missing',
      code === 'ENOENT'
        ? `The model file ${modelPath} does not exist.`
        : `The model file ${modelPath} cannot be read (${code ?? String(e)}).`,
    );
  }
}

/** Checks the model's metadata against the sidecar; throws SidecarError 'mismatch' in plain words. */
function checkPair(sidecar: ModelSidecar, header: OnnxHeader, sidecarPath: string, modelPath: string): void {
  const meta = header.metadata;
  const mismatch = (what: string): never => {
    throw new SidecarError(
      'mismatch',
      `The description ${sidecarPath} does not belong to the model ${modelPath}: ${what}. ` +
        'Each export writes the two files together; export the run again, or copy the matching .json.',
    );
  };
  if (!meta.has(MODEL_META.modelId))
    mismatch('the model carries no attnvgg export metadata (it was not written by `attnvgg export`)');
  if (meta.get(MODEL_META.modelId) !== sidecar.modelId)
    mismatch(
      `they come from different exports (model ${meta.get(MODEL_META.modelId)}, description ${sidecar.modelId})`,
    );
  if (!sameJson(sidecar.classes, meta.get(MODEL_META.classes)))
    mismatch(
      `the classes differ (description: ${sidecar.classes.join(', ')}; model: ${meta.get(MODEL_META.classes)})`,
    );
  if (meta.get(META.spec) !== specToJson(sidecar.spec as ModelSpec))
    mismatch(
      `the model spec differs (description: ${specToJson(sidecar.spec as ModelSpec)}; model: ${meta.get(META.spec)})`,
    );
  if (!sameJson(preprocessingOf(sidecar), meta.get(MODEL_META.preprocessing)))
    mismatch('the pre-processing (size, resize policy, mean or std) differs');
}

/**
 * An export was committed (its sidecar is in place) but stopped before its model was moved in: when the
 * pending model of the sidecar's export exists and matches it, move it into place (model-pair.ts).
 * Returns true when the model was moved (the caller reads the pair again).
 */
async function finishInterruptedExport(
  sidecar: ModelSidecar,
  sidecarPath: string,
  modelPath: string,
): Promise<boolean> {
  const pending = pendingModelPath(modelPath, sidecar.modelId);
  let header: OnnxHeader;
  try {
    header = await readOnnxHeader(pending);
  } catch {
    return false; // no pending model (or a damaged one): nothing to finish
  }
  try {
    checkPair(sidecar, header, sidecarPath, pending);
  } catch {
    return false; // not this export's model: never moved in
  }
  try {
    await completePendingModel(modelPath, sidecar.modelId);
  } catch (e) {
    throw new SidecarError(
      'mismatch',
      `An export to ${modelPath} was interrupted before its model file was moved into place, and it ` +
        `cannot be finished now (${(e as NodeJS.ErrnoException).code ?? String(e)}). Export the run again.`,
    );
  }
  return true; // moved by us, or by another process just before: read the pair again either way
}

/** Attempts at reading a consistent pair while another process may be replacing it. */
const PAIR_ATTEMPTS = 4;

/**
 * Reads and validates the sidecar of the model at `modelPath`, and checks that the model file's metadata
 * says the same (same export, classes, spec and pre-processing). An export stopped between committing its
 * sidecar and moving its model into place is finished here; a pair that changed while it was read (an
 * export running meanwhile) is read again. Throws SidecarError in plain words.
 */
export async function readSidecar(modelPath: string): Promise<SidecarReading> {
  const sidecarPath = sidecarPathFor(modelPath);
  for (let attempt = 1; ; attempt++) {
    const text = await readSidecarText(sidecarPath);
    const sidecar = parseSidecar(text, sidecarPath);
    try {
      checkPair(sidecar, await readModelHeader(modelPath), sidecarPath, modelPath);
      return { sidecar, sidecarPath, modelPath };
    } catch (error) {
      const pairProblem =
        error instanceof SidecarError && (error.problem === 'mismatch' || error.problem === 'model-missing');
      if (!pairProblem || attempt >= PAIR_ATTEMPTS) throw error;
      if (await finishInterruptedExport(sidecar, sidecarPath, modelPath)) continue;
      // The sidecar changed while the model was read: an export committed meanwhile; read again.
      if ((await readFile(sidecarPath, 'utf8').catch(() => text)) !== text) continue;
      throw error;
    }
  }
}
