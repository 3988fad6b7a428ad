// electron-builder.yml must keep every native addon, shared library and .wasm file of the production
// dependencies out of the asar archive (they cannot be loaded from inside it), and must ship the built
// app. Reads the installed node_modules, so a new native dependency fails here until it is covered.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, matchesGlob } from 'node:path';
import { test } from 'node:test';

const NATIVE = /\.(node|so(\.\d+)*|dll|dylib|wasm)$/;

function listField(yaml: string, field: string): string[] {
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${field}:`));
  assert.ok(start >= 0, `electron-builder.yml has ${field}`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+-\s+'?([^']+?)'?\s*$/.exec(line);
    if (!m) break;
    out.push(m[1]);
  }
  return out;
}

/** Production dependencies, with theirs, as installed (hoisted layout). */
function productionPackages(): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name) || !existsSync(join('node_modules', name, 'package.json'))) return;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep);
  };
  const root = JSON.parse(readFileSync('package.json', 'utf8')) as {
    dependencies: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  for (const dep of Object.keys({ ...root.dependencies, ...root.optionalDependencies })) visit(dep);
  return [...seen];
}

function nativeFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) continue;
    if (info.isDirectory()) nativeFiles(path, out);
    else if (NATIVE.test(name)) out.push(path.split('\\').join('/'));
  }
  return out;
}

test('every native or wasm file of the production dependencies is unpacked from the asar', () => {
  const yaml = readFileSync('electron-builder.yml', 'utf8');
  const unpack = listField(yaml, 'asarUnpack');
  const files = productionPackages().flatMap((pkg) => nativeFiles(join('node_modules', pkg)));
  assert.ok(
    files.some((f) => f.includes('sharp')),
    'sharp brings a native addon',
  );
  assert.ok(
    files.some((f) => f.includes('onnxruntime')),
    'onnxruntime-node brings a native addon',
  );
  assert.ok(
    files.some((f) => f.endsWith('.wasm')),
    'the wasm backend brings .wasm files',
  );
  const uncovered = files.filter((f) => !unpack.some((pattern) => matchesGlob(f, pattern)));
  assert.deepEqual(uncovered, []);
});

test('the package ships the compiled app and the built renderer, and names every target', () => {
  const yaml = readFileSync('electron-builder.yml', 'utf8');
  assert.ok(listField(yaml, 'files').includes('dist/**/*'));
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { main: string };
  assert.equal(
    pkg.main,
    'dist/main/electron/app.js',
    'the main process is the compiled main/electron/app.ts',
  );
  for (const target of ['AppImage', 'deb', 'nsis', 'dmg']) assert.match(yaml, new RegExp(`- ${target}\\b`));
  assert.match(yaml, /^asar: true$/m);
});

/** The `key: value` lines of a top-level mapping block of the YAML file. */
function mapField(yaml: string, field: string): Record<string, string> {
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${field}:`));
  assert.ok(start >= 0, `electron-builder.yml has ${field}`);
  const out: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const m = /^\s+([A-Za-z]+):\s*(\S+)\s*$/.exec(line);
    if (!m) break;
    out[m[1]] = m[2];
  }
  return out;
}

test('the packaged Electron binary has its fuses set: no Node mode, no inspector, asar only and checked', () => {
  const fuses = mapField(readFileSync('electron-builder.yml', 'utf8'), 'electronFuses');
  assert.deepEqual(fuses, {
    runAsNode: 'false',
    enableNodeOptionsEnvironmentVariable: 'false',
    enableNodeCliInspectArguments: 'false',
    enableEmbeddedAsarIntegrityValidation: 'true',
    onlyLoadAppFromAsar: 'true',
    enableCookieEncryption: 'true',
    grantFileProtocolExtraPrivileges: 'false',
  });
  // The names are electron-builder's own (a misspelt key would be an error at packaging time only).
  const schema = JSON.parse(readFileSync('node_modules/app-builder-lib/scheme.json', 'utf8')) as {
    definitions: { FuseOptionsV1: { properties: Record<string, { type: string }> } };
    properties: { electronFuses: unknown };
  };
  const known = schema.definitions.FuseOptionsV1.properties;
  for (const key of Object.keys(fuses)) assert.equal(known[key]?.type, 'boolean', `${key} is a fuse option`);
  assert.ok(schema.properties.electronFuses, 'electronFuses is a top-level option');
});
