// Checks a user's model file with our own ONNX reader before onnxruntime sees it, so a hostile or broken
// file is refused in plain words ("This file is not an ONNX model: …", "The model refers to data outside
// its folder: …") under our own rules, whatever the runtime version does. The file is read once: the
// checked bytes are what the runtime loads (no second read, and no window in which the file could be
// swapped), except for models whose weights live in external files, which the runtime must open from the
// folder itself. Checked: a regular file under 2 GiB, a readable ONNX protobuf (models/onnx/read.ts),
// external data confined to the model's folder (links resolved), the export id of the sidecar, the input
// and the outputs the sidecar names. Must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { realpathSync } from 'node:fs';
import { OnnxError } from '../../../models/onnx/errors.js';
import { safeRelativeLocation } from '../../../models/onnx/external-data.js';
import { folderExternalData } from '../../../models/onnx/external-files.js';
import {
  decodeModel,
  DataLocation,
  type GraphProto,
  type TensorProto,
  type ValueInfoProto,
} from '../../../models/onnx/proto.js';
import { readOnnx, type OnnxModel } from '../../../models/onnx/read.js';
import { isExternal } from '../../../models/onnx/tensor.js';
import { MODEL_META } from '../../../models/onnx/metadata.js';
import type { ModelSidecar } from '../export/sidecar.js';

export type ModelFileProblem =
  /** Not a file, or not readable. */
  | 'unreadable'
  /** The bytes are not an ONNX model this app can read. */
  | 'not-onnx'
  /** External weights outside the model's folder (a path or a link leading out). */
  | 'outside-folder'
  /** External weights inside the folder but missing, not a regular file or the wrong size. */
  | 'external-data'
  /** A readable ONNX model that is not the one its sidecar describes. */
  | 'not-described';

export class ModelFileError extends Error {
  override name = 'ModelFileError';
  constructor(
    readonly problem: ModelFileProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the sidecar promises about the model file (travels to the inference worker as plain data). */
export interface ModelExpectations {
  modelId: string;
  inputName: string;
  inputSize: number;
  /** Outputs the classification reads: probabilities and the attention maps. */
  outputs: string[];
}

export function expectationsOf(sidecar: ModelSidecar): ModelExpectations {
  return {
    modelId: sidecar.modelId,
    inputName: sidecar.input.name,
    inputSize: sidecar.preprocessing.size,
    outputs: [sidecar.outputs.probabilities, ...sidecar.outputs.attention.map((a) => a.name)],
  };
}

export interface CheckedModel {
  /** What to give onnxruntime: the checked bytes, or the path when weights live in external files. */
  source: Uint8Array | string;
  /** Size of the .onnx file in bytes. */
  bytes: number;
  /** Time spent reading and checking, in ms. */
  checkMs: number;
}

/** Protobuf messages cannot exceed 2 GiB; larger models keep their weights in external files. */
const MAX_MODEL_BYTES = 2 ** 31;

async function readModelFile(modelPath: string): Promise<Uint8Array> {
  let handle;
  try {
    // Non-blocking: a named pipe put in place of the model must not wait for a writer.
    handle = await open(modelPath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new ModelFileError(
      'unreadable',
      `The model file ${modelPath} cannot be opened (${(e as NodeJS.ErrnoException).code ?? String(e)}).`,
    );
  }
  try {
    const info: Stats = await handle.stat();
    if (!info.isFile())
      throw new ModelFileError(
        'not-onnx',
        `This file is not an ONNX model: ${modelPath} is not a regular file.`,
      );
    if (info.size > MAX_MODEL_BYTES)
      throw new ModelFileError(
        'not-onnx',
        `This file is not an ONNX model: ${modelPath} is larger than 2 GiB, the most one ONNX file can hold.`,
      );
    const bytes = new Uint8Array(info.size);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await handle.read(bytes, done, bytes.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done !== bytes.length)
      throw new ModelFileError('unreadable', `The model file ${modelPath} changed while it was read.`);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** True when external-data `location` leads out of `folder`: absolute, climbing out, or through a link. */
function leadsOutside(location: string, folder: string): boolean {
  let safe: string;
  try {
    safe = safeRelativeLocation(location);
  } catch {
    return true; // absolute, a drive, or climbing out with ".."
  }
  try {
    const root = realpathSync(folder);
    const rel = relative(root, realpathSync(join(root, safe)));
    return rel === '' || rel.startsWith('..') || isAbsolute(rel);
  } catch {
    return false; // missing: not outside; the reader reports it as missing
  }
}

function locationOf(t: TensorProto): string | undefined {
  return (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? undefined;
}

/** The first external-data location of the main graph's initializers that leads out of `folder`. */
function initializerOutside(bytes: Uint8Array, folder: string): string | null {
  let tensors: TensorProto[];
  try {
    tensors = decodeModel(bytes).graph?.initializer ?? [];
  } catch {
    return null;
  }
  for (const t of tensors) {
    const location = t.dataLocation === DataLocation.EXTERNAL ? locationOf(t) : undefined;
    if (location !== undefined && leadsOutside(location, folder)) return location;
  }
  return null;
}

/**
 * Tensors still stored externally after readOnnx (which loads only the main graph's initializers): node
 * attributes and sub-graphs. readOnnx has bounded the nesting already.
 */
function externalTensorsLeft(graph: GraphProto | null | undefined, found: TensorProto[] = []): TensorProto[] {
  for (const t of graph?.initializer ?? []) if (isExternal(t)) found.push(t);
  for (const node of graph?.node ?? [])
    for (const a of node.attribute ?? []) {
      for (const t of [...(a.t ? [a.t] : []), ...(a.tensors ?? [])]) if (isExternal(t)) found.push(t);
      for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) externalTensorsLeft(g, found);
    }
  return found;
}

function dims(info: ValueInfoProto): (number | string)[] | null {
  const shape = info.type?.tensorType?.shape;
  if (!shape) return null;
  return (shape.dim ?? []).map((d) =>
    d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : (d.dimParam ?? '?'),
  );
}

/** The graph has the sidecar's input (float, [N, 3, S, S]) and outputs, and carries its export id. */
function checkDescribed(model: OnnxModel, expect: ModelExpectations, modelPath: string): void {
  const refuse = (what: string): never => {
    throw new ModelFileError(
      'not-described',
      `The model ${modelPath} is not the one its description (.json) describes: ${what}. Export the run again.`,
    );
  };
  const id = model.metadata.get(MODEL_META.modelId);
  if (id !== expect.modelId)
    refuse(`it comes from another export (${id ?? 'none'}, the description says ${expect.modelId})`);
  const initializers = new Set(model.initializers.keys());
  const inputs = (model.graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  const input = inputs.find((i) => i.name === expect.inputName);
  if (!input)
    refuse(
      `it has no input "${expect.inputName}" (it has: ${inputs.map((i) => i.name).join(', ') || 'none'})`,
    );
  if (inputs.length !== 1) refuse(`it has ${inputs.length} inputs, not 1`);
  const FLOAT = 1; // TensorProto.DataType.FLOAT
  if (input?.type?.tensorType?.elemType !== FLOAT) refuse(`its input "${expect.inputName}" is not float32`);
  const shape = input ? dims(input) : null;
  const S = expect.inputSize;
  if (!shape || shape.length !== 4 || shape[1] !== 3 || shape[2] !== S || shape[3] !== S)
    refuse(`its input has shape [${shape?.join(', ') ?? '?'}], not [batch, 3, ${S}, ${S}]`);
  const outputs = new Set((model.graph.output ?? []).map((o) => o.name ?? ''));
  const missing = expect.outputs.filter((o) => !outputs.has(o));
  if (missing.length > 0)
    refuse(
      `it has no output ${missing.map((o) => `"${o}"`).join(', ')} (it has: ${[...outputs].join(', ') || 'none'})`,
    );
}

/**
 * Reads the model at `modelPath` once and checks it (see the header). Throws ModelFileError with a plain
 * message; returns what onnxruntime should load.
 */
export async function loadCheckedModel(modelPath: string, expect: ModelExpectations): Promise<CheckedModel> {
  const started = performance.now();
  const bytes = await readModelFile(modelPath);
  const folder = dirname(modelPath);
  let model: OnnxModel;
  let readExternal = false;
  const inFolder = folderExternalData(folder);
  try {
    model = readOnnx(bytes, {
      externalData: {
        read(ref) {
          readExternal = true;
          return inFolder.read(ref);
        },
      },
    });
  } catch (e) {
    if (!(e instanceof OnnxError)) throw e;
    if (e.kind === 'external-data') {
      const outside = initializerOutside(bytes, folder);
      if (outside !== null) throw outsideFolder(outside, modelPath, e);
      throw new ModelFileError('external-data', `The model's external data cannot be used: ${e.message}`, {
        cause: e,
      });
    }
    const what =
      e.kind === 'malformed'
        ? 'This file is not an ONNX model'
        : e.kind === 'unsupported'
          ? 'This ONNX model uses something this app cannot read'
          : 'This file is not a valid ONNX model';
    throw new ModelFileError('not-onnx', `${what}: ${modelPath} (${e.message})`, { cause: e });
  }
  const nested = externalTensorsLeft(model.graph);
  for (const t of nested) {
    const location = locationOf(t) ?? '';
    if (leadsOutside(location, folder)) throw outsideFolder(location, modelPath);
  }
  checkDescribed(model, expect, modelPath);
  return {
    // External weights are opened by the runtime from the model's folder (it checks their paths too).
    source: readExternal || nested.length > 0 ? modelPath : bytes,
    bytes: bytes.length,
    checkMs: performance.now() - started,
  };
}

function outsideFolder(location: string, modelPath: string, cause?: unknown): ModelFileError {
  return new ModelFileError(
    'outside-folder',
    `The model refers to data outside its folder: "${location}" (model ${modelPath}). Only weights files inside the model's own folder are read; nothing was read.`,
    { cause },
  );
}
