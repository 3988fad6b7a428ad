// The file-system ExternalDataSource: reads external tensor data from files inside one model folder,
// after resolving symbolic links, so neither "..", an absolute path nor a link can lead outside it.
// The one module of models/onnx that opens files (reading a model's own data files is part of reading
// the model); imports node:fs and node:path, nothing from main/ or electron.

import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { describeError, OnnxError } from './errors.js';
import { safeRelativeLocation, type ExternalDataRef, type ExternalDataSource } from './external-data.js';

export function folderExternalData(modelFolder: string): ExternalDataSource {
  return {
    read(ref: ExternalDataRef): Uint8Array {
      const location = safeRelativeLocation(ref.location);
      let folder: string;
      let path: string;
      try {
        folder = realpathSync(modelFolder);
        path = realpathSync(join(folder, location));
      } catch (e) {
        throw new OnnxError(
          'external-data',
          `The weights file "${location}" next to the model cannot be found: ${describeError(e)}`,
          { cause: e },
        );
      }
      const rel = relative(folder, path);
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
        throw new OnnxError(
          'external-data',
          `The weights file "${location}" links to a place outside the model's folder; refusing to read it.`,
        );
      let fd: number;
      try {
        // Non-blocking open: a named pipe put in place of a weights file would otherwise wait forever
        // for a writer. (O_NONBLOCK is undefined on Windows, where pipes are not files in a folder.)
        fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
      } catch (e) {
        throw new OnnxError(
          'external-data',
          `The weights file "${location}" cannot be opened: ${describeError(e)}`,
          {
            cause: e,
          },
        );
      }
      try {
        const info = fstatSync(fd);
        if (!info.isFile())
          throw new OnnxError(
            'external-data',
            `The weights file "${location}" is not a regular file (a folder, pipe or device); refusing to read it.`,
          );
        const size = info.size;
        const length = ref.length ?? size - ref.offset;
        if (ref.offset > size || length < 0 || ref.offset + length > size)
          throw new OnnxError(
            'external-data',
            `The weights file "${location}" has ${size} bytes, but the model asks for bytes ${ref.offset} to ${ref.offset + (ref.length ?? 0)}.`,
          );
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, out, done, length - done, ref.offset + done);
          if (n === 0) throw new OnnxError('external-data', `The weights file "${location}" ended early.`);
          done += n;
        }
        return out;
      } finally {
        closeSync(fd);
      }
    },
  };
}
