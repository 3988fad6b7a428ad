import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  ImageError,
  IMAGENET_MEAN,
  IMAGENET_STD,
  decodeImage,
  decodeImageRgb8,
  detectFormat,
  normaliseRgb8,
  probeImage,
  type Rgb8Image,
} from '../../../../main/services/images/index.js';
import { makeBadImages, type BadImageCorpus } from '../../../fixtures/make-bad-images.js';
import {
  encodeBmp24,
  encodeBmp32TopDown,
  encodeBmp8,
  encodePng,
  gradientPicture,
  quadrantColourAt,
  quadrantPicture,
  type Picture,
} from '../../../fixtures/make-image-bytes.js';

const S = 16;
let dir: string;
let corpus: BadImageCorpus;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'attnvgg-images-'));
  corpus = await makeBadImages(join(dir, 'corpus'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const raw = (p: Picture) => ({ raw: { width: p.width, height: p.height, channels: p.channels as 3 } });

async function writeTemp(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

function maxDifference(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function pixel(image: Rgb8Image, x: number, y: number): number[] {
  const i = (y * image.width + x) * 3;
  return [image.data[i], image.data[i + 1], image.data[i + 2]];
}

function assertQuadrants(image: Rgb8Image, tolerance: number): void {
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      // Skip the seams, where lossy codecs blur.
      if (Math.abs(x + 0.5 - image.width / 2) < 2 || Math.abs(y + 0.5 - image.height / 2) < 2) continue;
      const got = pixel(image, x, y);
      const want = quadrantColourAt(x, y, image.width, image.height);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(got[c] - want[c]) <= tolerance, `(${x},${y}) got ${got} want ${want}`);
      }
    }
  }
}

describe('decodeImage: formats give the right pixels', () => {
  const gradient = gradientPicture(S, S);

  it('PNG decodes exactly, and the float output is (p/255 - mean)/std in NHWC', async () => {
    const path = await writeTemp('g.png', await sharp(gradient.data, raw(gradient)).png().toBuffer());
    const rgb = await decodeImageRgb8(path, { size: S });
    assert.equal(rgb.format, 'png');
    assert.deepEqual([rgb.width, rgb.height, rgb.data.length], [S, S, S * S * 3]);
    assert.equal(maxDifference(rgb.data, gradient.data), 0);
    const mean = [0.5, 0.25, 0.75] as const;
    const std = [0.5, 0.25, 0.2] as const;
    const float = await decodeImage(path, { size: S, mean, std });
    assert.ok(float.data instanceof Float32Array);
    for (let i = 0; i < float.data.length; i++) {
      const c = i % 3;
      const want = (gradient.data[i] / 255 - mean[c]) / std[c];
      assert.ok(Math.abs(float.data[i] - want) < 1e-5, `value ${i}: ${float.data[i]} vs ${want}`);
    }
    const imagenet = await decodeImage(path, { size: S });
    assert.ok(
      Math.abs(imagenet.data[0] - (gradient.data[0] / 255 - IMAGENET_MEAN[0]) / IMAGENET_STD[0]) < 1e-5,
    );
  });

  it('lossless WebP and LZW TIFF decode exactly', async () => {
    for (const [name, bytes] of [
      ['g.webp', await sharp(gradient.data, raw(gradient)).webp({ lossless: true }).toBuffer()],
      ['g.tif', await sharp(gradient.data, raw(gradient)).tiff({ compression: 'lzw' }).toBuffer()],
    ] as const) {
      const image = await decodeImageRgb8(await writeTemp(name, bytes), { size: S });
      assert.equal(maxDifference(image.data, gradient.data), 0, name);
    }
  });

  it('BMP (24-bit bottom-up, 32-bit top-down, 8-bit palette) decodes to the same pixels as the PNG', async () => {
    const png = await decodeImageRgb8(await writeTemp('ref.png', encodePng(S, S, 2, gradient.data)), {
      size: S,
    });
    const bmp24 = await decodeImageRgb8(await writeTemp('g24.bmp', encodeBmp24(gradient)), { size: S });
    const bmp32 = await decodeImageRgb8(await writeTemp('g32.bmp', encodeBmp32TopDown(gradient)), {
      size: S,
    });
    assert.equal(bmp24.format, 'bmp');
    assert.equal(maxDifference(bmp24.data, png.data), 0);
    assert.equal(maxDifference(bmp32.data, png.data), 0);
    const quadrants = quadrantPicture(S, S);
    const bmp8 = await decodeImageRgb8(await writeTemp('q8.bmp', encodeBmp8(quadrants)), { size: S });
    assert.equal(maxDifference(bmp8.data, quadrants.data), 0);
  });

  it('GIF (few colours) decodes exactly and only its first frame is used', async () => {
    const gif = corpus.files.find((f) => f.name === 'animated.gif');
    assert.ok(gif);
    const image = await decodeImageRgb8(gif.path, { size: S });
    assert.equal(image.format, 'gif');
    assertQuadrants(image, 0);
  });

  it('JPEG decodes to the picture within codec tolerance', async () => {
    const quadrants = quadrantPicture(S, S);
    const path = await writeTemp(
      'q.jpg',
      await sharp(quadrants.data, raw(quadrants)).jpeg({ quality: 100 }).toBuffer(),
    );
    assertQuadrants(await decodeImageRgb8(path, { size: S }), 12);
  });

  it('EXIF orientation 6 is applied: a 32x16 picture comes out 16x32, rotated clockwise', async () => {
    const rotated = corpus.files.find((f) => f.name === 'exif-rotated.jpg');
    assert.ok(rotated);
    // Stored: quadrants stretched to 32 wide x 16 high. Orientation 6 = rotate 90 degrees clockwise to view,
    // so the stored left column becomes the top row: top-left of the view is the stored bottom-left (blue).
    const image = await decodeImageRgb8(rotated.path, { size: 32, resize: 'stretch', kernel: 'nearest' });
    assert.deepEqual([image.sourceWidth, image.sourceHeight], [16, 32]);
    const near = (got: number[], want: readonly number[]) => got.every((v, c) => Math.abs(v - want[c]) <= 20);
    assert.ok(near(pixel(image, 4, 4), quadrantColourAt(0, 15, 16, 16)), `top-left ${pixel(image, 4, 4)}`); // blue
    assert.ok(near(pixel(image, 27, 4), quadrantColourAt(0, 0, 16, 16)), `top-right ${pixel(image, 27, 4)}`); // red
    assert.ok(
      near(pixel(image, 4, 27), quadrantColourAt(15, 15, 16, 16)),
      `bottom-left ${pixel(image, 4, 27)}`,
    ); // yellow
    assert.ok(
      near(pixel(image, 27, 27), quadrantColourAt(15, 0, 16, 16)),
      `bottom-right ${pixel(image, 27, 27)}`,
    ); // green
  });

  it('grey + alpha is flattened on white, 16-bit is reduced to 8-bit, CMYK becomes RGB', async () => {
    const greyAlpha = corpus.files.find((f) => f.name === 'grey-alpha.png');
    const sixteen = corpus.files.find((f) => f.name === 'sixteen-bit.png');
    const cmyk = corpus.files.find((f) => f.name === 'cmyk.jpg');
    assert.ok(greyAlpha && sixteen && cmyk);
    const ga = await decodeImageRgb8(greyAlpha.path, { size: S });
    for (let i = 0; i < S * S; i++) {
      const want = i % 2 === 0 ? (i * 5) % 256 : 255; // opaque grey, or transparent -> white
      assert.deepEqual([...ga.data.subarray(i * 3, i * 3 + 3)], [want, want, want], `pixel ${i}`);
    }
    const black = await decodeImageRgb8(greyAlpha.path, { size: S, alphaBackground: [0, 0, 0] });
    assert.deepEqual([...black.data.subarray(3, 6)], [0, 0, 0]);
    const sixteenBit = await decodeImageRgb8(sixteen.path, { size: S });
    assert.equal(maxDifference(sixteenBit.data, gradient.data), 0);
    // sRGB -> CMYK -> sRGB through libvips' default CMYK profile clips saturated colours (pure green comes back
    // as olive), so check that each quadrant keeps its dominant channel rather than exact values.
    const fromCmyk = await decodeImageRgb8(cmyk.path, { size: S });
    assert.equal(fromCmyk.data.length, S * S * 3);
    const dominant = (rgb: readonly number[]) => rgb.indexOf(Math.max(...rgb.slice(0, 3)));
    for (const [x, y] of [
      [3, 3],
      [12, 3],
      [3, 12],
    ]) {
      assert.equal(
        dominant(pixel(fromCmyk, x, y)),
        dominant(quadrantColourAt(x, y, S, S)),
        `(${x},${y}) ${pixel(fromCmyk, x, y)}`,
      );
    }
  });

  it('format comes from the content: upper-case and wrong extensions decode', async () => {
    for (const name of ['UPPER.PNG', 'PHOTO.JPEG', 'png-named.jpg']) {
      const file = corpus.files.find((f) => f.name === name);
      assert.ok(file);
      const image = await decodeImageRgb8(file.path, { size: S });
      assert.equal(image.format, name === 'PHOTO.JPEG' ? 'jpeg' : 'png', name);
    }
    assert.deepEqual(detectFormat(new TextEncoder().encode('hello')), { kind: 'other', description: 'text' });
  });
});

describe('decodeImage: resize policies', () => {
  // 48 x 16: red | green | blue thirds.
  const stripes = new Uint8Array(48 * 16 * 3);
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 48; x++) stripes.set(colours[Math.floor(x / 16)], (y * 48 + x) * 3);
  let path: string;
  before(async () => {
    path = await writeTemp(
      'stripes.png',
      await sharp(stripes, { raw: { width: 48, height: 16, channels: 3 } })
        .png()
        .toBuffer(),
    );
  });

  it("'crop' scales the shorter side to S and keeps the centre", async () => {
    const image = await decodeImageRgb8(path, { size: 16, resize: 'crop' });
    for (let i = 0; i < 16 * 16; i++)
      assert.deepEqual([...image.data.subarray(i * 3, i * 3 + 3)], [0, 255, 0]);
  });

  it("'stretch' keeps everything and distorts", async () => {
    const image = await decodeImageRgb8(path, { size: 24, resize: 'stretch', kernel: 'nearest' });
    assert.deepEqual(pixel(image, 2, 12), [255, 0, 0]);
    assert.deepEqual(pixel(image, 12, 12), [0, 255, 0]);
    assert.deepEqual(pixel(image, 21, 12), [0, 0, 255]);
  });

  it("'pad' fits the longer side and fills the bars with padColour", async () => {
    const image = await decodeImageRgb8(path, { size: 48, resize: 'pad', padColour: [10, 20, 30] });
    assert.deepEqual(pixel(image, 24, 2), [10, 20, 30]); // top bar
    assert.deepEqual(pixel(image, 24, 45), [10, 20, 30]); // bottom bar
    assert.deepEqual(pixel(image, 8, 24), [255, 0, 0]);
    assert.deepEqual(pixel(image, 24, 24), [0, 255, 0]);
  });

  it('rejects a bad size or policy with the valid choices', async () => {
    await assert.rejects(decodeImageRgb8(path, { size: 0 }), /positive integer/);
    // @ts-expect-error: testing a value from untyped input
    await assert.rejects(decodeImageRgb8(path, { size: 8, resize: 'squash' }), /crop, stretch, pad/);
  });
});

describe('decodeImage: every bad file gives its reason', () => {
  it('each corpus file decodes or fails as listed', async (t) => {
    if (!corpus.unreadableIsEffective) {
      t.diagnostic(
        'running as root: chmod 000 does not stop reads, so the "unreadable" case reads fine here',
      );
    }
    for (const file of corpus.files) {
      if (file.decode === undefined) continue;
      try {
        await decodeImageRgb8(file.path, { size: S });
        assert.equal('ok', file.decode, `${file.name} (${file.note}) decoded but should fail`);
      } catch (error) {
        assert.ok(error instanceof ImageError, `${file.name}: ${String(error)}`);
        assert.equal(error.reason, file.decode, `${file.name} (${file.note}): ${error.message}`);
        assert.ok(
          error.message.length > 20 && !/\n/.test(error.message),
          `${file.name}: message "${error.message}"`,
        );
        assert.equal(error.path, file.path);
        assert.deepEqual(JSON.parse(JSON.stringify(error)), {
          reason: file.decode,
          message: error.message,
          path: file.path,
        });
      }
    }
  });

  it('the probe (header only) agrees, except for damage that only decoding finds', async () => {
    for (const file of corpus.files) {
      if (file.decode === undefined) continue;
      const expected = file.decode === 'corrupt' ? 'ok' : file.decode; // garbage pixels: the header is fine
      const outcome = await probeImage(file.path).then(
        () => 'ok',
        (error: ImageError) => error.reason,
      );
      assert.equal(outcome, expected, file.name);
      const full = await probeImage(file.path, { fullDecode: true }).then(
        () => 'ok',
        (error: ImageError) => error.reason,
      );
      assert.equal(full, file.decode, `${file.name} with fullDecode`);
    }
  });

  it('an unreadable file (chmod 000) gives "unreadable" to a user without the right to read it', async (t) => {
    const locked = corpus.files.find((f) => f.name === 'locked.png');
    assert.ok(locked);
    if (corpus.unreadableIsEffective) {
      assert.equal(locked.decode, 'unreadable');
      return;
    }
    // Root reads anything: check as the unprivileged user "nobody" when runuser is there.
    const runuser = spawnSync('runuser', ['--help'], { encoding: 'utf8' });
    if (runuser.error || process.getuid?.() !== 0) {
      t.skip(
        'running as root without runuser: permissions do not stop reads here, so this cannot be checked',
      );
      return;
    }
    t.diagnostic('running as root: checking the chmod 000 file as the user "nobody"');
    await chmod(dir, 0o755);
    await chmod(corpus.dir, 0o755);
    const script =
      `const { decodeImageRgb8 } = await import(${JSON.stringify(fileURLToPath(new URL('../../../../main/services/images/decode-image.ts', import.meta.url)))});` +
      `try { await decodeImageRgb8(process.argv[1], { size: 8 }); console.log('ok'); } catch (e) { console.log(e.reason); }`;
    const child = spawnSync(
      'runuser',
      [
        '-u',
        'nobody',
        '--',
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        locked.path,
      ],
      { encoding: 'utf8', cwd: process.cwd() },
    );
    if (child.status !== 0) {
      t.skip(`could not run as "nobody": ${child.stderr.split('\n')[0]}`);
      return;
    }
    assert.equal(child.stdout.trim(), 'unreadable');
  });

  it('a 30000 x 30000 header is refused at once, without allocating the pixels', async () => {
    const huge = corpus.files.find((f) => f.name === 'huge-header.png');
    assert.ok(huge);
    const start = performance.now();
    const rssBefore = process.memoryUsage().rss;
    await assert.rejects(
      decodeImageRgb8(huge.path, { size: 64 }),
      (e: ImageError) => e.reason === 'too-large',
    );
    await assert.rejects(
      probeImage(huge.path),
      (e: ImageError) => e.reason === 'too-large' && /30000 x 30000/.test(e.message),
    );
    assert.ok(performance.now() - start < 1000, 'took over a second');
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'memory grew by over 200 MB');
  });

  it('a BMP over the pixel limit is refused from its header; RLE BMPs are refused with a reason', async () => {
    const header = encodeBmp24(gradientPicture(2, 2));
    header.writeInt32LE(30000, 18);
    header.writeInt32LE(30000, 22);
    const path = await writeTemp('huge.bmp', header);
    await assert.rejects(decodeImageRgb8(path, { size: 8 }), (e: ImageError) => e.reason === 'too-large');
    const rle = encodeBmp8(quadrantPicture(4, 4));
    rle.writeUInt32LE(1, 30);
    await assert.rejects(
      decodeImageRgb8(await writeTemp('rle.bmp', rle), { size: 8 }),
      (e: ImageError) => e.reason === 'unsupported-format' && /RLE/.test(e.message),
    );
    const cut = encodeBmp24(gradientPicture(8, 8));
    await assert.rejects(
      decodeImageRgb8(await writeTemp('cut.bmp', cut.subarray(0, 100)), { size: 8 }),
      (e: ImageError) => e.reason === 'truncated',
    );
  });

  it('normaliseRgb8 checks its inputs', () => {
    assert.throws(() => normaliseRgb8(new Uint8Array(4)), /multiple of 3/);
    assert.throws(() => normaliseRgb8(new Uint8Array(3), { std: [1, 0, 1] }), /above 0/);
  });
});
