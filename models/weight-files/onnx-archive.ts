// Takes the ONNX file out of a .tar.gz archive as the ONNX Model Zoo ships them (vgg16-bn-7.tar.gz holds
// vgg16-bn/vgg16-bn.onnx beside test_data_set_* folders), streaming: the compressed bytes are inflated
// with node:zlib and parsed by node-tar's Parser (a maintained streaming tar reader) as they come, and
// only the one .onnx member is kept, in a buffer of its declared size. Nothing is written to disk, so
// member names (even `../x`) cannot place anything; links and other members are skipped. The total
// inflated size is capped so a gzip bomb stops early.

import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { WeightFileError } from './errors.js';

export interface OnnxArchiveOptions {
  /** Largest ONNX member accepted (default 2 GiB - 1, protobuf's limit). */
  maxOnnxBytes?: number;
  /** Largest total the archive may inflate to (default 8 GiB). */
  maxInflatedBytes?: number;
}

export interface ArchivedOnnx {
  /** The member's path inside the archive. */
  name: string;
  bytes: Uint8Array;
  /** The archive's other members (test data, READMEs), skipped. */
  skipped: string[];
}

/** True when the first bytes are a gzip header. */
export function looksLikeGzip(head: Uint8Array): boolean {
  return head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Reads the single `.onnx` member of a gzip-compressed tar archive from `chunks`. Throws WeightFileError
 * when the archive is damaged, holds no or several ONNX files, or inflates beyond the limits.
 */
export async function readOnnxFromTarGz(
  chunks: AsyncIterable<Uint8Array>,
  options: OnnxArchiveOptions = {},
): Promise<ArchivedOnnx> {
  const maxOnnx = options.maxOnnxBytes ?? 2 ** 31 - 1;
  const maxInflated = options.maxInflatedBytes ?? 8 * 2 ** 30;
  const found: ArchivedOnnx[] = [];
  const skipped: string[] = [];
  let failure: WeightFileError | undefined;
  const fail = (e: WeightFileError) => {
    failure ??= e;
  };

  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const name = entry.path;
      if (entry.type !== 'File' || !name.toLowerCase().endsWith('.onnx') || failure) {
        skipped.push(name);
        entry.resume();
        return;
      }
      if (entry.size > maxOnnx) {
        fail(
          new WeightFileError(
            'unsupported',
            `${name} in the archive is ${entry.size} bytes; at most ${maxOnnx} are read.`,
          ),
        );
        entry.resume();
        return;
      }
      const bytes = new Uint8Array(entry.size);
      let at = 0;
      entry.on('data', (chunk: Buffer) => {
        if (at + chunk.length > bytes.length) {
          fail(new WeightFileError('malformed', `${name} in the archive is longer than its header says.`));
          return;
        }
        bytes.set(chunk, at);
        at += chunk.length;
      });
      entry.on('end', () => {
        if (at !== bytes.length)
          fail(
            new WeightFileError(
              'malformed',
              `${name} in the archive ends after ${at} of ${bytes.length} bytes.`,
            ),
          );
        else found.push({ name, bytes, skipped });
      });
    },
  });
  parser.on('warn', (code: string, message: string | Error) => {
    fail(new WeightFileError('malformed', `The tar archive is damaged: ${code} ${String(message)}`));
  });
  parser.on('error', (e: Error) =>
    fail(new WeightFileError('malformed', `The tar archive is damaged: ${e.message}`)),
  );
  const ended = once(parser, 'end').catch(() => undefined);

  const gunzip = createGunzip();
  let inflated = 0;
  const feed = (async () => {
    for await (const chunk of chunks) {
      if (!gunzip.write(chunk)) await once(gunzip, 'drain');
      if (failure) break;
    }
    gunzip.end();
  })();
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      if (inflated > maxInflated)
        throw new WeightFileError(
          'unsupported',
          `The archive inflates to more than ${maxInflated} bytes: refused (a model archive is far smaller).`,
        );
      parser.write(chunk);
      if (failure) break;
    }
    await feed;
  } catch (e) {
    gunzip.destroy();
    await feed.catch(() => undefined);
    if (e instanceof WeightFileError) throw e;
    throw new WeightFileError(
      'malformed',
      `The .tar.gz archive cannot be inflated: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (failure) throw failure;
  parser.end();
  await ended;
  if (failure) throw failure;
  if (found.length === 0)
    throw new WeightFileError(
      'mismatch',
      `The archive holds no ONNX file (members: ${skipped.slice(0, 5).join(', ') || 'none'}).`,
    );
  if (found.length > 1)
    throw new WeightFileError(
      'unsupported',
      `The archive holds ${found.length} ONNX files (${found.map((f) => f.name).join(', ')}); one was expected.`,
    );
  return found[0];
}
