// Small ONNX models built in the tests (no files shipped): a tiny hand-made graph, small attnvgg exports
// with non-trivial BatchNorm, and a graph in the ONNX Model Zoo's vgg16-bn structure (IR 3, opset 7,
// BatchNormalization kept as separate nodes, initializers also listed as inputs, Flatten + Gemm head).
import { convLayers, type ModelSpec } from '../../../../models/core/spec.js';
import type { Weights } from '../../../../models/core/weights.js';
import { createRandom } from '../../../../models/core/random.js';
import { attr, GraphBuilder, tensorValueInfo } from '../../../../models/onnx/builder.js';
import { encodeModel, type ModelProto } from '../../../../models/onnx/proto.js';

export { randomiseBatchNorm, testWeights } from '../../../helpers/weights.js';

export const SMALL_SPEC: ModelSpec = {
  inputSize: 32,
  width: 0.03125,
  numClasses: 3,
  attention: true,
  compatibility: 'pc',
  normalisation: 'softmax',
};

/** y = x + c over a [batch, 2] float input: the smallest complete model, in ModelProto form. */
export function tinyModel(): ModelProto {
  const b = new GraphBuilder();
  const c = b.floats('c', [2], new Float32Array([1.5, -2]), 'a constant');
  b.int64s('shape', [-1, 2]);
  b.node('Add', ['x', c], 'y', {}, 'adds c');
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'test',
    modelVersion: 3,
    graph: b.build(
      'tiny',
      [tensorValueInfo('x', ['batch', 2])],
      [tensorValueInfo('y', ['batch', 2])],
      'tiny graph',
    ),
    metadataProps: [{ key: 'k', value: 'v' }],
  };
}

/**
 * VGG16_bn's conv stack at `spec.width` in the Model Zoo's form, from `weights` (PyTorch names): Conv
 * with bias, BatchNormalization (opset 7, `spatial`, epsilon `epsilon`), Relu, MaxPool, then Flatten and
 * a Gemm classifier. Outputs the classifier's scores and conv 13's ReLU output ("conv13_relu").
 */
export function zooStyleModel(spec: ModelSpec, weights: Weights, epsilon = 1e-5): ModelProto {
  const b = new GraphBuilder();
  const get = (n: string) => weights.get(n)!;
  let h = 'data';
  let last = '';
  for (const c of convLayers(spec)) {
    const k = c.index - 1;
    const conv = `features.${c.featuresIndex}`;
    const bn = `features.${c.featuresIndex + 1}`;
    const w = b.floats(`vgg0_conv${k}_weight`, get(`${conv}.weight`).shape, get(`${conv}.weight`).data);
    const bias = b.floats(`vgg0_conv${k}_bias`, [c.outChannels], get(`${conv}.bias`).data);
    const y = b.node('Conv', [h, w, bias], `vgg0_conv${k}_fwd`, {
      kernel_shape: attr.ints([3, 3]),
      pads: attr.ints([1, 1, 1, 1]),
      strides: attr.ints([1, 1]),
    });
    const bnInputs = ['gamma', 'beta', 'running_mean', 'running_var'].map((role, i) =>
      b.floats(
        `vgg0_batchnorm${k}_${role}`,
        [c.outChannels],
        get(`${bn}.${['weight', 'bias', 'running_mean', 'running_var'][i]}`).data,
      ),
    );
    const z = b.node('BatchNormalization', [y, ...bnInputs], `vgg0_batchnorm${k}_fwd`, {
      epsilon: attr.float(epsilon),
      momentum: attr.float(0.9),
      spatial: attr.int(1),
    });
    h = b.node('Relu', [z], c.index === 13 ? 'conv13_relu' : `vgg0_relu${k}_fwd`);
    last = h;
    if (c.poolAfter)
      h = b.node('MaxPool', [h], `vgg0_pool${c.block - 1}_fwd`, {
        kernel_shape: attr.ints([2, 2]),
        strides: attr.ints([2, 2]),
        pads: attr.ints([0, 0, 0, 0]),
      });
  }
  const flat = b.node('Flatten', [h], 'flatten_60', { axis: attr.int(1) });
  const cells = (spec.inputSize / 32) ** 2;
  const c13 = weights.get('features.40.weight')!.shape[0];
  const r = createRandom(5);
  const dense = Float32Array.from({ length: spec.numClasses * c13 * cells }, () => r.normal() * 0.01);
  const dw = b.floats('vgg0_dense0_weight', [spec.numClasses, c13 * cells], dense);
  const db = b.floats('vgg0_dense0_bias', [spec.numClasses], new Float32Array(spec.numClasses));
  b.node('Gemm', [flat, dw, db], 'vgg0_dense0_fwd', {
    transB: attr.int(1),
    alpha: attr.float(1),
    beta: attr.float(1),
  });
  const s = spec.inputSize;
  const graph = b.build(
    'vgg16_bn_zoo_style',
    [tensorValueInfo('data', [1, 3, s, s])],
    [
      tensorValueInfo('vgg0_dense0_fwd', [1, spec.numClasses]),
      tensorValueInfo(last, [1, c13, s / 16, s / 16]),
    ],
  );
  // IR 3 lists every initializer as a graph input too.
  graph.input = [
    ...(graph.input ?? []),
    ...(graph.initializer ?? []).map((t) => tensorValueInfo(t.name!, t.dims!)),
  ];
  return {
    irVersion: 3,
    opsetImport: [{ domain: '', version: 7 }],
    producerName: 'zoo-style fixture',
    graph,
  };
}

export function zooStyleBytes(spec: ModelSpec, weights: Weights, epsilon = 1e-5): Uint8Array {
  return encodeModel(zooStyleModel(spec, weights, epsilon));
}
