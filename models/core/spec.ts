// The model spec of docs/architecture.md as data: one description of attention-VGG16_bn that the TensorFlow.js
// builder, the ONNX writer and the weight importer all read. Pure: imports nothing but types.

/**
 * Compatibility function between local features l and the global feature g: 'pc' <u, l + g>, 'dp' <l, g>,
 * 'additive' <u, ReLU(W_l l + W_g g)> (hidden width additiveHiddenWidth; models/README.md).
 */
export type Compatibility = 'pc' | 'dp' | 'additive';
/** Every compatibility, in the order the messages and option help list them. */
export const COMPATIBILITIES: readonly Compatibility[] = ['pc', 'dp', 'additive'];
/** How compatibility scores become attention weights over the positions of one level. */
export type Normalisation = 'softmax' | 'sigmoid';

export interface ModelSpec {
  /** Input side S in pixels (square input), a multiple of 32, at least 32. */
  inputSize: number;
  /** Channel multiplier; 1.0 is torchvision's VGG16_bn. Channels are max(1, floor(c * width)). */
  width: number;
  /** Number of output classes (at least 2). */
  numClasses: number;
  /** Attention on (the paper's model) or off (ReLU(g) -> Linear: the ablation baseline). */
  attention: boolean;
  compatibility: Compatibility;
  normalisation: Normalisation;
}

export const DEFAULT_SPEC: Omit<ModelSpec, 'numClasses'> = {
  inputSize: 64,
  width: 0.25,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

/** torchvision's VGG16 configuration: conv output channels, 'M' = 2x2 max-pool. */
export const VGG16_LAYOUT: readonly (number | 'M')[] = [
  64,
  64,
  'M',
  128,
  128,
  'M',
  256,
  256,
  256,
  'M',
  512,
  512,
  512,
  'M',
  512,
  512,
  512,
  'M',
];

/** 1-based conv indices whose ReLU output feeds the three attention levels (conv 7, 10, 13). */
export const ATTENTION_TAPS: readonly number[] = [7, 10, 13];

/** PyTorch BatchNorm conventions, so torchvision weights import exactly. */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1; // running = (1 - 0.1) * running + 0.1 * batch (tfjs would call this 0.9)

export class SpecError extends Error {
  override name = 'SpecError';
}

export function channels(spec: Pick<ModelSpec, 'width'>, base: number): number {
  return Math.max(1, Math.floor(base * spec.width));
}

/**
 * The hidden width H of additive compatibility (W_l and W_g map C = 512·w channels to H): half of C,
 * as attention-gated networks take it, written max(1, floor(256·w)) like every other width.
 */
export function additiveHiddenWidth(spec: Pick<ModelSpec, 'width'>): number {
  return channels(spec, 256);
}

/** Throws a SpecError saying what is wrong and what is allowed. */
export function validateSpec(spec: ModelSpec): ModelSpec {
  const problems: string[] = [];
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 32 || spec.inputSize % 32 !== 0)
    problems.push(`input size must be a multiple of 32 and at least 32, got ${spec.inputSize}`);
  if (!(spec.width > 0 && spec.width <= 4)) problems.push(`width must be in (0, 4], got ${spec.width}`);
  if (!Number.isInteger(spec.numClasses) || spec.numClasses < 2)
    problems.push(`number of classes must be an integer of at least 2, got ${spec.numClasses}`);
  if (!COMPATIBILITIES.includes(spec.compatibility))
    problems.push(
      `compatibility must be one of: ${COMPATIBILITIES.join(', ')}; got "${String(spec.compatibility)}"`,
    );
  if (spec.normalisation !== 'softmax' && spec.normalisation !== 'sigmoid')
    problems.push(`normalisation must be one of: softmax, sigmoid; got "${String(spec.normalisation)}"`);
  if (problems.length > 0) throw new SpecError(`Invalid model spec: ${problems.join('; ')}.`);
  return spec;
}

/** One conv3x3 + BN + ReLU layer of the backbone, with torchvision's module indices. */
export interface ConvLayer {
  /** 1-based conv number (1..13). */
  index: number;
  /** 1-based VGG block (1..5). */
  block: number;
  inChannels: number;
  outChannels: number;
  /** Index of the Conv2d module in torchvision's `features` Sequential; BatchNorm is at +1. */
  featuresIndex: number;
  /** True when a 2x2 max-pool follows this conv (end of a block). */
  poolAfter: boolean;
}

export function convLayers(spec: Pick<ModelSpec, 'width'>): ConvLayer[] {
  const layers: ConvLayer[] = [];
  let inChannels = 3;
  let featuresIndex = 0;
  let block = 1;
  for (const entry of VGG16_LAYOUT) {
    if (entry === 'M') {
      layers[layers.length - 1].poolAfter = true;
      featuresIndex += 1;
      block += 1;
      continue;
    }
    const outChannels = channels(spec, entry);
    layers.push({
      index: layers.length + 1,
      block,
      inChannels,
      outChannels,
      featuresIndex,
      poolAfter: false,
    });
    inChannels = outChannels;
    featuresIndex += 3; // Conv2d, BatchNorm2d, ReLU
  }
  return layers;
}

export type ParamRole =
  | 'conv.weight'
  | 'conv.bias'
  | 'bn.weight'
  | 'bn.bias'
  | 'bn.running_mean'
  | 'bn.running_var'
  | 'g.weight'
  | 'g.bias'
  | 'project.weight'
  | 'u.weight'
  | 'wl.weight'
  | 'wg.weight'
  | 'head.weight'
  | 'head.bias';

/**
 * One tensor of the model, named and shaped as in PyTorch's state_dict of the peer model (OIHW convs,
 * [out, in] linears), so weights move between runtimes by name. `trainable` is false for BN statistics.
 */
export interface ParamInfo {
  name: string;
  shape: number[];
  role: ParamRole;
  trainable: boolean;
  /** Conv block (1..5) for backbone tensors, 0 for the attention estimators and heads. */
  block: number;
}

export function parameterLayout(spec: ModelSpec): ParamInfo[] {
  validateSpec(spec);
  const out: ParamInfo[] = [];
  for (const c of convLayers(spec)) {
    const conv = `features.${c.featuresIndex}`;
    const bn = `features.${c.featuresIndex + 1}`;
    const b = c.block;
    out.push({
      name: `${conv}.weight`,
      shape: [c.outChannels, c.inChannels, 3, 3],
      role: 'conv.weight',
      trainable: true,
      block: b,
    });
    out.push({ name: `${conv}.bias`, shape: [c.outChannels], role: 'conv.bias', trainable: true, block: b });
    out.push({ name: `${bn}.weight`, shape: [c.outChannels], role: 'bn.weight', trainable: true, block: b });
    out.push({ name: `${bn}.bias`, shape: [c.outChannels], role: 'bn.bias', trainable: true, block: b });
    out.push({
      name: `${bn}.running_mean`,
      shape: [c.outChannels],
      role: 'bn.running_mean',
      trainable: false,
      block: b,
    });
    out.push({
      name: `${bn}.running_var`,
      shape: [c.outChannels],
      role: 'bn.running_var',
      trainable: false,
      block: b,
    });
  }
  const c512 = channels(spec, 512);
  const c256 = channels(spec, 256);
  const cells = (spec.inputSize / 32) ** 2;
  out.push({ name: 'g.weight', shape: [c512, c512 * cells], role: 'g.weight', trainable: true, block: 0 });
  out.push({ name: 'g.bias', shape: [c512], role: 'g.bias', trainable: true, block: 0 });
  if (spec.attention) {
    // The projection exists because conv 7 has 256 (x width) channels and the other levels 512 (x width).
    if (c256 !== c512)
      out.push({
        name: 'project.weight',
        shape: [c512, c256, 1, 1],
        role: 'project.weight',
        trainable: true,
        block: 0,
      });
    out.push(...compatibilityParameters(spec));
    out.push({
      name: 'head.weight',
      shape: [spec.numClasses, 3 * c512],
      role: 'head.weight',
      trainable: true,
      block: 0,
    });
  } else {
    out.push({
      name: 'head.weight',
      shape: [spec.numClasses, c512],
      role: 'head.weight',
      trainable: true,
      block: 0,
    });
  }
  out.push({ name: 'head.bias', shape: [spec.numClasses], role: 'head.bias', trainable: true, block: 0 });
  return out;
}

/**
 * The attention estimators' tensors, one set per level k: pc u.k [1, C, 1, 1] (a 1x1 conv to one channel);
 * additive wl.k [H, C, 1, 1] (W_l, a 1x1 conv), wg.k [H, C] (W_g, a Linear) and u.k [1, H, 1, 1]; dp none.
 * None has a bias.
 */
function compatibilityParameters(spec: ModelSpec): ParamInfo[] {
  const c512 = channels(spec, 512);
  const hidden = additiveHiddenWidth(spec);
  const out: ParamInfo[] = [];
  const push = (name: string, shape: number[], role: ParamRole) =>
    out.push({ name, shape, role, trainable: true, block: 0 });
  for (let k = 0; k < ATTENTION_TAPS.length; k++) {
    if (spec.compatibility === 'pc') push(`u.${k}.weight`, [1, c512, 1, 1], 'u.weight');
    if (spec.compatibility === 'additive') {
      push(`wl.${k}.weight`, [hidden, c512, 1, 1], 'wl.weight');
      push(`wg.${k}.weight`, [hidden, c512], 'wg.weight');
      push(`u.${k}.weight`, [1, hidden, 1, 1], 'u.weight');
    }
  }
  return out;
}

/** Spatial side of each attention level at input S: S/4, S/8, S/16. */
export function attentionMapSizes(spec: Pick<ModelSpec, 'inputSize'>): [number, number, number] {
  return [spec.inputSize / 4, spec.inputSize / 8, spec.inputSize / 16];
}

export function countParameters(spec: ModelSpec, filter: (p: ParamInfo) => boolean = () => true): number {
  return parameterLayout(spec)
    .filter(filter)
    .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * True when g cannot change the output: with pc compatibility and softmax attention <u, g> is the same at
 * every position and cancels in the softmax, and the head reads only the attended vectors (README.md,
 * "pc with softmax ignores g"). The paths on cached features then keep g fixed. dp and additive are never
 * inert: g enters each position's score through a product or the ReLU.
 */
export function globalFeatureIsInert(spec: ModelSpec): boolean {
  return spec.attention && spec.compatibility === 'pc' && spec.normalisation === 'softmax';
}
