// Convolution gradients for the tfjs `wasm` backend, written as forward convolutions so they run on
// XNNPACK. Kernel level only (no tf ops, no other backend, nothing from main/ or renderer/).
//
// Why: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel at all (tf.grad of a conv2d throws),
// and its Conv2DBackpropInput is a naive loop (~2 GFLOP/s against ~25 GFLOP/s for the forward Conv2D).
// Both gradients are convolutions themselves:
//   filter gradient  dW[kh,kw,ci,co] = sum_{n,ho,wo} X[n, ho*s + kh - padTop, wo*s + kw - padLeft, ci]
//                                                    * dY[n,ho,wo,co]
//     = forward conv of X seen as [Ci,H,W,N] (batch Ci, channels N) with dY seen as the filter
//       [Ho,Wo,N,Co], stride 1, dilation s (the original stride), explicit padding; the result
//       [Ci,KH,KW,Co] is transposed back to [KH,KW,Ci,Co].
//   input gradient   dX = forward conv, stride 1, of dY dilated by s (s-1 zeros between samples)
//     and padded by KH-1-padTop / KW-1-padLeft, with the filter flipped in space and its in/out
//     channels swapped ([KH,KW,Co,Ci]). With stride s > 1 most of the dilated dY is zeros, so this
//     does s*s times the useful multiplies; VGG's convolutions all have stride 1.
// Every intermediate goes back to the backend with disposeData, so nothing leaks.

import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  getKernel,
  PadV2,
  registerKernel,
  Reshape,
  Slice,
  Transpose,
  unregisterKernel,
} from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';

const BACKEND = 'wasm';

type Shape4 = [number, number, number, number];

/** Runs one of the wasm backend's own registered kernels (not through the engine: no tape, no tracking). */
function runWasmKernel(
  backend: BackendWasm,
  kernelName: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  const kernel = getKernel(kernelName, BACKEND);
  if (kernel === undefined) {
    throw new Error(
      `The wasm backend has no '${kernelName}' kernel; import @tensorflow/tfjs-backend-wasm before ` +
        'registering the convolution gradients.',
    );
  }
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  return Array.isArray(out) ? out[0] : out;
}

/**
 * Collects intermediates of one kernel call and disposes them all at the end, also when a step throws.
 * Reshape returns the same data id with its reference count raised, so disposing it is symmetric.
 */
class Scratch {
  private readonly owned: TensorInfo[] = [];
  constructor(readonly backend: BackendWasm) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
    const out = runWasmKernel(this.backend, kernelName, inputs, attrs);
    this.owned.push(out);
    return out;
  }

  /** Takes `t`, made directly with backend.makeOutput, to dispose with the rest. */
  own(t: TensorInfo): TensorInfo {
    this.owned.push(t);
    return t;
  }

  /** Hands `t` to the caller: it is no longer disposed with the rest. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.owned.indexOf(t);
    if (i >= 0) this.owned.splice(i, 1);
    return t;
  }

  disposeAll(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/**
 * W[kh,kw,ci,co] -> W[KH-1-kh, KW-1-kw, ci, co]: one block copy per tap on the wasm heap (the wasm
 * Reverse kernel is generic and takes ~2 ms even for a 3x3x64x64 filter).
 */
function flipSpatially(s: Scratch, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape as Shape4;
  const out = s.own(s.backend.makeOutput([kh, kw, ci, co], 'float32'));
  // Views taken after makeOutput, which may grow (and so move) the heap.
  const src = s.backend.typedArrayFromHeap(filter);
  const dst = s.backend.typedArrayFromHeap(out);
  const taps = kh * kw;
  const block = ci * co;
  for (let t = 0; t < taps; t++) {
    dst.set(src.subarray(t * block, (t + 1) * block), (taps - 1 - t) * block);
  }
  return out;
}

function transpose(s: Scratch, x: TensorInfo, perm: number[]): TensorInfo {
  if (perm.every((p, i) => p === i)) return x;
  return s.run(Transpose, { x }, { perm });
}

function reshape(s: Scratch, x: TensorInfo, shape: number[]): TensorInfo {
  return s.run(Reshape, { x }, { shape });
}

/** Spatial padding of an NHWC tensor, where a negative amount means "crop that many rows/columns". */
interface SpatialPad {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Crops the negative sides of `pad` from the NHWC tensor `x` and returns the remaining (non-negative)
 * padding in the explicit form the forward Conv2D takes; XNNPACK pads for free, so no copy is made
 * unless something has to be cropped.
 */
function cropNegativePadding(
  s: Scratch,
  x: TensorInfo,
  pad: SpatialPad,
): { x: TensorInfo; explicit: backend_util.ExplicitPadding } {
  const [n, h, w, c] = x.shape as Shape4;
  const cropTop = Math.max(0, -pad.top);
  const cropBottom = Math.max(0, -pad.bottom);
  const cropLeft = Math.max(0, -pad.left);
  const cropRight = Math.max(0, -pad.right);
  let cropped = x;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    const size = [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c];
    if (size[1] <= 0 || size[2] <= 0) {
      throw new Error(
        `Convolution gradient: padding ${JSON.stringify(pad)} leaves nothing of a ${h}x${w} input.`,
      );
    }
    cropped = s.run(Slice, { x }, { begin: [0, cropTop, cropLeft, 0], size });
  }
  const explicit: backend_util.ExplicitPadding = [
    [0, 0],
    [Math.max(0, pad.top), Math.max(0, pad.bottom)],
    [Math.max(0, pad.left), Math.max(0, pad.right)],
    [0, 0],
  ];
  return { x: cropped, explicit };
}

/** The wasm forward convolution (XNNPACK), NHWC, with explicit padding. */
function forwardConv(
  s: Scratch,
  x: TensorInfo,
  filter: TensorInfo,
  pad: backend_util.ExplicitPadding,
  dilations: [number, number],
): TensorInfo {
  return s.run(Conv2D, { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations });
}

/** Views `x` as [outer, 1, inner] and appends `count` zero rows on the middle axis: [outer, 1 + count, inner]. */
function appendZeroRows(s: Scratch, x: TensorInfo, outer: number, inner: number, count: number): TensorInfo {
  const flat = reshape(s, x, [outer, 1, inner]);
  const paddings = [
    [0, 0],
    [0, count],
    [0, 0],
  ];
  return s.run(PadV2, { x: flat }, { paddings, constantValue: 0 });
}

/**
 * Inserts (stride - 1) zeros after every sample along H and W of an NHWC tensor:
 * [N,Ho,Wo,C] -> [N, Ho*sh, Wo*sw, C]. The trailing zeros are accounted for by the caller's padding.
 */
function dilateSpatially(s: Scratch, x: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, h, w, c] = x.shape as Shape4;
  let out = x;
  if (sw > 1) out = reshape(s, appendZeroRows(s, out, n * h * w, c, sw - 1), [n, h, w * sw, c]);
  if (sh > 1) out = reshape(s, appendZeroRows(s, out, n * h, w * sw * c, sh - 1), [n, h * sh, w * sw, c]);
  return out;
}

function requireInput(kernelName: string, inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`${kernelName} on wasm: input '${name}' is missing.`);
  return t;
}

function assertFloat32(kernelName: string, tensors: Record<string, TensorInfo>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32') {
      throw new Error(`${kernelName} on wasm: expected ${name} to be float32, but got ${t.dtype}.`);
    }
    if (t.shape.length !== 4) {
      throw new Error(
        `${kernelName} on wasm: expected ${name} to be rank 4, but got shape [${t.shape.join(', ')}].`,
      );
    }
  }
}

function assertShape(kernelName: string, name: string, found: number[], expected: number[]): void {
  if (found.length !== expected.length || found.some((d, i) => d !== expected[i])) {
    throw new Error(
      `${kernelName} on wasm: expected ${name} of shape [${expected.join(', ')}], but got [${found.join(', ')}].`,
    );
  }
}

/** dW for y = conv2d(x, W): inputs {x, dy}, attrs as tfjs-core's Conv2DBackpropFilter. */
function conv2DBackpropFilterWasm(args: {
  inputs: NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = requireInput(Conv2DBackpropFilter, inputs, 'x');
  const dy = requireInput(Conv2DBackpropFilter, inputs, 'dy');
  assertFloat32(Conv2DBackpropFilter, { x, dy });
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  assertShape(Conv2DBackpropFilter, 'dy', dy.shape, info.outShape);
  const channelsLast = info.dataFormat === 'channelsLast';

  const s = new Scratch(backend);
  try {
    // X -> [Ci, H, W, N]: the batch becomes the channel axis that the convolution sums over.
    const xT = transpose(s, x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    // dY -> [Ho, Wo, N, Co]: a filter with Ho x Wo taps, N input and Co output channels.
    const dyT = transpose(s, dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    // Padding that makes the output exactly KH x KW; negative when the forward pass ignored trailing rows.
    const bottom = (info.outHeight - 1) * info.strideHeight + info.filterHeight - info.inHeight - top;
    const right = (info.outWidth - 1) * info.strideWidth + info.filterWidth - info.inWidth - left;
    const { x: xIn, explicit } = cropNegativePadding(s, xT, { top, bottom, left, right });
    const dWT = forwardConv(s, xIn, dyT, explicit, [info.strideHeight, info.strideWidth]);
    assertShape(Conv2DBackpropFilter, 'intermediate', dWT.shape, [
      info.inChannels,
      info.filterHeight,
      info.filterWidth,
      info.outChannels,
    ]);
    return s.keep(transpose(s, dWT, [1, 2, 0, 3]));
  } finally {
    s.disposeAll();
  }
}

/** dX for y = conv2d(x, W): inputs {dy, filter}, attrs as tfjs-core's Conv2DBackpropInput. */
function conv2DBackpropInputWasm(args: {
  inputs: NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = requireInput(Conv2DBackpropInput, inputs, 'dy');
  const filter = requireInput(Conv2DBackpropInput, inputs, 'filter');
  assertFloat32(Conv2DBackpropInput, { dy, filter });
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  assertShape(Conv2DBackpropInput, 'dy', dy.shape, info.outShape);
  const channelsLast = info.dataFormat === 'channelsLast';
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;

  const s = new Scratch(backend);
  try {
    const dyNHWC = channelsLast ? dy : transpose(s, dy, [0, 2, 3, 1]);
    const dilated = dilateSpatially(s, dyNHWC, sh, sw);
    // The dilated dY has (Ho-1)*s+1 meaningful rows followed by s-1 zero rows (hence the -(s-1)).
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = info.inHeight + kh - 1 - ((info.outHeight - 1) * sh + 1) - top - (sh - 1);
    const right = info.inWidth + kw - 1 - ((info.outWidth - 1) * sw + 1) - left - (sw - 1);
    const { x: dyIn, explicit } = cropNegativePadding(s, dilated, { top, bottom, left, right });
    // W[kh,kw,ci,co] -> W[KH-1-kh, KW-1-kw, co, ci].
    const flipped = flipSpatially(s, filter);
    const swapped = transpose(s, flipped, [0, 1, 3, 2]);
    const dxNHWC = forwardConv(s, dyIn, swapped, explicit, [1, 1]);
    assertShape(Conv2DBackpropInput, 'intermediate', dxNHWC.shape, [
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
    ]);
    return s.keep(channelsLast ? dxNHWC : transpose(s, dxNHWC, [0, 3, 1, 2]));
  } finally {
    s.disposeAll();
  }
}

const backpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: BACKEND,
  kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc,
};

const backpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: BACKEND,
  kernelFunc: conv2DBackpropInputWasm as unknown as KernelFunc,
};

/**
 * Registers the two gradient kernels for the `wasm` backend, replacing the package's slow
 * Conv2DBackpropInput. Safe to call any number of times, before or after the backend is initialised
 * (the kernels have no setup step; they call the wasm Conv2D, Transpose, ... kernels at run time).
 */
export function registerWasmConvGradients(): void {
  if (getKernel(Conv2D, BACKEND) === undefined) {
    throw new Error('The wasm Conv2D kernel is not registered: @tensorflow/tfjs-backend-wasm did not load.');
  }
  for (const config of [backpropFilterConfig, backpropInputConfig]) {
    const current = getKernel(config.kernelName, BACKEND);
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current !== undefined) unregisterKernel(config.kernelName, BACKEND);
    registerKernel(config);
  }
}

/** True when this module's kernels are the ones the `wasm` backend will run. */
export function wasmConvGradientsRegistered(): boolean {
  return (
    getKernel(Conv2DBackpropFilter, BACKEND)?.kernelFunc === backpropFilterConfig.kernelFunc &&
    getKernel(Conv2DBackpropInput, BACKEND)?.kernelFunc === backpropInputConfig.kernelFunc
  );
}
