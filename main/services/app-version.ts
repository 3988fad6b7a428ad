// The app's version, from package.json, for provenance in run records and model sidecars.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function readVersion(): string {
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'attnvgg' && pkg.version) return pkg.version;
    } catch {
      // try the next location (sources vs. dist/)
    }
  }
  return '0.0.0';
}

export const APP_VERSION = readVersion();
