// Serves the built renderer's files, and nothing outside its folder: the URL path is decoded once,
// rejected if it holds NUL or backslashes, resolved against the root and checked to stay inside it after
// links are resolved. A file that cannot be read (gone since the check, or no file descriptor left)
// is answered 404 or 500, never an unhandled stream error that would end the process and a training
// run with it. Must not import electron or renderer.
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isInside } from '../backend/path-guard.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Maps a URL path to a file under `root`, or null when it would leave the root or is not a file. */
export async function resolveStaticPath(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  if (relative.split('/').some((part) => part === '..')) return null;
  const realRoot = await realpath(root).catch(() => null);
  if (!realRoot) return null;
  const candidate = normalize(join(realRoot, relative));
  if (!isInside(realRoot, candidate) || candidate === realRoot) return null;
  const real = await realpath(candidate).catch(() => null);
  if (!real || !isInside(realRoot, real)) return null;
  const info = await stat(real).catch(() => null);
  return info?.isFile() ? real : null;
}

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Why a file could not be opened, as the status to answer: gone (404) or anything else (500). */
function openFailureStatus(error: unknown): 404 | 500 {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' ? 404 : 500;
}

function answerFailure(response: ServerResponse, status: 404 | 500): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(status === 404 ? 'Not found.\n' : 'The server could not read this file; try again.\n');
}

/**
 * Sends one file. It is opened before the answer starts, so a failure can still become a 404 or 500;
 * a failure while it streams ends that response only.
 */
export async function sendFile(
  response: ServerResponse,
  path: string,
  headers: Record<string, string>,
): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    answerFailure(response, openFailureStatus(error));
    return;
  }
  try {
    const { size } = await handle.stat();
    response.writeHead(200, {
      'content-type': contentType(path),
      'content-length': String(size),
      ...headers,
    });
    await pipeline(handle.createReadStream({ autoClose: false }), response);
  } catch {
    answerFailure(response, 500);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
