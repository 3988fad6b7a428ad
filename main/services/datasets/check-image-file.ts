// Checks one file of a dataset: hashes it by streaming (SHA-256), then validates it as an image from its
// header (and optionally by a full decode). Never throws for a bad file: the reason comes back as a value.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
import { ImageError, type ImageErrorReason } from '../images/image-error.js';
import type { ImageFormat } from '../images/image-format.js';
import { probeImage } from '../images/probe-image.js';
import { hashFile } from './hash-file.js';

export type FileCheck =
  | { ok: true; sha256: string; bytes: number; format: ImageFormat; width: number; height: number }
  | { ok: false; reason: ImageErrorReason; message: string };

export interface CheckOptions {
  maxPixels?: number;
  fullDecode?: boolean;
}

export async function checkImageFile(path: string, options: CheckOptions = {}): Promise<FileCheck> {
  try {
    const digest = await hashFile(path);
    const probe = await probeImage(path, {
      head: digest.head,
      tail: digest.tail,
      fileSize: digest.bytes,
      content: digest.content,
      maxPixels: options.maxPixels,
      fullDecode: options.fullDecode,
    });
    return {
      ok: true,
      sha256: digest.sha256,
      bytes: digest.bytes,
      format: probe.format,
      width: probe.width,
      height: probe.height,
    };
  } catch (error) {
    if (error instanceof ImageError) return { ok: false, reason: error.reason, message: error.message };
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: 'corrupt', message: `The file could not be checked (${detail}).` };
  }
}
