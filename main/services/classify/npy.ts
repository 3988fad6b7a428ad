// NumPy's .npy format (version 1.0) for one float32 array, so a raw attention map opens with
// numpy.load(): magic "\x93NUMPY", version 1.0, a little-endian uint16 header length, a Python dict
// literal header padded with spaces to a multiple of 64 bytes and ended by '\n', then the data in C order,
// little-endian float32 ('<f4'). Pure; must not import electron or anything from main/electron,
// main/backend, main/server, main/cli or renderer.

export function encodeNpyFloat32(shape: readonly number[], data: Float32Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`Shape [${shape.join(', ')}] needs ${count} values, got ${data.length}.`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const total = Math.ceil((preamble + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - preamble - 1, ' ')}\n`;
  const out = new Uint8Array(total + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93 N U M P Y, v1.0
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  for (let i = 0; i < data.length; i++) view.setFloat32(total + i * 4, data[i], true);
  return out;
}
