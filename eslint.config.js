// Lint rules, including the layering of docs/architecture.md: imports point down only
// (renderer -> api; electron/cli -> server -> backend -> services -> models), and only main/electron
// imports Electron.
import { builtinModules } from 'node:module';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

const electronOnly = { name: 'electron', message: 'Only main/electron may import Electron.' };
const upward = (...layers) =>
  layers.map((layer) => ({
    group: [`**/${layer}/**`, `**/${layer}`],
    message: `Imports point down: no ${layer}/ here.`,
  }));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'models/onnx/generated/**', 'test/.cache/**', 'bench/out/**'] },
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    // Svelte components: their <script lang="ts"> is TypeScript, checked with the renderer's rules below.
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Hand-written code reads in screens: a function longer than about 120 lines is cut into named phases.
    files: [
      'main/**/*.ts',
      'models/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      'scripts/**/*.mjs',
      'renderer/**/*.ts',
      'renderer/**/*.svelte',
    ],
    rules: {
      'max-lines-per-function': [
        'error',
        { max: 120, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
    },
  },
  {
    files: ['models/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnly], patterns: upward('main', 'renderer') }],
    },
  },
  {
    // models/onnx sits below models/onnx-train, but its exporter writes the inference graph with the
    // training graph's forward pass (onnx-train/forward.ts) and graph writer: only those two may be imported.
    files: ['models/onnx/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronOnly],
          patterns: [
            ...upward('main', 'renderer'),
            {
              group: ['**/onnx-train/*', '!**/onnx-train/forward.js', '!**/onnx-train/graph-writer.js'],
              message: 'models/onnx imports only forward.ts and graph-writer.ts of models/onnx-train.',
            },
          ],
        },
      ],
    },
  },
  {
    // What models/onnx/export.ts imports from onnx-train writes graphs only: no runtime, no exporter (a cycle).
    files: ['models/onnx-train/{forward,graph-writer,tape,layers,attention}.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronOnly, { name: 'onnxruntime-node', message: 'Graph writing needs no runtime.' }],
          patterns: [
            ...upward('main', 'renderer'),
            {
              group: ['**/onnx/export.js', '**/onnx/session.js', '**/trainer.js', '**/train-session.js'],
              message:
                'The graph-writing modules that models/onnx/export.ts uses import no runtime and no exporter.',
            },
          ],
        },
      ],
    },
  },
  {
    // The services orchestrate; the ML (TensorFlow.js, onnxruntime) lives in models/ behind its functions.
    files: ['main/services/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            electronOnly,
            { name: 'onnxruntime-node', message: 'onnxruntime is used in models/ only: call its functions.' },
          ],
          patterns: [
            ...upward('electron', 'backend', 'server', 'cli', 'renderer'),
            {
              group: ['@tensorflow/*'],
              message: 'TensorFlow.js is used in models/ only: call its functions.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['main/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronOnly],
          patterns: upward('electron', 'backend', 'server', 'cli', 'services', 'renderer', 'models'),
        },
      ],
    },
  },
  {
    // The API backend (handlers, workspace), whatever the transport: no transport of its own.
    files: ['main/backend/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [electronOnly], patterns: upward('electron', 'server', 'cli', 'renderer') },
      ],
    },
  },
  {
    files: ['main/server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [electronOnly], patterns: upward('electron', 'cli', 'renderer') },
      ],
    },
  },
  {
    files: ['main/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronOnly], patterns: upward('electron', 'renderer') }],
    },
  },
  {
    // The only importer of Electron; it sits on backend/ (the API), server/ (the pages' policies) and below.
    files: ['main/electron/**/*.ts', 'main/electron/**/*.cts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: upward('renderer', 'cli') }],
    },
  },
  {
    // The renderer runs in a sandboxed page: no Node, no Electron, nothing of main/ but the API contract.
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'The renderer never imports Electron: use the API client.' },
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'The renderer runs in a web page: no Node modules.',
            })),
          ],
          patterns: [
            { group: ['node:*'], message: 'The renderer runs in a web page: no Node modules.' },
            ...upward('electron', 'server', 'cli', 'services', 'models'),
          ],
        },
      ],
    },
  },
);
