// The public surface of the dataset module: scanning folders, splitting, the training input pipeline and
// Fashion-MNIST. Must not import electron or anything from main/electron, main/backend, main/server, main/cli or renderer.
export {
  augmentRgb8,
  type AugmentOptions,
  type ColourJitterOptions,
  type RandomCropOptions,
} from './augment-image.js';
export {
  createBatchStream,
  epochOrder,
  type Batch,
  type BatchItem,
  type BatchStream,
  type BatchStreamOptions,
  type SkippedFile,
} from './batch-stream.js';
export {
  DEFAULT_DECODE_CACHE_BYTES,
  createDecodeCache,
  decodeCacheKey,
  type DecodeCache,
  type DecodeCacheStats,
} from './decode-cache.js';
export { DEFAULT_IMBALANCE_RATIO } from './dataset-messages.js';
export type {
  DatasetClass,
  DatasetItem,
  DatasetMessage,
  DatasetMessageCode,
  DatasetProblem,
  DatasetScan,
  DuplicateGroup,
  ProblemReason,
  ScanProgress,
  Split,
} from './dataset-types.js';
export { SPLITS } from './dataset-types.js';
export {
  DEBIAN_FASHION_MNIST,
  FASHION_MNIST_CLASSES,
  FashionMnistError,
  loadFashionMnist,
  writeFashionMnist,
  type FashionMnistSet,
  type FashionMnistSplit,
  type FashionMnistWriteSummary,
  type LoadFashionMnistOptions,
  type WriteFashionMnistOptions,
} from './fashion-mnist.js';
export { datasetFingerprint, scanDataset, type ScanOptions } from './scan-dataset.js';
export { DEFAULT_VAL_FRACTION, splitItems, type SplitOptions, type SplittableItem } from './split-items.js';
