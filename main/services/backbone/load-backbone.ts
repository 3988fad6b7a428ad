// Loads a pretrained VGG16_bn backbone from a file the user has into the model spec's `features.*`
// tensors, and checks a file without loading it into a model. The forms, told apart by their first bytes
// (models/weight-files/detect-form.ts): ONNX (torchvision export, ONNX Model Zoo vgg16-bn), a .tar.gz
// holding one (the Model Zoo's download), a PyTorch state_dict in torch's zip or legacy format
// (torchvision's vgg16_bn-6c64b313.pth) and safetensors (timm's copy). The matching lives in
// models/onnx/backbone-import.ts and models/weight-files/; this module reads files.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { validateSpec, type ModelSpec } from '../../../models/core/spec.js';
import type { Weights } from '../../../models/core/weights.js';
import {
  backboneNotes,
  importVggBackbone,
  type BackboneCheck,
  type ImportedBackbone,
} from '../../../models/onnx/backbone-import.js';
import { describeError, OnnxError } from '../../../models/onnx/errors.js';
import { folderExternalData } from '../../../models/onnx/external-files.js';
import {
  detectWeightFileForm,
  FORM_HEAD_BYTES,
  FORM_NAMES,
  type WeightFileForm,
} from '../../../models/weight-files/detect-form.js';
import { WeightFileError } from '../../../models/weight-files/errors.js';
import { readOnnxFromTarGz } from '../../../models/weight-files/onnx-archive.js';
import { readSafetensorsFile } from '../../../models/weight-files/safetensors-file.js';
import { readTorchCheckpoint } from '../../../models/weight-files/torch-checkpoint.js';
import { importVggStateDict, vggFeatureTensors } from '../../../models/weight-files/vgg-state-dict.js';
import { withFileSource } from './file-source.js';

export class BackboneError extends Error {
  override name = 'BackboneError';
}

/** ONNX files above 2 GiB keep their tensors in external files; a single buffer this large is refused. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/** The size of a regular file; BackboneError when it cannot be read. */
async function readableSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new BackboneError(`"${file}" is not a file.`);
    return s.size;
  } catch (e) {
    if (e instanceof BackboneError) throw e;
    throw new BackboneError(`Cannot read the backbone file "${file}": ${describeError(e)}`);
  }
}

async function readModelFile(file: string): Promise<Uint8Array> {
  const size = await readableSize(file);
  if (size > MAX_FILE_BYTES)
    throw new BackboneError(
      `"${file}" is ${size} bytes; ONNX files over 2 GiB keep their weights in separate files (external data), export it that way.`,
    );
  try {
    return await readFile(file);
  } catch (e) {
    throw new BackboneError(`Cannot read the backbone file "${file}": ${describeError(e)}`);
  }
}

/** The `features.*` names the spec's backbone has, in layer order. */
export function backboneTensorNames(spec: Pick<ModelSpec, 'width'>): string[] {
  return vggFeatureTensors(spec.width).map((t) => t.name);
}

/** What a backbone file holds, besides its weights. */
export type BackboneFound = Omit<ImportedBackbone, 'weights'> & { form: WeightFileForm };

interface ImportedFile {
  weights: Weights;
  found: BackboneFound;
  notes: string[];
}

/** The form of `file` from its first bytes. */
export async function backboneFileForm(file: string): Promise<WeightFileForm> {
  return withFileSource(file, async (source) =>
    detectWeightFileForm(await source.read(0, Math.min(FORM_HEAD_BYTES, source.size)), source.size),
  );
}

function fromOnnx(
  bytes: Uint8Array,
  form: WeightFileForm,
  width: number | undefined,
  folder?: string,
): ImportedFile {
  const { weights, ...rest } = importVggBackbone(bytes, {
    ...(width !== undefined ? { width } : {}),
    ...(folder !== undefined ? { externalData: folderExternalData(folder) } : {}),
  });
  return { weights, found: { ...rest, form }, notes: backboneNotes(rest) };
}

/**
 * Imports `file` in whichever form it is. Throws OnnxError / WeightFileError for a file that is not a
 * usable VGG16_bn backbone (at `width`, if given), BackboneError when it cannot be read at all.
 */
async function importBackboneFile(file: string, width?: number): Promise<ImportedFile> {
  await readableSize(file);
  const form = await backboneFileForm(file);
  if (form === 'onnx') return fromOnnx(await readModelFile(file), form, width, dirname(file));
  if (form === 'onnx-tar-gz') {
    const archived = await readOnnxFromTarGz(createReadStream(file));
    const imported = fromOnnx(archived.bytes, form, width);
    imported.found.producer += ` (${archived.name} in the archive)`;
    return imported;
  }
  return withFileSource(file, async (source) => {
    const tensors =
      form === 'safetensors' ? await readSafetensorsFile(source) : await readTorchCheckpoint(source);
    const got = await importVggStateDict(tensors, width === undefined ? {} : { width });
    const found: BackboneFound = {
      form,
      width: got.width,
      batchNorm: 'kept',
      trainingModeBatchNorm: 0,
      producer: FORM_NAMES[form],
      irVersion: 0,
      opset: 0,
      classifier: got.classifier,
    };
    const notes = [
      `${FORM_NAMES[form]}: ${got.weights.size} features tensors imported, ${got.skipped.length} other entries skipped (${got.classifier}).`,
      ...backboneNotes(found),
    ];
    return { weights: got.weights, found, notes };
  });
}

/**
 * Reads the 13 conv + BatchNorm layers of a VGG16_bn ONNX file as the spec's `features.*` tensors
 * (PyTorch layout). ImageNet weights are width 1.0; a spec of another width is refused with both widths
 * named. Throws BackboneError with what differs (layer, expected versus found shape).
 */
export async function loadBackboneWeights(file: string, spec: ModelSpec): Promise<Weights> {
  validateSpec(spec);
  try {
    const imported = await importBackboneFile(file, spec.width);
    const names = backboneTensorNames(spec);
    const missing = names.filter((n) => !imported.weights.has(n));
    if (missing.length > 0) throw new Error(`tensors missing after import: ${missing.join(', ')}`);
    return imported.weights;
  } catch (e) {
    if (e instanceof BackboneError) throw e;
    throw new BackboneError(`"${file}" cannot be used as the VGG16_bn backbone: ${describeError(e)}`);
  }
}

export interface BackboneReport extends Omit<BackboneCheck, 'backbone'> {
  file: string;
  bytes: number;
  backbone?: BackboneFound;
}

/**
 * Says whether a file can be imported as a VGG16_bn backbone and why not (or what to know when it can).
 * `width`, if given, is the model spec's width the file must have. Throws only when the file cannot be
 * read at all (BackboneError).
 */
export async function checkBackbone(file: string, options: { width?: number } = {}): Promise<BackboneReport> {
  const bytes = await readableSize(file);
  try {
    const { found, notes } = await importBackboneFile(file, options.width);
    return { file, bytes, usable: true, backbone: found, notes };
  } catch (e) {
    if (e instanceof OnnxError || e instanceof WeightFileError)
      return { file, bytes, usable: false, problem: e.message, problemKind: e.kind, notes: [] };
    throw e;
  }
}
