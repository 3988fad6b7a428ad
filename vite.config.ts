// Builds the renderer (Svelte 5) into dist/renderer with relative asset paths, so the same files load
// from the browser-mode server and from Electron's file:// page. Inline scripts are avoided: the pages
// run under a strict Content-Security-Policy (script-src 'self').
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [svelte({ configFile: '../svelte.config.js' })],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
  },
});
