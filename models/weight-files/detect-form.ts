// Tells the forms of pretrained-weights files apart by their first bytes (never by their names): an ONNX
// protobuf, a .tar.gz holding one, a PyTorch checkpoint in torch's zip or legacy format, or safetensors.

import { looksLikeGzip } from './onnx-archive.js';
import { looksLikeSafetensors } from './safetensors-file.js';
import { looksLikeTorchCheckpoint } from './torch-checkpoint.js';

export type WeightFileForm = 'onnx' | 'onnx-tar-gz' | 'torch-zip' | 'torch-legacy' | 'safetensors';

/** How many first bytes detectWeightFileForm needs. */
export const FORM_HEAD_BYTES = 16;

/** Words for each form, as the reports show them. */
export const FORM_NAMES: Readonly<Record<WeightFileForm, string>> = {
  onnx: 'ONNX',
  'onnx-tar-gz': 'ONNX in a .tar.gz archive',
  'torch-zip': 'PyTorch state_dict (zip format)',
  'torch-legacy': 'PyTorch state_dict (legacy format)',
  safetensors: 'safetensors',
};

/** The form of a file from its first FORM_HEAD_BYTES bytes and its size; ONNX (no magic) otherwise. */
export function detectWeightFileForm(head: Uint8Array, size: number): WeightFileForm {
  if (looksLikeGzip(head)) return 'onnx-tar-gz';
  const torch = looksLikeTorchCheckpoint(head);
  if (torch === 'zip') return 'torch-zip';
  if (torch === 'legacy') return 'torch-legacy';
  if (looksLikeSafetensors(head, size)) return 'safetensors';
  return 'onnx';
}
