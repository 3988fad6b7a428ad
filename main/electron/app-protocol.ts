// The handler of the app:// scheme (protocol.handle in app.ts): answers GET and HEAD for files of the
// built renderer folder only, by the browser mode's path rules (server/static-files.ts: no `..`, NUL or
// backslash, links resolved and kept inside the folder), with their MIME type and the desktop CSP as a
// header; 404 for anything else. Written against the web's Request and Response, so plain Node tests
// run it. Must not import electron.
import { readFile } from 'node:fs/promises';
import { desktopContentSecurityPolicy } from '../server/content-security-policy.js';
import { contentType, resolveStaticPath } from '../server/static-files.js';
import { appUrl } from './app-scheme.js';

const COMMON_HEADERS = {
  'content-security-policy': desktopContentSecurityPolicy(),
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
} as const;

/** The file of `rendererDir` that an app:// URL names, or null when it names none (or another origin). */
export async function resolveAppFile(rendererDir: string, requestUrl: string): Promise<string | null> {
  const url = appUrl(requestUrl);
  if (!url) return null;
  return resolveStaticPath(rendererDir, url.pathname);
}

function plain(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: { ...COMMON_HEADERS, 'content-type': 'text/plain; charset=utf-8', ...extra },
  });
}

/** The app:// handler for `rendererDir`. Never throws: a failure is a 404. */
export function createAppProtocolHandler(rendererDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return plain(405, 'Only GET and HEAD.\n', { allow: 'GET, HEAD' });
    const file = await resolveAppFile(rendererDir, request.url).catch(() => null);
    const body = file ? await readFile(file).catch(() => null) : null;
    if (!file || !body) return plain(404, 'Not found.\n');
    const bytes = new Uint8Array(body.buffer, body.byteOffset, body.length);
    return new Response(request.method === 'HEAD' ? null : bytes, {
      status: 200,
      headers: {
        ...COMMON_HEADERS,
        'content-type': contentType(file),
        'content-length': String(body.length),
      },
    });
  };
}
