// Gathers the boxes find-boxes.ts reads into one answer: matches the paths a box file names to the
// dataset's pictures (relative to the dataset root, relative to the box file's own folder, or, for COCO,
// by file name when only one picture has that name), keeps the first boxes found for a picture, counts
// the pictures each source gave boxes to, and lists the files that could not be used. Must not import
// electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { basename, dirname, relative, resolve, sep } from 'node:path';
import { BoxFileError, type BoxFormat, type LabelledBox } from './box-types.js';
import type { BoxedPicture, BoxProblem, DatasetBoxes } from './find-boxes.js';

export class BoxCollector {
  readonly boxes = new Map<string, LabelledBox[]>();
  readonly sources: DatasetBoxes['sources'] = [];
  readonly problems: BoxProblem[] = [];
  /** The pictures' relative paths. */
  private readonly wanted: Set<string>;
  /** File name -> the relative paths of the pictures with that name. */
  private readonly byName = new Map<string, string[]>();

  constructor(
    private readonly root: string,
    pictures: readonly BoxedPicture[],
  ) {
    this.wanted = new Set(pictures.map((p) => p.relativePath));
    for (const p of pictures) {
      const name = basename(p.relativePath);
      this.byName.set(name, [...(this.byName.get(name) ?? []), p.relativePath]);
    }
  }

  /** Lists a file that could not be read or parsed. */
  readonly report = (error: unknown, file: string): void => {
    this.problems.push({
      file,
      message: error instanceof BoxFileError ? error.message : `${file}: ${(error as Error).message}`,
    });
  };

  /** Keeps the boxes `file` gives pictures that have none yet, and counts it as a source if it gave any. */
  take(format: BoxFormat, file: string, found: Map<string, LabelledBox[]>, byFileName: boolean): void {
    let taken = 0;
    for (const [path, list] of found) {
      const key = this.pictureOf(path, file, byFileName);
      if (!this.wanted.has(key) || this.boxes.has(key) || list.length === 0) continue;
      this.boxes.set(key, list);
      taken++;
    }
    if (taken > 0) this.sources.push({ format, file, pictures: taken });
  }

  /** The picture a box file's path names (a relative path of the dataset when one matches). */
  private pictureOf(path: string, file: string, byFileName: boolean): string {
    let key = path.replace(/^\.\//, '');
    if (!this.wanted.has(key)) {
      // A path relative to the box file's own folder (a file given from elsewhere, e.g. the dataset
      // root's boxes.json used for its test/ folder).
      const fromFile = relative(this.root, resolve(dirname(file), key))
        .split(sep)
        .join('/');
      if (this.wanted.has(fromFile)) key = fromFile;
    }
    if (!this.wanted.has(key) && byFileName) {
      const same = this.byName.get(basename(key));
      if (same?.length === 1) key = same[0];
    }
    return key;
  }

  result(): DatasetBoxes {
    return { boxes: this.boxes, sources: this.sources, problems: this.problems };
  }
}
