// A minimal pickle reader for PyTorch checkpoints that never executes or imports anything. It knows the
// opcodes torch.save writes (protocols 2 to 5: numbers, strings, tuples, lists, dicts, the memo,
// persistent ids, REDUCE and BUILD) and only the globals a state_dict needs: the tensor-rebuild
// functions, collections.OrderedDict and the typed storage classes. Any other global is refused by name
// when it is first named, before anything could call it; object-creating opcodes (NEWOBJ, INST, OBJ) and
// extension codes are refused too. What a REDUCE of an allowed global means is decided here, by data:
// OrderedDict makes a PickleDict, the rebuild functions hand their arguments to the caller.

import { WeightFileError } from './errors.js';

/** A module-level name the pickle refers to (always one of ALLOWED_GLOBALS). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export type PickleKey = string | number | bigint | boolean | null;

/** A dict or OrderedDict; keys are primitives (a state_dict's are strings). */
export class PickleDict {
  readonly map = new Map<PickleKey, unknown>();
}

/** A tuple: a frozen array, so that APPEND on it fails. */
export type PickleTuple = readonly unknown[];

/** The arguments of a torch._utils._rebuild_tensor(_v2) call. */
export interface RebuildTensorCall {
  storage: unknown;
  storageOffset: unknown;
  size: unknown;
  stride: unknown;
}

export interface PickleOptions {
  /** Turns a persistent id (BINPERSID) into a value; the caller validates it. */
  persistentLoad?: (pid: unknown) => unknown;
  /** What a tensor-rebuild call becomes; without it such a call is refused. */
  rebuildTensor?: (call: RebuildTensorCall) => unknown;
}

const STORAGE_TYPES = [
  'FloatStorage',
  'DoubleStorage',
  'HalfStorage',
  'BFloat16Storage',
  'LongStorage',
  'IntStorage',
  'ShortStorage',
  'CharStorage',
  'ByteStorage',
  'BoolStorage',
];

/** Every global a state_dict pickle may name; anything else is refused. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'collections.OrderedDict',
  ...STORAGE_TYPES.map((s) => `torch.${s}`),
]);

/** The memo and the value stack are bounded so a hostile pickle cannot grow them without limit. */
const MAX_MEMO = 1 << 20;
const MAX_STACK = 1 << 20;

function malformed(message: string): WeightFileError {
  return new WeightFileError('malformed', `The pickle is malformed: ${message}`);
}

function refusedGlobal(qualified: string): WeightFileError {
  return new WeightFileError(
    'unsupported',
    `The file's pickle names ${qualified}, which a file of weights never needs: it was refused and nothing was run. ` +
      'Only tensors, storages and OrderedDict are read; save a state_dict (model.state_dict()), not a whole model or other objects.',
  );
}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }
  private need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length)
      throw malformed(`it ends early (needed ${n} bytes at byte ${this.pos} of ${this.bytes.length})`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  private view(n: number): DataView {
    const b = this.take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }
  u16(): number {
    return this.view(2).getUint16(0, true);
  }
  u32(): number {
    return this.view(4).getUint32(0, true);
  }
  i32(): number {
    return this.view(4).getInt32(0, true);
  }
  u64(): number {
    const v = this.view(8).getBigUint64(0, true);
    if (v > BigInt(this.bytes.length)) throw malformed(`a length of ${v} bytes is longer than the pickle`);
    return Number(v);
  }
  f64be(): number {
    return this.view(8).getFloat64(0, false);
  }
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw malformed('a text line has no end');
    const text = new TextDecoder('latin1').decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }
  utf8(n: number): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.take(n));
  }
  latin1(n: number): string {
    return new TextDecoder('latin1').decode(this.take(n));
  }
}

/** Little-endian two's-complement integer of LONG1/LONG4, as a number when it is safe. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function isKey(v: unknown): v is PickleKey {
  return v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v);
}

function setItem(target: unknown, key: unknown, value: unknown): void {
  if (!(target instanceof PickleDict)) throw malformed('SETITEM on something that is not a dict');
  if (!isKey(key)) throw malformed('a dict key that is not a string or number');
  target.map.set(key, value);
}

function dictFromPairs(args: PickleTuple): PickleDict {
  const dict = new PickleDict();
  if (args.length === 0) return dict;
  const pairs = args[0];
  if (args.length !== 1 || !Array.isArray(pairs)) throw malformed('OrderedDict called with odd arguments');
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw malformed('OrderedDict item is not a pair');
    setItem(dict, pair[0], pair[1]);
  }
  return dict;
}

function reduce(fn: unknown, args: unknown, options: PickleOptions): unknown {
  if (!(fn instanceof PickleGlobal)) throw malformed('REDUCE of something that is not a global');
  if (!Array.isArray(args)) throw malformed(`${fn.qualified} called without an argument tuple`);
  switch (fn.qualified) {
    case 'collections.OrderedDict':
      return dictFromPairs(args);
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      if (!options.rebuildTensor) throw refusedGlobal(fn.qualified);
      if (args.length < 4) throw malformed(`${fn.qualified} called with ${args.length} arguments`);
      const [storage, storageOffset, size, stride] = args;
      return options.rebuildTensor({ storage, storageOffset, size, stride });
    }
    default:
      // Storage classes are only ever named inside persistent ids, never called.
      throw new WeightFileError(
        'unsupported',
        `The file's pickle calls ${fn.qualified}, which a state_dict never does: refused, nothing was run.`,
      );
  }
}

export interface PickleResult {
  value: unknown;
  /** The byte after the STOP opcode (where the next pickle of a legacy checkpoint starts). */
  end: number;
}

/** The pickle machine's state: the value stack, the MARK stack and the memo, with their bounds. */
class Machine {
  stack: unknown[] = [];
  readonly marks: unknown[][] = [];
  readonly memo = new Map<number, unknown>();
  /** Set by STOP. */
  done: { value: unknown } | null = null;

  constructor(
    readonly r: Reader,
    readonly options: PickleOptions,
  ) {}

  push(v: unknown): void {
    if (this.stack.length >= MAX_STACK) throw malformed('the value stack grows without bound');
    this.stack.push(v);
  }
  pop(): unknown {
    if (this.stack.length === 0) throw malformed('pop from an empty stack');
    return this.stack.pop();
  }
  top(): unknown {
    if (this.stack.length === 0) throw malformed('the stack is empty');
    return this.stack[this.stack.length - 1];
  }
  mark(): void {
    this.marks.push(this.stack);
    this.stack = [];
  }
  popMark(): unknown[] {
    const items = this.stack;
    const outer = this.marks.pop();
    if (!outer) throw malformed('no MARK to pop to');
    this.stack = outer;
    return items;
  }
  put(index: number): void {
    if (this.memo.size >= MAX_MEMO && !this.memo.has(index)) throw malformed('the memo grows without bound');
    this.memo.set(index, this.top());
  }
  get(index: number): void {
    if (!this.memo.has(index)) throw malformed(`memo entry ${index} was never stored`);
    this.push(this.memo.get(index));
  }
  global(module: string, name: string): void {
    const qualified = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(qualified)) throw refusedGlobal(qualified);
    this.push(new PickleGlobal(module, name));
  }
  persistent(pid: unknown): void {
    if (!this.options.persistentLoad) throw malformed('a persistent id where none is expected');
    this.push(this.options.persistentLoad(pid));
  }
}

type Opcode = (m: Machine) => void;

/** Framing, STOP, and the stack and MARK operations. */
const CONTROL: Record<number, Opcode> = {
  0x80: (m) => {
    const protocol = m.r.u8(); // PROTO
    if (protocol > 5) throw malformed(`pickle protocol ${protocol} is newer than 5`);
  },
  0x95: (m) => void m.r.u64(), // FRAME: framing is only a read-ahead hint
  0x2e: (m) => (m.done = { value: m.pop() }), // STOP
  0x28: (m) => m.mark(), // MARK
  0x30: (m) => void m.pop(), // POP
  0x31: (m) => void m.popMark(), // POP_MARK
  0x32: (m) => m.push(m.top()), // DUP
};

/** Constants, numbers, strings and bytes. */
const SCALARS: Record<number, Opcode> = {
  0x4e: (m) => m.push(null), // NONE
  0x88: (m) => m.push(true), // NEWTRUE
  0x89: (m) => m.push(false), // NEWFALSE
  0x4a: (m) => m.push(m.r.i32()), // BININT
  0x4b: (m) => m.push(m.r.u8()), // BININT1
  0x4d: (m) => m.push(m.r.u16()), // BININT2
  0x8a: (m) => m.push(decodeLong(m.r.take(m.r.u8()))), // LONG1
  0x8b: (m) => {
    const n = m.r.i32(); // LONG4
    if (n < 0 || n > 64) throw malformed(`a ${n}-byte integer`);
    m.push(decodeLong(m.r.take(n)));
  },
  0x47: (m) => m.push(m.r.f64be()), // BINFLOAT
  0x58: (m) => m.push(m.r.utf8(m.r.u32())), // BINUNICODE
  0x8c: (m) => m.push(m.r.utf8(m.r.u8())), // SHORT_BINUNICODE
  0x8d: (m) => m.push(m.r.utf8(m.r.u64())), // BINUNICODE8
  0x55: (m) => m.push(m.r.latin1(m.r.u8())), // SHORT_BINSTRING
  0x54: (m) => {
    const n = m.r.i32(); // BINSTRING
    if (n < 0) throw malformed('a negative string length');
    m.push(m.r.latin1(n));
  },
  0x43: (m) => m.push(m.r.take(m.r.u8())), // SHORT_BINBYTES
  0x42: (m) => m.push(m.r.take(m.r.u32())), // BINBYTES
  0x8e: (m) => m.push(m.r.take(m.r.u64())), // BINBYTES8
};

/** A list on the stack that may still grow (tuples are frozen). */
function openList(m: Machine, op: string): unknown[] {
  const list = m.top();
  if (!Array.isArray(list) || Object.isFrozen(list)) throw malformed(`${op} to something not a list`);
  return list;
}

/** Sets alternate key, value items into `dict`. */
function setPairs(dict: unknown, items: unknown[], op: string): void {
  if (items.length % 2) throw malformed(`${op} with an odd number of items`);
  for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
}

/** Tuples (frozen), lists and dicts. */
const CONTAINERS: Record<number, Opcode> = {
  0x29: (m) => m.push(Object.freeze([])), // EMPTY_TUPLE
  0x85: (m) => m.push(Object.freeze([m.pop()])), // TUPLE1
  0x86: (m) => {
    const b = m.pop(); // TUPLE2
    m.push(Object.freeze([m.pop(), b]));
  },
  0x87: (m) => {
    const c = m.pop(); // TUPLE3
    const b = m.pop();
    m.push(Object.freeze([m.pop(), b, c]));
  },
  0x74: (m) => m.push(Object.freeze(m.popMark())), // TUPLE
  0x5d: (m) => m.push([]), // EMPTY_LIST
  0x6c: (m) => m.push(m.popMark()), // LIST
  0x61: (m) => {
    const v = m.pop(); // APPEND
    openList(m, 'APPEND').push(v);
  },
  0x65: (m) => {
    const items = m.popMark(); // APPENDS
    const list = openList(m, 'APPENDS');
    for (const v of items) list.push(v);
  },
  0x7d: (m) => m.push(new PickleDict()), // EMPTY_DICT
  0x64: (m) => {
    const dict = new PickleDict(); // DICT
    setPairs(dict, m.popMark(), 'DICT');
    m.push(dict);
  },
  0x73: (m) => {
    const value = m.pop(); // SETITEM
    const key = m.pop();
    setItem(m.top(), key, value);
  },
  0x75: (m) => {
    const items = m.popMark(); // SETITEMS
    setPairs(m.top(), items, 'SETITEMS');
  },
};

/** The memo, the allowed globals, REDUCE, BUILD and persistent ids. */
const REFERENCES: Record<number, Opcode> = {
  0x71: (m) => m.put(m.r.u8()), // BINPUT
  0x72: (m) => m.put(m.r.u32()), // LONG_BINPUT
  0x94: (m) => m.put(m.memo.size), // MEMOIZE
  0x68: (m) => m.get(m.r.u8()), // BINGET
  0x6a: (m) => m.get(m.r.u32()), // LONG_BINGET
  0x63: (m) => {
    const module = m.r.line(); // GLOBAL
    m.global(module, m.r.line());
  },
  0x93: (m) => {
    const name = m.pop(); // STACK_GLOBAL
    const module = m.pop();
    if (typeof module !== 'string' || typeof name !== 'string')
      throw malformed('STACK_GLOBAL of something that is not a name');
    m.global(module, name);
  },
  0x52: (m) => {
    const args = m.pop(); // REDUCE
    const fn = m.pop();
    m.push(reduce(fn, args, m.options));
  },
  0x62: (m) => {
    m.pop(); // BUILD
    // OrderedDict's attributes (a state_dict's _metadata: module versions) are not needed.
    if (!(m.top() instanceof PickleDict)) throw malformed('BUILD on something that is not a dict');
  },
  0x51: (m) => m.persistent(m.pop()), // BINPERSID
  0x50: (m) => m.persistent(m.r.line()), // PERSID
};

const OPCODES: ReadonlyMap<number, Opcode> = new Map(
  [CONTROL, SCALARS, CONTAINERS, REFERENCES].flatMap((group) =>
    Object.entries(group).map(([code, fn]) => [Number(code), fn] as const),
  ),
);

/** Opcodes that create objects (NEWOBJ, NEWOBJ_EX, INST, OBJ) or name registered extensions (EXT1-4). */
const CREATES_OBJECT = new Set([0x81, 0x92, 0x69, 0x6f]);
const EXTENSION = new Set([0x82, 0x83, 0x84]);

function refusedOpcode(op: number, at: number): WeightFileError {
  const code = `0x${op.toString(16)}`;
  if (CREATES_OBJECT.has(op))
    return new WeightFileError(
      'unsupported',
      `The file's pickle creates an object (opcode ${code} at byte ${at}), which a state_dict never does: refused, nothing was run.`,
    );
  if (EXTENSION.has(op))
    return new WeightFileError(
      'unsupported',
      `The file's pickle refers to a registered extension (opcode ${code}): refused, nothing was run.`,
    );
  return new WeightFileError(
    'unsupported',
    `The file's pickle uses opcode ${code} at byte ${at}, which PyTorch checkpoints do not use.`,
  );
}

/**
 * Reads one pickle from `bytes` at `start` and returns the value STOP leaves, and where it ended.
 * Throws WeightFileError: 'malformed' for broken bytes, 'unsupported' for anything it refuses.
 */
export function loadPickle(bytes: Uint8Array, start = 0, options: PickleOptions = {}): PickleResult {
  const r = new Reader(bytes, start);
  const m = new Machine(r, options);
  while (m.done === null) {
    const at = r.pos;
    const op = r.u8();
    const run = OPCODES.get(op);
    if (!run) throw refusedOpcode(op, at);
    run(m);
  }
  return { value: m.done.value, end: r.pos };
}
