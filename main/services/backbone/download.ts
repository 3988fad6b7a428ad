// First-run download of a pretrained backbone into the workspace cache: HTTP(S) from a configurable URL
// with progress events, resume of a dropped transfer (HTTP Range on a `.part` file), a SHA-256 check
// before the file is kept, and an atomic rename into place; or, offline, a file the user picked.
// Cache layout: <workspace>/backbones/<sha256><ext> (+ a .part while downloading); <ext> is .onnx unless
// the source says otherwise (a catalogue entry's .pth, .tar.gz or .safetensors). Requests honour
// HTTPS_PROXY / HTTP_PROXY / NO_PROXY (http-fetch.ts).
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../../../models/onnx/errors.js';
import { syncFolder } from '../storage/atomic-write.js';
import { httpFetch } from './http-fetch.js';

export interface BackboneSource {
  /** http(s) URL of the ONNX file. */
  url: string;
  /** Expected SHA-256 (64 hex digits). Without it the file is kept under the hash it turns out to have. */
  sha256?: string;
  /** Only the start of the SHA-256 is known (torch.hub's file-name hashes): the file must begin so. */
  sha256Prefix?: string;
  /** Expected size in bytes, checked with the hash. */
  bytes?: number;
  /** The cached file's extension (default '.onnx'). */
  extension?: string;
}

/** Where the app looks for its default source: no URL ships with the app; the user or admin sets one. */
export const BACKBONE_URL_ENV = 'ATTNVGG_BACKBONE_URL';
export const BACKBONE_SHA256_ENV = 'ATTNVGG_BACKBONE_SHA256';

export function defaultBackboneSource(env: NodeJS.ProcessEnv = process.env): BackboneSource | undefined {
  const url = env[BACKBONE_URL_ENV]?.trim();
  if (!url) return undefined;
  const sha256 = env[BACKBONE_SHA256_ENV]?.trim();
  return sha256 ? { url, sha256 } : { url };
}

export interface DownloadProgress {
  /** Bytes of the file on disk so far (including a resumed part). */
  received: number;
  /** The whole file's size when the server says it. */
  total?: number;
  /** Bytes that were already on disk when this transfer started (0 for a fresh start). */
  resumedFrom: number;
  /** 'download' while bytes arrive, 'verify' once the checksum is being compared. */
  phase: 'download' | 'verify';
}

export interface DownloadOptions {
  /** The workspace folder; the cache is its `backbones/` sub-folder. */
  workspace: string;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Transfers retried (resuming from what arrived) after a dropped connection; default 3. */
  retries?: number;
  /** Waits between retries in ms (default 500, doubling). */
  retryDelayMs?: number;
}

export interface CachedBackbone {
  path: string;
  sha256: string;
  bytes: number;
  /** True when the file was already in the cache and nothing was fetched. */
  cached: boolean;
  /** Transfers that continued a partial file (HTTP 206). */
  resumed: number;
  /** False when no expected checksum was given. */
  verified: boolean;
  /** How: 'sha256' (the full hash), 'sha256-prefix' (only its start was known), or 'none'. */
  verifiedBy: 'sha256' | 'sha256-prefix' | 'none';
}

export class BackboneDownloadError extends Error {
  override name = 'BackboneDownloadError';
}

const SHA256_RE = /^[0-9a-f]{64}$/;

export function backboneCacheDir(workspace: string): string {
  return join(workspace, 'backbones');
}

function normaliseSha(sha?: string): string | undefined {
  if (sha === undefined) return undefined;
  const s = sha.trim().toLowerCase();
  if (!SHA256_RE.test(s))
    throw new BackboneDownloadError(`"${sha}" is not a SHA-256 checksum (64 hexadecimal digits).`);
  return s;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** The SHA-256 of a file, read as a stream (a 528 MB file is never in memory whole). */
export async function sha256OfFile(path: string): Promise<string> {
  return (await hashFile(path)).digest('hex');
}

async function hashFile(path: string): Promise<ReturnType<typeof createHash>> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

/** Size from "Content-Range: bytes a-b/total". */
function parseContentRange(header: string | null): { start: number; total?: number } | undefined {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

class DroppedTransfer extends Error {}

interface TransferState {
  part: string;
  hash: ReturnType<typeof createHash>;
  received: number;
  total?: number;
  resumed: number;
}

/** One HTTP request: appends to the part file (or restarts it), updating the running hash. */
async function transfer(url: string, state: TransferState, options: DownloadOptions): Promise<void> {
  const resumedFrom = state.received;
  const headers: Record<string, string> = {};
  if (resumedFrom > 0) headers.Range = `bytes=${resumedFrom}-`;
  let response: Response;
  try {
    response = await httpFetch(url, { headers, signal: options.signal });
  } catch (e) {
    if (options.signal?.aborted) throw e;
    throw new DroppedTransfer(`cannot reach ${url}: ${describeError(e)}`);
  }
  let handle: FileHandle;
  if (response.status === 206 && resumedFrom > 0) {
    const range = parseContentRange(response.headers.get('content-range'));
    if (!range || range.start !== resumedFrom) {
      await response.body?.cancel();
      throw new BackboneDownloadError(
        `The server answered a resume request for bytes ${resumedFrom}- with another range (${response.headers.get('content-range') ?? 'none'}).`,
      );
    }
    state.total = range.total;
    state.resumed += 1;
    handle = await open(state.part, 'a');
  } else if (response.status === 200) {
    // A fresh start, or a server that ignores Range: the whole file comes again.
    state.received = 0;
    state.hash = createHash('sha256');
    const length = response.headers.get('content-length');
    state.total = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    handle = await open(state.part, 'w');
  } else if (response.status === 416 && resumedFrom > 0) {
    // The part already holds the whole file (or more): let the checksum decide.
    await response.body?.cancel();
    state.total = state.received;
    return;
  } else {
    await response.body?.cancel();
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    const message = `${url} answered HTTP ${response.status} ${response.statusText}`;
    throw retryable ? new DroppedTransfer(message) : new BackboneDownloadError(`${message}.`);
  }
  try {
    if (!response.body) throw new DroppedTransfer('the response has no body');
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      await handle.write(chunk);
      state.hash.update(chunk);
      state.received += chunk.length;
      options.onProgress?.({
        received: state.received,
        total: state.total,
        resumedFrom,
        phase: 'download',
      });
    }
    await handle.sync();
  } catch (e) {
    if (options.signal?.aborted || e instanceof BackboneDownloadError) throw e;
    throw new DroppedTransfer(`the connection dropped after ${state.received} bytes: ${describeError(e)}`);
  } finally {
    await handle.close();
  }
  if (state.total !== undefined && state.received < state.total)
    throw new DroppedTransfer(`the connection closed after ${state.received} of ${state.total} bytes`);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/**
 * Fetches the backbone at `source.url` into the workspace cache, or returns the cached file when a file
 * with the expected checksum is already there. A transfer that drops is resumed from the `.part` file
 * (HTTP Range; a server without Range support sends the whole file again), also by a later call. The
 * file is renamed into place only when its SHA-256 matches; otherwise the part is deleted and a
 * BackboneDownloadError says so.
 */
export async function downloadBackbone(
  source: BackboneSource,
  options: DownloadOptions,
): Promise<CachedBackbone> {
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    throw new BackboneDownloadError(`"${source.url}" is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BackboneDownloadError(
      `Unsupported URL scheme "${url.protocol}". Should be one of: http:, https: (for a local file use it directly).`,
    );
  const expected = normaliseSha(source.sha256);
  const prefix = source.sha256Prefix?.trim().toLowerCase();
  if (prefix !== undefined && !/^[0-9a-f]{8,63}$/.test(prefix))
    throw new BackboneDownloadError(
      `"${source.sha256Prefix}" is not the start of a SHA-256 (8 to 63 hexadecimal digits).`,
    );
  const ext = source.extension ?? '.onnx';
  if (!/^(\.[a-z0-9]{1,12}){1,2}$/.test(ext))
    throw new BackboneDownloadError(`"${ext}" is not a file extension.`);
  const verifiedBy = expected ? 'sha256' : prefix ? 'sha256-prefix' : 'none';
  const dir = backboneCacheDir(options.workspace);
  await mkdir(dir, { recursive: true });
  const cachedName = expected
    ? `${expected}${ext}`
    : prefix
      ? (await readdir(dir)).find(
          (n) => n.length === 64 + ext.length && n.startsWith(prefix) && n.endsWith(ext),
        )
      : undefined;
  if (cachedName) {
    const final = join(dir, cachedName);
    const size = await sizeOf(final);
    if (size !== undefined && (source.bytes === undefined || size === source.bytes))
      return {
        path: final,
        sha256: cachedName.slice(0, 64),
        bytes: size,
        cached: true,
        resumed: 0,
        verified: verifiedBy !== 'none',
        verifiedBy,
      };
  }
  // Without a checksum the part is named after the URL, so that a later call can still resume it.
  const partName = expected ?? `url-${createHash('sha256').update(url.href).digest('hex').slice(0, 16)}`;
  const part = join(dir, `${partName}${ext}.part`);
  const existing = (await sizeOf(part)) ?? 0;
  const state: TransferState = {
    part,
    hash: existing > 0 ? await hashFile(part) : createHash('sha256'),
    received: existing,
    resumed: 0,
  };
  const retries = options.retries ?? 3;
  let delay = options.retryDelayMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      await transfer(url.href, state, options);
      break;
    } catch (e) {
      if (!(e instanceof DroppedTransfer)) throw e;
      if (attempt >= retries)
        throw new BackboneDownloadError(
          `The download of ${url.href} failed: ${e.message}. ${state.received} bytes are kept in ${part}; run the download again to resume.`,
        );
      await sleep(delay, options.signal);
      delay *= 2;
    }
  }
  options.onProgress?.({
    received: state.received,
    total: state.total,
    resumedFrom: existing,
    phase: 'verify',
  });
  const actual = state.hash.digest('hex');
  if (source.bytes !== undefined && state.received !== source.bytes) {
    await rm(part, { force: true });
    throw new BackboneDownloadError(
      `The file downloaded from ${url.href} is ${state.received} bytes, but ${source.bytes} were expected: it was not kept.`,
    );
  }
  if (prefix && !actual.startsWith(prefix)) {
    await rm(part, { force: true });
    throw new BackboneDownloadError(
      `The file downloaded from ${url.href} has SHA-256 ${actual}, which does not start with ${prefix} as its name says: it was not kept.`,
    );
  }
  if (expected && actual !== expected) {
    await rm(part, { force: true });
    throw new BackboneDownloadError(
      `The file downloaded from ${url.href} has SHA-256 ${actual}, but ${expected} was expected: it was not kept. ` +
        'The URL may serve another or a damaged file; check the URL and the checksum.',
    );
  }
  const final = join(dir, `${actual}${ext}`);
  await rename(part, final);
  await syncFolder(dir);
  return {
    path: final,
    sha256: actual,
    bytes: state.received,
    cached: false,
    resumed: state.resumed,
    verified: verifiedBy !== 'none',
    verifiedBy,
  };
}

export interface PickedBackbone {
  path: string;
  sha256: string;
  bytes: number;
  verified: boolean;
}

/**
 * The offline path: a backbone file the user picked. Its SHA-256 is computed and, when `sha256` is given,
 * must match. The file is used where it is (docs/architecture.md: nothing is copied unless asked).
 */
export async function usePickedBackbone(file: string, sha256?: string): Promise<PickedBackbone> {
  const expected = normaliseSha(sha256);
  const bytes = await sizeOf(file);
  if (bytes === undefined) throw new BackboneDownloadError(`"${file}" is not a readable file.`);
  const actual = (await hashFile(file)).digest('hex');
  if (expected && actual !== expected)
    throw new BackboneDownloadError(`"${file}" has SHA-256 ${actual}, but ${expected} was expected.`);
  return { path: file, sha256: actual, bytes, verified: expected !== undefined };
}
