// Reads the member list of a zip archive from its central directory (zip64 included) and the bytes of one
// member, over a ByteSource: nothing is extracted to disk and a member is read only when asked for. It
// serves PyTorch's zip checkpoints, which store every member uncompressed, so a stored member can be
// read in ranges straight from the file; a deflated one (only small members are allowed) is inflated
// with an output limit. Member names that climb out of the archive (`..`, absolute, drive letters)
// refuse the whole file. Written here rather than taken from npm: only this read-only subset is needed,
// over random access, with the limits in one place.

import { inflateRawSync } from 'node:zlib';
import type { ByteSource } from './byte-source.js';
import { WeightFileError } from './errors.js';

export interface ZipMember {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  source: ByteSource;
  members: Map<string, ZipMember>;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** A central directory larger than this is not a checkpoint's. */
const MAX_CENTRAL_BYTES = 64 * 1024 * 1024;
const MAX_MEMBERS = 1_000_000;

function bad(message: string): WeightFileError {
  return new WeightFileError('malformed', `The zip archive is damaged or truncated: ${message}`);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('a size beyond 2^53');
  return Number(n);
}

/** True when a member name stays inside the archive's folder. */
export function isSafeMemberName(name: string): boolean {
  if (name.length === 0 || name.includes('\0') || name.includes('\\')) return false;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  return !name.split('/').some((part) => part === '..');
}

async function findEnd(source: ByteSource): Promise<{ entries: number; size: number; offset: number }> {
  const tailLength = Math.min(source.size, 22 + 0xffff + 20);
  if (source.size < 22) throw bad(`${source.size} bytes is too short for a zip archive`);
  const tailStart = source.size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  const v = view(tail);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (v.getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  if (at < 0) throw bad('no end-of-central-directory record');
  let entries = v.getUint16(at + 10, true);
  let size = v.getUint32(at + 12, true);
  let offset = v.getUint32(at + 16, true);
  if (entries === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    if (at < 20 || v.getUint32(at - 20, true) !== ZIP64_LOCATOR) throw bad('no zip64 locator');
    const recordAt = u64(v, at - 20 + 8);
    if (recordAt + 56 > source.size) throw bad('the zip64 record lies outside the file');
    const record = view(await source.read(recordAt, 56));
    if (record.getUint32(0, true) !== ZIP64_EOCD) throw bad('no zip64 end record');
    entries = u64(record, 32);
    size = u64(record, 40);
    offset = u64(record, 48);
  }
  if (offset + size > source.size) throw bad('the central directory lies outside the file');
  if (size > MAX_CENTRAL_BYTES || entries > MAX_MEMBERS)
    throw new WeightFileError(
      'unsupported',
      `The zip archive lists ${entries} members in ${size} bytes: far more than a checkpoint holds.`,
    );
  return { entries, size, offset };
}

/** Reads the central directory. Throws WeightFileError for a damaged or hostile archive. */
export async function openZip(source: ByteSource): Promise<ZipArchive> {
  const end = await findEnd(source);
  const dir = await source.read(end.offset, end.size);
  const v = view(dir);
  const members = new Map<string, ZipMember>();
  let at = 0;
  for (let i = 0; i < end.entries; i++) {
    if (at + 46 > dir.length || v.getUint32(at, true) !== CENTRAL) throw bad(`central entry ${i} is broken`);
    const flags = v.getUint16(at + 8, true);
    const method = v.getUint16(at + 10, true);
    let compressedSize = v.getUint32(at + 20, true);
    let size = v.getUint32(at + 24, true);
    const nameLength = v.getUint16(at + 28, true);
    const extraLength = v.getUint16(at + 30, true);
    const commentLength = v.getUint16(at + 32, true);
    let localHeaderOffset = v.getUint32(at + 42, true);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > dir.length) throw bad(`central entry ${i} runs past the directory`);
    const name = new TextDecoder('utf-8').decode(dir.subarray(at + 46, at + 46 + nameLength));
    // Zip64 sizes and offset, in this order, for the fields that hold 0xffffffff.
    let e = at + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = v.getUint16(e, true);
      const length = v.getUint16(e + 2, true);
      if (id === 0x0001) {
        let f = e + 4;
        const take = () => {
          if (f + 8 > e + 4 + length) throw bad(`the zip64 field of ${name} is short`);
          const n = u64(v, f);
          f += 8;
          return n;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      e += 4 + length;
    }
    if (!isSafeMemberName(name))
      throw new WeightFileError(
        'unsupported',
        `The zip archive holds a member named "${name}", which points outside the archive: refused (nothing was extracted).`,
      );
    if (flags & 1)
      throw new WeightFileError('unsupported', `The zip member "${name}" is encrypted: refused.`);
    if (method !== 0 && method !== 8)
      throw new WeightFileError(
        'unsupported',
        `The zip member "${name}" uses compression method ${method}; only stored and deflated members are read.`,
      );
    if (localHeaderOffset + 30 + compressedSize > source.size)
      throw bad(`member "${name}" lies past the end of the file`);
    if (members.has(name)) throw bad(`member "${name}" is listed twice`);
    members.set(name, { name, method, compressedSize, size, localHeaderOffset });
    at = next;
  }
  return { source, members };
}

/** Where a member's data starts (after its local header, whose name and extra lengths may differ). */
export async function memberDataOffset(zip: ZipArchive, member: ZipMember): Promise<number> {
  const header = view(await zip.source.read(member.localHeaderOffset, 30));
  if (header.getUint32(0, true) !== LOCAL) throw bad(`member "${member.name}" has no local header`);
  const start = member.localHeaderOffset + 30 + header.getUint16(26, true) + header.getUint16(28, true);
  if (start + member.compressedSize > zip.source.size)
    throw bad(`member "${member.name}" ends past the end of the file`);
  return start;
}

/**
 * The whole content of a small member (a pickle, a version string), at most `maxBytes` once inflated: a
 * deflated member that would inflate beyond that (a zip bomb) is refused without inflating it further.
 */
export async function readMember(zip: ZipArchive, member: ZipMember, maxBytes: number): Promise<Uint8Array> {
  if (member.size > maxBytes)
    throw new WeightFileError(
      'unsupported',
      `The zip member "${member.name}" is ${member.size} bytes; at most ${maxBytes} are read for it.`,
    );
  const start = await memberDataOffset(zip, member);
  const raw = await zip.source.read(start, member.compressedSize);
  if (member.method === 0) {
    if (member.compressedSize !== member.size) throw bad(`stored member "${member.name}" has two sizes`);
    return raw;
  }
  let out: Buffer;
  try {
    out = inflateRawSync(raw, { maxOutputLength: Math.max(1, member.size) });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new WeightFileError(
      /output length|buffer/i.test(message) ? 'unsupported' : 'malformed',
      `The zip member "${member.name}" does not inflate to the ${member.size} bytes it declares (${message}): refused.`,
    );
  }
  if (out.length !== member.size)
    throw bad(`member "${member.name}" inflates to ${out.length} bytes, not the ${member.size} it declares`);
  return out;
}
