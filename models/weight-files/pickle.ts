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

/**
 * Reads one pickle from `bytes` at `start` and returns the value STOP leaves, and where it ended.
 * Throws WeightFileError: 'malformed' for broken bytes, 'unsupported' for anything it refuses.
 */
export function loadPickle(bytes: Uint8Array, start = 0, options: PickleOptions = {}): PickleResult {
  const r = new Reader(bytes, start);
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const push = (v: unknown) => {
    if (stack.length >= MAX_STACK) throw malformed('the value stack grows without bound');
    stack.push(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0) throw malformed('pop from an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw malformed('the stack is empty');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const outer = marks.pop();
    if (!outer) throw malformed('no MARK to pop to');
    stack = outer;
    return items;
  };
  const put = (index: number) => {
    if (memo.size >= MAX_MEMO && !memo.has(index)) throw malformed('the memo grows without bound');
    memo.set(index, top());
  };
  const get = (index: number) => {
    if (!memo.has(index)) throw malformed(`memo entry ${index} was never stored`);
    push(memo.get(index));
  };
  const global = (module: string, name: string) => {
    const qualified = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(qualified)) throw refusedGlobal(qualified);
    push(new PickleGlobal(module, name));
  };

  for (;;) {
    const at = r.pos;
    const op = r.u8();
    switch (op) {
      case 0x80: {
        const protocol = r.u8(); // PROTO
        if (protocol > 5) throw malformed(`pickle protocol ${protocol} is newer than 5`);
        break;
      }
      case 0x95: // FRAME: framing is only a read-ahead hint
        r.u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: r.pos };
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(r.i32());
        break;
      case 0x4b: // BININT1
        push(r.u8());
        break;
      case 0x4d: // BININT2
        push(r.u16());
        break;
      case 0x8a: // LONG1
        push(decodeLong(r.take(r.u8())));
        break;
      case 0x8b: {
        const n = r.i32(); // LONG4
        if (n < 0 || n > 64) throw malformed(`a ${n}-byte integer`);
        push(decodeLong(r.take(n)));
        break;
      }
      case 0x47: // BINFLOAT
        push(r.f64be());
        break;
      case 0x58: // BINUNICODE
        push(r.utf8(r.u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(r.utf8(r.u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(r.utf8(r.u64()));
        break;
      case 0x55: // SHORT_BINSTRING
        push(r.latin1(r.u8()));
        break;
      case 0x54: {
        const n = r.i32(); // BINSTRING
        if (n < 0) throw malformed('a negative string length');
        push(r.latin1(n));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        push(r.take(r.u8()));
        break;
      case 0x42: // BINBYTES
        push(r.take(r.u32()));
        break;
      case 0x8e: // BINBYTES8
        push(r.take(r.u64()));
        break;
      case 0x29: // EMPTY_TUPLE
        push(Object.freeze([]));
        break;
      case 0x85: // TUPLE1
        push(Object.freeze([pop()]));
        break;
      case 0x86: {
        const b = pop(); // TUPLE2
        push(Object.freeze([pop(), b]));
        break;
      }
      case 0x87: {
        const c = pop(); // TUPLE3
        const b = pop();
        push(Object.freeze([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(Object.freeze(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: {
        const v = pop(); // APPEND
        const list = top();
        if (!Array.isArray(list) || Object.isFrozen(list)) throw malformed('APPEND to something not a list');
        list.push(v);
        break;
      }
      case 0x65: {
        const items = popMark(); // APPENDS
        const list = top();
        if (!Array.isArray(list) || Object.isFrozen(list)) throw malformed('APPENDS to something not a list');
        for (const v of items) list.push(v);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PickleDict());
        break;
      case 0x64: {
        const items = popMark(); // DICT
        if (items.length % 2) throw malformed('DICT with an odd number of items');
        const dict = new PickleDict();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        push(dict);
        break;
      }
      case 0x73: {
        const value = pop(); // SETITEM
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case 0x75: {
        const items = popMark(); // SETITEMS
        if (items.length % 2) throw malformed('SETITEMS with an odd number of items');
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        break;
      }
      case 0x71: // BINPUT
        put(r.u8());
        break;
      case 0x72: // LONG_BINPUT
        put(r.u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x68: // BINGET
        get(r.u8());
        break;
      case 0x6a: // LONG_BINGET
        get(r.u32());
        break;
      case 0x63: {
        const module = r.line(); // GLOBAL
        global(module, r.line());
        break;
      }
      case 0x93: {
        const name = pop(); // STACK_GLOBAL
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw malformed('STACK_GLOBAL of something that is not a name');
        global(module, name);
        break;
      }
      case 0x52: {
        const args = pop(); // REDUCE
        const fn = pop();
        push(reduce(fn, args, options));
        break;
      }
      case 0x62: {
        const state = pop(); // BUILD
        // OrderedDict's attributes (a state_dict's _metadata: module versions) are not needed.
        if (!(top() instanceof PickleDict)) throw malformed('BUILD on something that is not a dict');
        void state;
        break;
      }
      case 0x51: {
        const pid = pop(); // BINPERSID
        if (!options.persistentLoad) throw malformed('a persistent id where none is expected');
        push(options.persistentLoad(pid));
        break;
      }
      case 0x50: // PERSID
        if (!options.persistentLoad) throw malformed('a persistent id where none is expected');
        push(options.persistentLoad(r.line()));
        break;
      case 0x81: // NEWOBJ
      case 0x92: // NEWOBJ_EX
      case 0x69: // INST
      case 0x6f: // OBJ
        throw new WeightFileError(
          'unsupported',
          `The file's pickle creates an object (opcode 0x${op.toString(16)} at byte ${at}), which a state_dict never does: refused, nothing was run.`,
        );
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw new WeightFileError(
          'unsupported',
          `The file's pickle refers to a registered extension (opcode 0x${op.toString(16)}): refused, nothing was run.`,
        );
      default:
        throw new WeightFileError(
          'unsupported',
          `The file's pickle uses opcode 0x${op.toString(16)} at byte ${at}, which PyTorch checkpoints do not use.`,
        );
    }
  }
}
