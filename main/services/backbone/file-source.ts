// A ByteSource (models/weight-files/byte-source.ts) over an open file: the weight-file readers ask for
// the ranges they need, so a 528 MB checkpoint is read tensor by tensor, never whole.
// Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { open } from 'node:fs/promises';
import { checkRange, type ByteSource } from '../../../models/weight-files/byte-source.js';

/** Opens `file`, hands `use` a ByteSource over it, and closes the file whatever happens. */
export async function withFileSource<T>(file: string, use: (source: ByteSource) => Promise<T>): Promise<T> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const source: ByteSource = {
      size,
      async read(offset, length) {
        checkRange(size, offset, length);
        const out = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await handle.read(out, got, length - got, offset + got);
          if (bytesRead === 0) throw new Error(`the file ended at byte ${offset + got} while reading`);
          got += bytesRead;
        }
        return out;
      },
    };
    return await use(source);
  } finally {
    await handle.close();
  }
}
