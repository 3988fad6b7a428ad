// Writes a file so that readers see either the old content or the whole new content, never a part:
// write to a temporary name in the same folder, then rename over the target (atomic on one file system).
// No fsync: this is for bulk dataset files (tens of thousands of PNGs, which a re-run can rewrite), where
// flushing each one would cost minutes; run state that must survive a crash uses storage/atomic-write.
// Must not import electron or anything from main/electron, main/server, main/cli or renderer.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  // Hidden temporary name: a dataset scan that runs meanwhile skips it as a hidden file.
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
