// Where the built renderer (Vite's output) is: dist/renderer at the project root, found from this
// module's place both in the sources (main/server) and in the compiled app (dist/main/server, where
// Electron finds it too). A folder counts only when it holds a *built* renderer: an index.html whose
// scripts are files beside it, none under src/ and none TypeScript or Svelte. The sources' own
// renderer/index.html (which loads /src/main.ts) is never served: a browser refuses it and shows a blank
// page. Must not import electron or renderer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `src` of each <script> of a page. */
function scriptSources(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1] ?? '');
}

/** Whether `dir` holds a built renderer: its page loads only built scripts that exist beside it. */
export function isBuiltRenderer(dir: string): boolean {
  let html: string;
  try {
    html = readFileSync(join(dir, 'index.html'), 'utf8');
  } catch {
    return false;
  }
  const scripts = scriptSources(html);
  return (
    scripts.length > 0 &&
    scripts.every((src) => {
      const path = src.replace(/^\.?\//, '');
      return (
        !/^[a-z]+:/i.test(src) &&
        !/(^|\/)src\//.test(path) &&
        !/\.(ts|svelte)$/i.test(path) &&
        existsSync(join(dir, path))
      );
    })
  );
}

/** The built renderer's folder, or null. `moduleUrl` is where to look from (tests pass another tree's). */
export function findRendererDir(moduleUrl: string = import.meta.url): string | null {
  const candidates = [
    new URL('../../dist/renderer/', moduleUrl), // main/server/*.ts
    new URL('../../renderer/', moduleUrl), // dist/main/server/*.js
  ].map((u) => fileURLToPath(u));
  return candidates.find(isBuiltRenderer) ?? null;
}

export const RENDERER_MISSING =
  "The app's pages are not built yet: run `npm run build:renderer` (or `npm start`, which builds them) first.";
