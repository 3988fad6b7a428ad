// Maps the tensors of a torchvision-style VGG16_bn state_dict (from a .pth in either torch format, or a
// safetensors copy) onto the model spec's 78 `features.*` tensors: 13 x conv weight and bias, BatchNorm
// weight, bias, running mean and running variance, BatchNorm kept as it is. Names and shapes are checked
// against VGG16_bn's layout at the file's width before any tensor is read; the classifier and the
// `num_batches_tracked` counters are listed as skipped and never read. A `module.` prefix (DataParallel)
// is accepted. Pure: lazy tensors in, weights out.

import { channels, convLayers } from '../core/spec.js';
import type { Weights } from '../core/weights.js';
import { widthMismatchMessage } from '../onnx/backbone-import.js';
import { WeightFileError } from './errors.js';
import type { LazyTensor, TensorFile } from './lazy-tensor.js';

/** The `features.*` tensors of VGG16_bn at `width`, in layer order, with their PyTorch shapes. */
export function vggFeatureTensors(width: number): { name: string; shape: number[] }[] {
  return convLayers({ width }).flatMap((c) => {
    const conv = `features.${c.featuresIndex}`;
    const bn = `features.${c.featuresIndex + 1}`;
    const o = c.outChannels;
    return [
      { name: `${conv}.weight`, shape: [o, c.inChannels, 3, 3] },
      { name: `${conv}.bias`, shape: [o] },
      { name: `${bn}.weight`, shape: [o] },
      { name: `${bn}.bias`, shape: [o] },
      { name: `${bn}.running_mean`, shape: [o] },
      { name: `${bn}.running_var`, shape: [o] },
    ];
  });
}

export interface ImportedStateDict {
  width: number;
  /** The 78 `features.*` tensors. */
  weights: Weights;
  /** Tensor names present in the file and not imported (classifier, num_batches_tracked ...). */
  skipped: string[];
  /** What follows the conv stack, for the report: "classifier.* (6 tensors)". */
  classifier: string;
}

function stripPrefix(tensors: Map<string, LazyTensor>): Map<string, LazyTensor> {
  const names = [...tensors.keys()];
  if (names.length === 0 || !names.every((n) => n.startsWith('module.'))) return tensors;
  return new Map([...tensors].map(([n, t]) => [n.slice('module.'.length), t]));
}

const mismatch = (message: string) => new WeightFileError('mismatch', message);

/** The file's width, read off conv 13 (features.40.weight) as the ONNX import does. */
function fileWidth(tensors: Map<string, LazyTensor>, format: string): number {
  const first = tensors.get('features.0.weight');
  if (!first) {
    const sample = [...tensors.keys()].slice(0, 4).join(', ');
    throw mismatch(
      `The ${format} holds no torchvision VGG features (no features.0.weight; its tensors are named like ${sample || 'nothing'}).`,
    );
  }
  const second = tensors.get('features.1.weight');
  const next = tensors.get('features.2.weight');
  if (!second && next?.shape.length === 4)
    throw mismatch(
      `The ${format} holds VGG without BatchNorm (torchvision's vgg16, features.2 is a conv); VGG16_bn (vgg16_bn) is needed.`,
    );
  const conv13 = tensors.get('features.40.weight');
  if (!conv13 || conv13.shape.length !== 4)
    throw mismatch(`The ${format} is not VGG16_bn: it has no 13th conv layer (features.40.weight).`);
  const width = conv13.shape[0] / 512;
  if (!(width > 0) || channels({ width }, 512) !== conv13.shape[0])
    throw mismatch(`Conv 13 has ${conv13.shape[0]} channels, which is no VGG16_bn width.`);
  return width;
}

/**
 * Picks VGG16_bn's 78 `features.*` tensors out of a state_dict and reads them (float32). `width`, if
 * given, is the model spec's width the file must have. Throws WeightFileError 'mismatch' naming the
 * tensor and the expected and found shapes when the file is not VGG16_bn.
 */
export async function importVggStateDict(
  file: TensorFile,
  options: { width?: number } = {},
): Promise<ImportedStateDict> {
  const tensors = stripPrefix(file.tensors);
  const width = fileWidth(tensors, file.format);
  if (options.width !== undefined && options.width !== width)
    throw mismatch(widthMismatchMessage(width, options.width));
  const expected = vggFeatureTensors(width);
  const wanted = new Set(expected.map((e) => e.name));
  for (const { name, shape } of expected) {
    const t = tensors.get(name);
    if (!t) throw mismatch(`The ${file.format} has no ${name}: it is not VGG16_bn with BatchNorm.`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw mismatch(
        `${name} has shape [${t.shape.join(',')}]; VGG16_bn at width ${width} expects [${shape.join(',')}].`,
      );
    if (!t.dtype.startsWith('float') && t.dtype !== 'bfloat16')
      throw mismatch(`${name} is ${t.dtype}; weights must be floating point.`);
  }
  const extraConv = [...tensors].find(
    ([n, t]) => n.startsWith('features.') && n.endsWith('.weight') && t.shape.length === 4 && !wanted.has(n),
  );
  if (extraConv)
    throw mismatch(
      `The ${file.format} has a conv layer beyond VGG16_bn's 13 (${extraConv[0]}): VGG19_bn or another network?`,
    );
  const weights: Weights = new Map();
  for (const { name, shape } of expected) weights.set(name, { shape, data: await tensors.get(name)!.read() });
  const skipped = [...tensors.keys()].filter((n) => !wanted.has(n));
  const head = skipped.filter((n) => !n.startsWith('features.'));
  return {
    width,
    weights,
    skipped: [...skipped, ...file.other],
    classifier:
      head.length === 0
        ? 'nothing'
        : `${[...new Set(head.map((n) => n.split('.')[0]))].join(', ')} (${head.length} tensors)`,
  };
}
