// Gets a catalogue entry's file into the workspace: downloads it (resumable, checked by the entry's full
// SHA-256 or its published prefix, and by size when published), checks that it imports as VGG16_bn,
// and lists it in the workspace's library under the entry's id. A file already downloaded is used as it
// is. Offline, the error names the file to fetch elsewhere and how to add it. Tests (and only tests, under
// `node --test`) may point an entry at a loopback server with their own checksum.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import type { BackboneEntry } from '../../api/backbone-schemas.js';
import type { BackboneChecker, BackboneLibrary } from './backbone-library.js';
import { BACKBONE_CATALOGUE, formExtension, type CatalogueEntry } from './catalogue.js';
import { BackboneDownloadError, downloadBackbone, type DownloadOptions } from './download.js';
import { FORM_NAMES, type WeightFileForm } from '../../../models/weight-files/detect-form.js';
import { BackboneError } from './load-backbone.js';

/** A test's stand-in for an entry: another address and checksum, and the form of the file it serves. */
export type CatalogueOverride = Partial<Pick<CatalogueEntry, 'url' | 'checksum' | 'bytes' | 'form'>>;

const overrides = new Map<string, CatalogueOverride>();

/**
 * Points catalogue entry `id` elsewhere for a test; returns the undo. Refused outside Node's test runner
 * (NODE_TEST_CONTEXT), so the shipped checksums cannot be replaced at run time.
 */
export function overrideCatalogueEntryForTests(id: string, override: CatalogueOverride): () => void {
  if (!process.env.NODE_TEST_CONTEXT)
    throw new Error('Catalogue entries can be overridden only in tests run by node --test.');
  catalogueEntryOrThrow(id);
  overrides.set(id, override);
  return () => overrides.delete(id);
}

/** The entry as downloads use it (with a test's override, if any). */
export function effectiveCatalogueEntry(id: string): CatalogueEntry {
  return { ...catalogueEntryOrThrow(id), ...overrides.get(id) };
}

function catalogueEntryOrThrow(id: string): CatalogueEntry {
  const entry = BACKBONE_CATALOGUE.find((e) => e.id === id);
  if (!entry)
    throw new BackboneError(
      `"${id}" is not in the catalogue. Should be one of: ${BACKBONE_CATALOGUE.map((e) => e.id).join(', ')}.`,
    );
  return entry;
}

/** The catalogue entry whose published checksum a file of SHA-256 `sha256` matches (full hash or prefix). */
export function catalogueEntryWithHash(sha256: string): CatalogueEntry | undefined {
  return BACKBONE_CATALOGUE.map((e) => effectiveCatalogueEntry(e.id)).find((e) =>
    e.checksum.kind === 'sha256' ? e.checksum.value === sha256 : sha256.startsWith(e.checksum.value),
  );
}

/** What to tell a user who cannot download the entry here. */
export function offlineAdvice(entry: CatalogueEntry): string {
  const check =
    entry.checksum.kind === 'sha256'
      ? `its SHA-256 must be ${entry.checksum.value}`
      : `its SHA-256 starts with ${entry.checksum.value}`;
  return (
    `Fetch ${entry.fileName} (${entry.sizeLabel}) on a machine that can reach ${new URL(entry.url).host}: ${entry.url} (${check}). ` +
    `Then add it with \`attnvgg backbone add ${entry.fileName}\`, or drop it on the Models screen's backbone panel.`
  );
}

/** The library entry of catalogue entry `id`, when it was downloaded and its file is still there. */
export async function downloadedCatalogueEntry(
  library: BackboneLibrary,
  id: string,
): Promise<BackboneEntry | undefined> {
  return (await library.list()).find((b) => b.catalogueId === id && b.present);
}

/**
 * Downloads catalogue entry `id` (unless already there), checks it and lists it. Throws BackboneError
 * (unknown id, unusable file) or BackboneDownloadError, whose message then also says how to get the file
 * by hand.
 */
export async function ensureCatalogueBackbone(
  id: string,
  library: BackboneLibrary,
  check: BackboneChecker,
  options: Omit<DownloadOptions, 'workspace'> & { workspace: string },
): Promise<{ entry: BackboneEntry; downloaded: boolean }> {
  const catalogue = effectiveCatalogueEntry(id);
  const existing = await downloadedCatalogueEntry(library, id);
  if (existing) return { entry: existing, downloaded: false };
  let got;
  try {
    got = await downloadBackbone(
      {
        url: catalogue.url,
        ...(catalogue.checksum.kind === 'sha256'
          ? { sha256: catalogue.checksum.value }
          : { sha256Prefix: catalogue.checksum.value }),
        ...(catalogue.bytes !== undefined ? { bytes: catalogue.bytes } : {}),
        extension: formExtension(catalogue.form),
      },
      options,
    );
  } catch (e) {
    if (e instanceof BackboneDownloadError && !options.signal?.aborted)
      throw new BackboneDownloadError(`${e.message}\n${offlineAdvice(catalogue)}`, { cause: e });
    throw e;
  }
  const entry = await library.addDownload(got, catalogue.url, checkPublishedForm(catalogue, check), id);
  return { entry, downloaded: !got.cached };
}

/** torch's two checkpoint formats are one publication form: torch.save chose the format. */
function formFamily(form: WeightFileForm): string {
  return form === 'torch-zip' || form === 'torch-legacy' ? 'torch' : form;
}

/**
 * The check of a downloaded catalogue file, which must also be in the form the entry is published in: a
 * file of another form (a server's error page would not import; a different file served at the same
 * address might) is refused and deleted like any unusable download.
 */
function checkPublishedForm(catalogue: CatalogueEntry, check: BackboneChecker): BackboneChecker {
  return async (file) => {
    const report = await check(file);
    const form = report.backbone?.form;
    if (!report.usable || !form || formFamily(form) === formFamily(catalogue.form)) return report;
    return {
      ...report,
      usable: false,
      problem: `it is a ${FORM_NAMES[form]}, but ${catalogue.id} is published as a ${FORM_NAMES[catalogue.form]}.`,
    };
  };
}
