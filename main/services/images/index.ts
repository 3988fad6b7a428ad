// The public surface of the image module (decode, probe, normalise, errors). Must not import electron or
// anything from main/electron, main/backend, main/server, main/cli or renderer.
export {
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_PIXELS,
  RESIZE_POLICIES,
  decodeImage,
  decodeImageBytesRgb8,
  decodeImageRgb8,
  readImageFile,
  type DecodeOptions,
  type FloatImage,
  type ResizeKernel,
  type ResizePolicy,
  type Rgb8Image,
} from './decode-image.js';
export {
  IMAGE_ERROR_REASONS,
  ImageError,
  isImageError,
  type ImageErrorInfo,
  type ImageErrorReason,
} from './image-error.js';
export {
  SUPPORTED_FORMATS,
  detectFormat,
  formatName,
  type FormatGuess,
  type ImageFormat,
} from './image-format.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  denormaliseToRgb8,
  normaliseRgb8,
  type NormaliseOptions,
  type Rgb,
} from './normalise.js';
export { probeImage, type ImageProbe, type ProbeOptions } from './probe-image.js';
