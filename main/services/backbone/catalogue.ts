// The built-in catalogue of ImageNet VGG16_bn weights the app can download in one click: where each file
// lives, how big it is, how it is checked, its licence and form, the top-1 accuracy its publisher states,
// and the preprocessing its weights were trained with (which the run and the export sidecar then use, so
// training and classification cannot drift). Every address and checksum is taken from the publishers'
// own records (cited per entry); none is made up. Pure data and functions: no I/O, safe to import from
// anywhere on the Node side (the desktop window's openExternal allowlist uses `CATALOGUE_HOSTS`).

import type { WeightFileForm } from '../../../models/weight-files/detect-form.js';

/** How a downloaded file is checked: a full SHA-256, or only the prefix the publisher's tools check. */
export type CatalogueChecksum = { kind: 'sha256'; value: string } | { kind: 'sha256-prefix'; value: string };

/** What an image must look like for the weights: RGB in [0, 1], then (x - mean) / std, at inputSize. */
export interface CataloguePreprocessing {
  channels: 'RGB';
  mean: [number, number, number];
  std: [number, number, number];
  /** The input size the weights were trained and evaluated at, in pixels. */
  inputSize: number;
  /** Where this is stated. */
  source: string;
}

export interface CatalogueEntry {
  /** Stable id for the CLI and the API: `attnvgg backbone download torchvision-vgg16bn`. */
  id: string;
  /** "ImageNet VGG16_bn (torchvision)". */
  title: string;
  /** Who publishes the file. */
  publisher: string;
  url: string;
  /** The file's name as published. */
  fileName: string;
  /** Exact size in bytes when published; otherwise undefined and `sizeLabel` says what is known. */
  bytes?: number;
  /** The size as the publisher states it, for display ("528 MB"). */
  sizeLabel: string;
  checksum: CatalogueChecksum;
  /** Where the checksum (and exact size) is recorded. */
  checksumSource: string;
  licence: string;
  form: WeightFileForm;
  /** ImageNet-1k validation top-1 accuracy in %, as published, and where. */
  top1: number;
  top1Source: string;
  preprocessing: CataloguePreprocessing;
  /** Anything a user should know before choosing it. */
  note?: string;
}

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export const BACKBONE_CATALOGUE: readonly CatalogueEntry[] = Object.freeze([
  {
    id: 'torchvision-vgg16bn',
    title: 'ImageNet VGG16_bn (torchvision)',
    publisher: 'torchvision (PyTorch)',
    url: 'https://download.pytorch.org/models/vgg16_bn-6c64b313.pth',
    fileName: 'vgg16_bn-6c64b313.pth',
    sizeLabel: '528 MB',
    // torch.hub's check_hash compares the SHA-256's first digits with the hash in the file name; no full
    // hash of this file is published by torchvision.
    checksum: { kind: 'sha256-prefix', value: '6c64b313' },
    checksumSource: 'the file name, as torch.hub.load_state_dict_from_url(check_hash=True) checks it',
    licence: 'BSD-3-Clause (torchvision); trained on ImageNet-1k, whose terms restrict use to research',
    form: 'torch-legacy',
    top1: 73.36,
    top1Source: 'torchvision VGG16_BN_Weights.IMAGENET1K_V1 (acc@1 73.360, acc@5 91.516)',
    preprocessing: {
      channels: 'RGB',
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      inputSize: 224,
      source:
        'torchvision ImageClassification(crop_size=224): resize 256, centre crop 224, ImageNet mean/std',
    },
  },
  {
    id: 'onnx-model-zoo-vgg16bn-7',
    title: 'ImageNet VGG16_bn (ONNX Model Zoo, from MXNet Gluon)',
    publisher: 'ONNX Model Zoo',
    url: 'https://github.com/onnx/models/raw/main/validated/vision/classification/vgg/model/vgg16-bn-7.tar.gz',
    fileName: 'vgg16-bn-7.tar.gz',
    bytes: 512_894_836,
    sizeLabel: '490 MB',
    checksum: { kind: 'sha256', value: '143e59ca3000cc3b461cfe09d4c62a93bb5e9f7a0c4e5db0010e1a525fdd50bd' },
    checksumSource:
      'the git-LFS pointer of validated/vision/classification/vgg/model/vgg16-bn-7.tar.gz in github.com/onnx/models',
    licence: 'Apache-2.0 (ONNX Model Zoo)',
    form: 'onnx-tar-gz',
    top1: 72.71,
    top1Source: 'onnx/models validated/vision/classification/vgg/README.md (top-1 72.71, top-5 91.21)',
    preprocessing: {
      channels: 'RGB',
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      inputSize: 224,
      source:
        'onnx/models vgg README: RGB in [0, 1], mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225], at least 224 px',
    },
    note: 'The archive (490 MB) holds the 528 MB ONNX file and sample test data; it is read from the archive each time.',
  },
  {
    id: 'timm-vgg16bn-tv-in1k',
    title: 'ImageNet VGG16_bn (timm copy of torchvision, safetensors)',
    publisher: 'timm on Hugging Face',
    url: 'https://huggingface.co/timm/vgg16_bn.tv_in1k/resolve/e00c01e7cee168262dcba6428dc4a8f41e27e965/model.safetensors',
    fileName: 'model.safetensors',
    sizeLabel: '554 MB',
    checksum: { kind: 'sha256', value: '88bbedbc8e780413736db38ac4efd41b06fc0e93fd5b8879b584bba63a950129' },
    checksumSource:
      'the Git LFS details of model.safetensors at commit e00c01e7cee168262dcba6428dc4a8f41e27e965 of huggingface.co/timm/vgg16_bn.tv_in1k',
    licence: 'BSD-3-Clause (model card of timm/vgg16_bn.tv_in1k)',
    form: 'safetensors',
    top1: 73.36,
    top1Source:
      "the torchvision weights it copies (the model card calls them 'original torchvision weights')",
    preprocessing: {
      channels: 'RGB',
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      inputSize: 224,
      source: 'timm vgg16_bn.tv_in1k model card: image size 224, ImageNet mean/std',
    },
  },
] satisfies CatalogueEntry[]);

/** The catalogue entry a user means by `id`. */
export function catalogueEntry(id: string): CatalogueEntry | undefined {
  return BACKBONE_CATALOGUE.find((e) => e.id === id);
}

/** The hosts of the catalogue's addresses (where the app may send a user to fetch a file by hand). */
export const CATALOGUE_HOSTS: ReadonlySet<string> = new Set(
  BACKBONE_CATALOGUE.map((e) => new URL(e.url).host),
);

/** The file extension a downloaded file of `form` is cached under. */
export function formExtension(form: WeightFileForm): string {
  return {
    onnx: '.onnx',
    'onnx-tar-gz': '.tar.gz',
    'torch-zip': '.pth',
    'torch-legacy': '.pth',
    safetensors: '.safetensors',
  }[form];
}
