// Reads any ONNX file into a checked, indexed form: the decoded ModelProto, its main graph, metadata and
// initializers by name, with every size claim verified against the data actually present, external data
// locations confined to the model's folder, and every failure reported as an OnnxError (never another
// exception, never a hang). The importers (our own files, torchvision and Model Zoo backbones) start here.
// Pure: no file access except through a caller-supplied ExternalDataSource; no runtime, nothing from main/.

import { describeError, OnnxError } from './errors.js';
import { externalDataRef, type ExternalDataSource } from './external-data.js';
import { decodeModel, DataLocation, type GraphProto, type ModelProto, type TensorProto } from './proto.js';
import { byteLength, checkTensor, isExternal } from './tensor.js';

export interface ReadOnnxOptions {
  /**
   * Where to read tensors stored in external files. Without one, such tensors stay external (their
   * locations are still checked) and reading their values fails with an 'external-data' OnnxError.
   */
  externalData?: ExternalDataSource;
}

export interface OnnxModel {
  proto: ModelProto;
  graph: GraphProto;
  irVersion: number;
  /** Version of the default ("ai.onnx") operator set. */
  opsetVersion: number;
  producerName: string;
  metadata: ReadonlyMap<string, string>;
  /** Graph initializers by name (external ones resolved into raw_data when a source was given). */
  initializers: ReadonlyMap<string, TensorProto>;
}

/** Nested graphs (If/Loop bodies) deeper than this are refused; protobufjs stops at 100 levels anyway. */
const MAX_GRAPH_DEPTH = 32;

function checkGraph(graph: GraphProto, depth: number, what: string): void {
  if (depth > MAX_GRAPH_DEPTH)
    throw new OnnxError(
      'unsupported',
      `The model nests sub-graphs more than ${MAX_GRAPH_DEPTH} levels deep.`,
    );
  const produced = new Set<string>();
  for (const t of graph.initializer ?? []) {
    if (!t.name) throw new OnnxError('invalid', `An initializer of the ${what} has no name.`);
    if (produced.has(t.name))
      throw new OnnxError('invalid', `Two initializers of the ${what} are named "${t.name}".`);
    produced.add(t.name);
    checkTensor(t);
  }
  for (const node of graph.node ?? []) {
    if (!node.opType) throw new OnnxError('invalid', `A node of the ${what} has no operator type.`);
    for (const o of node.output ?? []) {
      if (o === '') continue; // an optional output left out
      if (produced.has(o))
        throw new OnnxError('invalid', `Two nodes of the ${what} produce a tensor named "${o}".`);
      produced.add(o);
    }
    for (const a of node.attribute ?? []) {
      if (a.t) checkTensor(a.t);
      for (const t of a.tensors ?? []) checkTensor(t);
      if (a.g) checkGraph(a.g, depth + 1, `sub-graph of node "${node.name}"`);
      for (const g of a.graphs ?? []) checkGraph(g, depth + 1, `sub-graph of node "${node.name}"`);
    }
  }
}

function loadExternal(t: TensorProto, source: ExternalDataSource | undefined): TensorProto {
  const ref = externalDataRef(t); // refuses unsafe locations even when nothing will be read
  if (!source) return t;
  const expected = byteLength(t);
  if (ref.length !== null && ref.length !== expected)
    throw new OnnxError(
      'external-data',
      `Tensor "${t.name}" declares shape [${t.dims}] (${expected} bytes) but its external data is ${ref.length} bytes.`,
    );
  const bytes = source.read({ ...ref, length: expected });
  if (bytes.length !== expected)
    throw new OnnxError(
      'external-data',
      `Tensor "${t.name}": read ${bytes.length} bytes, expected ${expected}.`,
    );
  return { ...t, rawData: bytes, dataLocation: DataLocation.DEFAULT, externalData: [] };
}

function readChecked(bytes: Uint8Array, options: ReadOnnxOptions): OnnxModel {
  const proto = decodeModel(bytes);
  const graph = proto.graph;
  if (!graph) throw new OnnxError('invalid', 'The file holds no graph: it is not an ONNX model.');
  const irVersion = proto.irVersion ?? 0;
  if (!Number.isSafeInteger(irVersion) || irVersion < 3)
    throw new OnnxError(
      'unsupported',
      `The file declares ONNX IR version ${irVersion}; versions 3 and newer are read (export it again with a newer tool).`,
    );
  const defaultOpset = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opsetVersion = defaultOpset?.version ?? 0;
  if (!Number.isSafeInteger(opsetVersion) || opsetVersion < 1)
    throw new OnnxError('invalid', 'The file does not say which ONNX operator set version it uses.');
  const metadata = new Map<string, string>();
  for (const { key, value } of proto.metadataProps ?? []) {
    if (key === undefined) continue;
    if (metadata.has(key)) throw new OnnxError('invalid', `The metadata key "${key}" appears twice.`);
    metadata.set(key, value ?? '');
  }
  graph.initializer = (graph.initializer ?? []).map((t) =>
    isExternal(t) ? loadExternal(t, options.externalData) : t,
  );
  checkGraph(graph, 0, 'main graph');
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name as string, t]));
  return {
    proto,
    graph,
    irVersion,
    opsetVersion,
    producerName: proto.producerName ?? '',
    metadata,
    initializers,
  };
}

/**
 * Decodes and checks ONNX bytes. Throws only OnnxError: 'malformed' for bytes that are not an ONNX
 * protobuf, 'invalid' for a file that contradicts itself (sizes, duplicate names), 'unsupported' for
 * what this reader does not handle, 'external-data' for unsafe or inconsistent external weight files.
 */
export function readOnnx(bytes: Uint8Array, options: ReadOnnxOptions = {}): OnnxModel {
  try {
    return readChecked(bytes, options);
  } catch (e) {
    if (e instanceof OnnxError) throw e;
    // A reader bug or an input shape we did not foresee: still a plain-words OnnxError for the caller.
    throw new OnnxError('invalid', `The ONNX file could not be read: ${describeError(e)}`, { cause: e });
  }
}
