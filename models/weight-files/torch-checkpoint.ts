// Lists the tensors of a PyTorch checkpoint written by torch.save, in both of torch's formats, without
// executing anything (pickle.ts) and without reading any tensor data until it is asked for:
// - the zip format (torch >= 1.6): `<root>/data.pkl` whose persistent ids ('storage', torch.XStorage,
//   key, location, numel) name the members `<root>/data/<key>`, which hold the raw little-endian values;
// - the legacy format (torchvision's 2017 files): five pickles in a row (magic number, protocol version,
//   system info, the object with persistent ids ('storage', type, key, location, numel, view), the
//   storage keys) followed by each storage in key order as an int64 element count and its raw values.
// Every storage's claimed size is checked against the bytes that hold it before anything is allocated.

import { bufferSource, type ByteSource } from './byte-source.js';
import { WeightFileError } from './errors.js';
import { DTYPE_BYTES, toFloat32, type LazyTensor, type TensorDtype, type TensorFile } from './lazy-tensor.js';
import { loadPickle, PickleDict, PickleGlobal, type RebuildTensorCall } from './pickle.js';
import { memberDataOffset, openZip, readMember, type ZipArchive } from './zip-archive.js';

const STORAGE_DTYPES: Readonly<Record<string, TensorDtype>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** torch's legacy magic number and protocol version (torch/serialization.py). */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** The pickles of a checkpoint describe tensors; their data lies elsewhere. Larger ones are refused. */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: TensorDtype,
    readonly numel: number,
  ) {}
}

class TensorRef implements LazyTensor {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    private readonly readElements: (
      storage: StorageRef,
      offset: number,
      count: number,
    ) => Promise<Uint8Array>,
  ) {}
  get dtype(): TensorDtype {
    return this.storage.dtype;
  }
  async read(): Promise<Float32Array> {
    const count = this.shape.reduce((a, b) => a * b, 1);
    const bytes = await this.readElements(this.storage, this.offset, count);
    return toFloat32(bytes, this.dtype, count);
  }
}

function malformed(message: string): WeightFileError {
  return new WeightFileError('malformed', `The PyTorch checkpoint is malformed: ${message}`);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A persistent id's storage: ('storage', torch.XStorage, key, location, numel[, view]). */
function parseStoragePid(pid: unknown, legacy: boolean): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage')
    throw malformed(`a persistent id that is not a storage (${JSON.stringify(typeof pid)})`);
  const [, type, key, location, numel, view] = pid as unknown[];
  if (!(type instanceof PickleGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES))
    throw malformed('a storage of an unknown type');
  if (typeof key !== 'string' || !/^[0-9A-Za-z_]{1,64}$/.test(key)) throw malformed('an odd storage key');
  if (typeof location !== 'string') throw malformed(`storage ${key} has no location`);
  if (!isCount(numel)) throw malformed(`storage ${key} claims ${String(numel)} elements`);
  if (legacy && view !== null && view !== undefined)
    throw new WeightFileError(
      'unsupported',
      `Storage ${key} is a view into another storage (torch before 0.4); load it in PyTorch and save its state_dict again.`,
    );
  return new StorageRef(key, STORAGE_DTYPES[type.name], numel);
}

function intTuple(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every(isCount)) throw malformed(`a tensor's ${what} is not a tuple of counts`);
  return v as number[];
}

/** A tensor-rebuild call: contiguous tensors within their storage only (what state_dicts hold). */
function makeRebuild(
  readElements: (storage: StorageRef, offset: number, count: number) => Promise<Uint8Array>,
): (call: RebuildTensorCall) => TensorRef {
  return (call) => {
    if (!(call.storage instanceof StorageRef)) throw malformed('a tensor without a storage');
    if (!isCount(call.storageOffset)) throw malformed('a tensor with an odd storage offset');
    const shape = intTuple(call.size, 'size');
    const stride = intTuple(call.stride, 'stride');
    if (stride.length !== shape.length) throw malformed('a tensor whose size and stride differ in length');
    let expected = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (shape[i] !== 1 && stride[i] !== expected)
        throw new WeightFileError(
          'unsupported',
          'The checkpoint holds a non-contiguous tensor; save tensor.contiguous() (a state_dict is contiguous).',
        );
      expected *= shape[i];
    }
    if (!Number.isSafeInteger(expected) || call.storageOffset + expected > call.storage.numel)
      throw malformed(
        `a tensor of shape [${shape}] at element ${call.storageOffset} does not fit its storage of ${call.storage.numel} elements`,
      );
    return new TensorRef(call.storage, call.storageOffset, shape, readElements);
  };
}

/** The state_dict in a loaded object: the dict itself, or the one under 'state_dict' / 'model'. */
function stateDictOf(value: unknown, format: string): TensorFile {
  let dict = value;
  for (const wrapper of ['state_dict', 'model']) {
    const inner = dict instanceof PickleDict ? dict.map.get(wrapper) : undefined;
    if (inner instanceof PickleDict) dict = inner;
  }
  if (!(dict instanceof PickleDict))
    throw new WeightFileError(
      'mismatch',
      'The checkpoint does not hold a state_dict (a dict of tensors); save model.state_dict().',
    );
  const tensors = new Map<string, LazyTensor>();
  const other: string[] = [];
  for (const [key, v] of dict.map) {
    if (typeof key !== 'string') throw malformed('a state_dict key that is not a string');
    if (v instanceof TensorRef) tensors.set(key, v);
    else other.push(key);
  }
  return { format, tensors, other };
}

function checkedTotal(storage: StorageRef): number {
  const bytes = storage.numel * DTYPE_BYTES[storage.dtype];
  if (!Number.isSafeInteger(bytes)) throw malformed(`storage ${storage.key} is impossibly large`);
  return bytes;
}

async function readZipCheckpoint(zip: ZipArchive): Promise<TensorFile> {
  const pickles = [...zip.members.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1)
    throw new WeightFileError(
      'mismatch',
      pickles.length === 0
        ? 'The zip archive is not a PyTorch checkpoint: it has no <name>/data.pkl.'
        : `The zip archive holds ${pickles.length} checkpoints (${pickles.join(', ')}); one was expected.`,
    );
  const root = pickles[0].slice(0, -'data.pkl'.length);
  const byteorder = zip.members.get(`${root}byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(await readMember(zip, byteorder, 16)).trim();
    if (order !== 'little')
      throw new WeightFileError(
        'unsupported',
        `The checkpoint's byte order is "${order}", not little-endian.`,
      );
  }
  const offsets = new Map<string, number>();
  const readElements = async (storage: StorageRef, offset: number, count: number) => {
    const size = DTYPE_BYTES[storage.dtype];
    const start = offsets.get(storage.key)!;
    return zip.source.read(start + offset * size, count * size);
  };
  const storages: StorageRef[] = [];
  const pickle = await readMember(zip, zip.members.get(pickles[0])!, MAX_PICKLE_BYTES);
  const { value } = loadPickle(pickle, 0, {
    persistentLoad: (pid) => {
      const storage = parseStoragePid(pid, false);
      const member = zip.members.get(`${root}data/${storage.key}`);
      if (!member) throw malformed(`storage ${storage.key} has no member ${root}data/${storage.key}`);
      if (member.method !== 0)
        throw new WeightFileError(
          'unsupported',
          `Storage ${storage.key} is compressed; torch stores storages raw.`,
        );
      const bytes = checkedTotal(storage);
      if (bytes > member.size)
        throw malformed(
          `storage ${storage.key} claims ${storage.numel} ${storage.dtype} values (${bytes} bytes), but its member holds ${member.size} bytes`,
        );
      storages.push(storage);
      return storage;
    },
    rebuildTensor: makeRebuild(readElements),
  });
  for (const s of storages)
    if (!offsets.has(s.key))
      offsets.set(s.key, await memberDataOffset(zip, zip.members.get(`${root}data/${s.key}`)!));
  return stateDictOf(value, 'PyTorch zip checkpoint');
}

/** The five pickles at the start of a legacy checkpoint, parsed from `head` (its first bytes). */
function legacyPickles(source: ByteSource, head: Uint8Array) {
  const magic = loadPickle(head, 0);
  if (magic.value !== LEGACY_MAGIC)
    throw new WeightFileError(
      'mismatch',
      'The file is a pickle but not a PyTorch checkpoint (no magic number).',
    );
  const protocol = loadPickle(head, magic.end);
  if (protocol.value !== LEGACY_PROTOCOL)
    throw new WeightFileError(
      'unsupported',
      `PyTorch legacy protocol ${String(protocol.value)} is not ${LEGACY_PROTOCOL}.`,
    );
  const info = loadPickle(head, protocol.end);
  if (!(info.value instanceof PickleDict) || info.value.map.get('little_endian') !== true)
    throw new WeightFileError('unsupported', 'The checkpoint was written on a big-endian machine.');
  const byKey = new Map<string, StorageRef>();
  const offsets = new Map<string, number>();
  const readElements = async (storage: StorageRef, offset: number, count: number) => {
    const size = DTYPE_BYTES[storage.dtype];
    return source.read(offsets.get(storage.key)! + offset * size, count * size);
  };
  const object = loadPickle(head, info.end, {
    persistentLoad: (pid) => {
      const storage = parseStoragePid(pid, true);
      const known = byKey.get(storage.key);
      if (known) return known;
      checkedTotal(storage);
      byKey.set(storage.key, storage);
      return storage;
    },
    rebuildTensor: makeRebuild(readElements),
  });
  const keys = loadPickle(head, object.end);
  return { object, keys, byKey, offsets };
}

/** True when a pickle ran past the bytes it was given (so more of the file may help). */
function endedEarly(e: unknown): boolean {
  return e instanceof WeightFileError && e.kind === 'malformed' && /ends early/.test(e.message);
}

async function readLegacyCheckpoint(source: ByteSource): Promise<TensorFile> {
  // The pickles are small (about 20 kB for VGG16_bn): read 1 MiB, and more only when they need it.
  let length = Math.min(source.size, 2 ** 20);
  let parsed: ReturnType<typeof legacyPickles>;
  for (;;) {
    try {
      parsed = legacyPickles(source, await source.read(0, length));
      break;
    } catch (e) {
      if (!endedEarly(e) || length >= Math.min(source.size, MAX_PICKLE_BYTES)) throw e;
      length = Math.min(source.size, MAX_PICKLE_BYTES, length * 4);
    }
  }
  const { object, keys, byKey, offsets } = parsed;
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string'))
    throw malformed('the storage keys are not a list of names');
  // Storages follow in key order: an int64 element count, then the values.
  let at = keys.end;
  for (const key of keys.value as string[]) {
    const storage = byKey.get(key);
    if (!storage) throw malformed(`storage ${key} is listed but no tensor uses it`);
    if (at + 8 > source.size) throw malformed(`the file ends before storage ${key}`);
    const header = await source.read(at, 8);
    const count = new DataView(header.buffer, header.byteOffset, 8).getBigInt64(0, true);
    if (count !== BigInt(storage.numel))
      throw malformed(`storage ${key} holds ${count} elements, but its tensors say ${storage.numel}`);
    offsets.set(key, at + 8);
    at += 8 + checkedTotal(storage);
    if (at > source.size)
      throw malformed(
        `storage ${key} (${storage.numel} ${storage.dtype} values) runs past the end of the file`,
      );
  }
  for (const key of byKey.keys()) if (!offsets.has(key)) throw malformed(`storage ${key} is missing`);
  return stateDictOf(object.value, 'PyTorch legacy checkpoint');
}

/** True when the first bytes look like a torch.save file (a zip archive or a protocol-2+ pickle). */
export function looksLikeTorchCheckpoint(head: Uint8Array): 'zip' | 'legacy' | undefined {
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  if (head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return 'legacy';
  return undefined;
}

/**
 * Lists the tensors of a torch.save file (zip or legacy format). Throws WeightFileError for a damaged
 * file, for anything that is not a state_dict, and for any pickle content beyond tensors and dicts.
 */
export async function readTorchCheckpoint(source: ByteSource): Promise<TensorFile> {
  const head = await source.read(0, Math.min(4, source.size));
  const kind = looksLikeTorchCheckpoint(head);
  if (kind === 'zip') return readZipCheckpoint(await openZip(source));
  if (kind === 'legacy') return readLegacyCheckpoint(source);
  throw new WeightFileError(
    'mismatch',
    'The file is not a PyTorch checkpoint (neither a zip archive nor a pickle).',
  );
}

/** The same for bytes in memory. */
export function readTorchCheckpointBytes(bytes: Uint8Array): Promise<TensorFile> {
  return readTorchCheckpoint(bufferSource(bytes));
}
