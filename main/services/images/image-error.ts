// The one error type of the image module: a reason code the code can switch on and a message in plain words
// that tells the user what is wrong with the file and what to do. Must not import electron or anything from
// main/electron, main/backend, main/server, main/cli or renderer.

/** Why an image could not be used. */
export type ImageErrorReason =
  | 'empty' // zero bytes
  | 'truncated' // the file ends early
  | 'not-an-image' // content is not an image at all (text, PDF, archive, ...)
  | 'unsupported-format' // an image, but in a format the app does not read (HEIC, SVG, RLE BMP, ...)
  | 'too-large' // width x height over the pixel limit
  | 'unreadable' // the OS refused to read it (permissions, it is a folder, ...)
  | 'missing' // the file is gone (moved or deleted after the scan)
  | 'corrupt'; // the decoder rejected the content for another reason

export const IMAGE_ERROR_REASONS: readonly ImageErrorReason[] = [
  'empty',
  'truncated',
  'not-an-image',
  'unsupported-format',
  'too-large',
  'unreadable',
  'missing',
  'corrupt',
];

/** The JSON form of an ImageError (what the UI and the scan report carry). */
export interface ImageErrorInfo {
  reason: ImageErrorReason;
  message: string;
  path?: string;
}

export class ImageError extends Error {
  override readonly name = 'ImageError';
  readonly reason: ImageErrorReason;
  /** The file concerned, when there is one. */
  readonly path: string | undefined;
  /** The decoder's or the OS's own words, for --debug output; the message is the user-facing text. */
  readonly detail: string | undefined;

  constructor(reason: ImageErrorReason, message: string, options: { path?: string; detail?: string } = {}) {
    super(message);
    this.reason = reason;
    this.path = options.path;
    this.detail = options.detail;
  }

  toJSON(): ImageErrorInfo {
    return this.path === undefined
      ? { reason: this.reason, message: this.message }
      : { reason: this.reason, message: this.message, path: this.path };
  }
}

export function isImageError(value: unknown): value is ImageError {
  return value instanceof ImageError;
}

/**
 * What a failure to prepare one image was, for a skip report: an ImageError's own reason and words;
 * anything else counts as a corrupt image, with the error's words.
 */
export function imageFailureInfo(error: unknown, path: string): ImageErrorInfo {
  if (error instanceof ImageError) return error.toJSON();
  return { reason: 'corrupt', message: `The image could not be prepared (${String(error)}).`, path };
}

/** Turns an error from the file system (fs.promises) into an ImageError; anything else is re-thrown. */
export function imageErrorFromFileSystem(error: unknown, path: string): ImageError {
  if (error instanceof ImageError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'ENOENT':
      return new ImageError(
        'missing',
        'The file is gone: it was moved or deleted after the folder was scanned. Scan the folder again.',
        { path, detail },
      );
    case 'EACCES':
    case 'EPERM':
      return new ImageError(
        'unreadable',
        'The file cannot be read: permission denied. Give your user read access to it, or remove it.',
        { path, detail },
      );
    case 'EISDIR':
      return new ImageError('unreadable', 'This is a folder, not an image file.', { path, detail });
    case 'ELOOP':
      return new ImageError('unreadable', 'This link points to itself (a symbolic-link loop).', {
        path,
        detail,
      });
    case 'EIO':
    case 'EBUSY':
    case 'EAGAIN':
      return new ImageError(
        'unreadable',
        'The file cannot be read right now (input/output error). Check the disk or network drive.',
        { path, detail },
      );
    default:
      if (code !== undefined) {
        return new ImageError('unreadable', `The file cannot be read (${code}).`, { path, detail });
      }
      throw error;
  }
}
