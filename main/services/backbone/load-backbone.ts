// Loads a pretrained VGG16_bn backbone from an ONNX file the user has (torchvision export, ONNX Model Zoo
// vgg16-bn) into the model spec's `features.*` tensors, and checks a file without loading it into a
// model. The structural matching lives in models/onnx/backbone-import.ts; this module reads files.
// Must not import electron or anything from main/electron, main/server, main/cli or renderer.

import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { convLayers, validateSpec, type ModelSpec } from '../../../models/core/spec.js';
import type { Weights } from '../../../models/core/weights.js';
import {
  checkVggBackbone,
  importVggBackbone,
  type BackboneCheck,
} from '../../../models/onnx/backbone-import.js';
import { describeError } from '../../../models/onnx/errors.js';
import { folderExternalData } from '../../../models/onnx/external-files.js';

export class BackboneError extends Error {
  override name = 'BackboneError';
}

/** ONNX files above 2 GiB keep their tensors in external files; a single buffer this large is refused. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

async function readModelFile(file: string): Promise<Uint8Array> {
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new BackboneError(`"${file}" is not a file.`);
    size = s.size;
  } catch (e) {
    if (e instanceof BackboneError) throw e;
    throw new BackboneError(`Cannot read the backbone file "${file}": ${describeError(e)}`);
  }
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
  return convLayers(spec).flatMap((c) => [
    `features.${c.featuresIndex}.weight`,
    `features.${c.featuresIndex}.bias`,
    `features.${c.featuresIndex + 1}.weight`,
    `features.${c.featuresIndex + 1}.bias`,
    `features.${c.featuresIndex + 1}.running_mean`,
    `features.${c.featuresIndex + 1}.running_var`,
  ]);
}

/**
 * Reads the 13 conv + BatchNorm layers of a VGG16_bn ONNX file as the spec's `features.*` tensors
 * (PyTorch layout). ImageNet weights are width 1.0; a spec of another width is refused with both widths
 * named. Throws BackboneError with what differs (layer, expected versus found shape).
 */
export async function loadBackboneWeights(file: string, spec: ModelSpec): Promise<Weights> {
  validateSpec(spec);
  const bytes = await readModelFile(file);
  try {
    const imported = importVggBackbone(bytes, {
      width: spec.width,
      externalData: folderExternalData(dirname(file)),
    });
    const names = backboneTensorNames(spec);
    const missing = names.filter((n) => !imported.weights.has(n));
    if (missing.length > 0) throw new Error(`tensors missing after import: ${missing.join(', ')}`);
    return imported.weights;
  } catch (e) {
    throw new BackboneError(`"${file}" cannot be used as the VGG16_bn backbone: ${describeError(e)}`);
  }
}

export interface BackboneReport extends BackboneCheck {
  file: string;
  bytes: number;
}

/**
 * Says whether a file can be imported as a VGG16_bn backbone and why not (or what to know when it can).
 * `width`, if given, is the model spec's width the file must have. Throws only when the file cannot be
 * read at all (BackboneError).
 */
export async function checkBackbone(file: string, options: { width?: number } = {}): Promise<BackboneReport> {
  const bytes = await readModelFile(file);
  const check = checkVggBackbone(bytes, {
    ...(options.width !== undefined ? { width: options.width } : {}),
    externalData: folderExternalData(dirname(file)),
  });
  return { file, bytes: bytes.length, ...check };
}
