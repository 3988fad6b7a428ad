// Where the built renderer (Vite's output) is: dist/renderer at the project root, found from this
// module's place both in the sources (main/server) and in the compiled app (dist/main/server).
// Must not import electron or renderer.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function findRendererDir(): string | null {
  const candidates = [
    new URL('../../dist/renderer/', import.meta.url), // main/server/*.ts
    new URL('../../renderer/', import.meta.url), // dist/main/server/*.js
  ].map((u) => fileURLToPath(u));
  return candidates.find((dir) => existsSync(`${dir}index.html`)) ?? null;
}

export const RENDERER_MISSING =
  "The app's pages are not built yet: run `npm run build:renderer` (or `npm start`, which builds them) first.";
