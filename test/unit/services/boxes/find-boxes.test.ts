import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  boxesOfClass,
  findDatasetBoxes,
  type BoxedPicture,
} from '../../../../main/services/boxes/find-boxes.js';

let root: string;
const pictures: BoxedPicture[] = [];

function picture(relativePath: string): BoxedPicture {
  const p = { path: join(root, relativePath), relativePath, width: 100, height: 50 };
  pictures.push(p);
  return p;
}

async function put(relativePath: string, text: string): Promise<void> {
  await mkdir(join(root, relativePath, '..'), { recursive: true });
  await writeFile(join(root, relativePath), text);
}

const voc = (x0: number, name = 'cat'): string =>
  `<annotation><object><name>${name}</name><bndbox><xmin>${x0}</xmin><ymin>1</ymin><xmax>20</xmax><ymax>10</ymax></bndbox></object></annotation>`;

describe('findDatasetBoxes', () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'attnvgg-boxes-'));
    for (const p of [
      'cat/json.jpg',
      'cat/coco.jpg',
      'cat/voc-beside.jpg',
      'cat/voc-annotations.jpg',
      'dog/yolo-beside.png',
      'dog/yolo-labels.png',
      'dog/none.png',
      'dog/broken.png',
      'dog/both.png',
    ])
      picture(p);
    await put(
      'boxes.json',
      JSON.stringify({ 'cat/json.jpg': [1, 2, 3, 4], 'cat/unknown.jpg': [0, 0, 1, 1] }),
    );
    await put(
      'instances.json',
      JSON.stringify({
        images: [{ id: 1, file_name: 'coco.jpg' }],
        annotations: [{ image_id: 1, bbox: [0, 0, 10, 10], category_id: 1 }],
        categories: [{ id: 1, name: 'cat' }],
      }),
    );
    await put('manifest.json', '{"name": "not boxes"}');
    await put('cat/voc-beside.xml', voc(2));
    await put('Annotations/voc-annotations.xml', voc(3));
    await put('dog/yolo-beside.txt', '1 0.5 0.5 0.2 0.2\n');
    await put('labels/dog/yolo-labels.txt', '0 0.5 0.5 1 1\n');
    await put('classes.txt', 'cat\ndog\n');
    await put('dog/broken.xml', '<!DOCTYPE x><annotation/>');
    // Both VOC and YOLO: VOC is read first.
    await put('dog/both.xml', voc(5, 'dog'));
    await put('dog/both.txt', '1 0.5 0.5 0.2 0.2\n');
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds boxes in every format and place, and reports a bad file without stopping', async () => {
    const found = await findDatasetBoxes(root, pictures);
    const get = (p: string): unknown => found.boxes.get(p);
    assert.deepEqual(get('cat/json.jpg'), [{ box: [1, 2, 3, 4] }]);
    assert.deepEqual(get('cat/coco.jpg'), [{ box: [0, 0, 10, 10], label: 'cat' }]);
    assert.deepEqual(get('cat/voc-beside.jpg'), [{ box: [1, 0, 20, 10], label: 'cat' }]);
    assert.deepEqual(get('cat/voc-annotations.jpg'), [{ box: [2, 0, 20, 10], label: 'cat' }]);
    // YOLO fractions scale by the picture's displayed size, 100 x 50.
    assert.deepEqual(get('dog/yolo-beside.png'), [{ box: [40, 20, 60, 30], label: 'dog' }]);
    assert.deepEqual(get('dog/yolo-labels.png'), [{ box: [0, 0, 100, 50], label: 'cat' }]);
    assert.deepEqual(get('dog/both.png'), [{ box: [4, 0, 20, 10], label: 'dog' }]);
    assert.equal(get('dog/none.png'), undefined);
    assert.equal(get('dog/broken.png'), undefined);
    assert.equal(found.boxes.size, 7);
    assert.equal(found.problems.length, 1);
    assert.match(found.problems[0].message, /broken\.xml: DOCTYPE/);
    assert.deepEqual(
      found.sources.map((s) => [s.format, s.pictures]),
      [
        ['boxes-json', 1],
        ['coco', 1],
        ['voc', 3],
        ['yolo', 2],
      ],
    );
  });

  it('reads a named file instead, and reports one that is not JSON', async () => {
    await put('elsewhere/my.json', JSON.stringify({ 'dog/none.png': [[0, 0, 5, 5]] }));
    const found = await findDatasetBoxes(root, pictures, { boxesFile: join(root, 'elsewhere/my.json') });
    assert.deepEqual(found.boxes.get('dog/none.png'), [{ box: [0, 0, 5, 5] }]);
    assert.equal(found.boxes.get('cat/json.jpg'), undefined);
    await put('elsewhere/bad.json', '{"dog/none.png": ');
    const bad = await findDatasetBoxes(root, pictures, { boxesFile: join(root, 'elsewhere/bad.json') });
    assert.match(bad.problems[0].message, /bad\.json: not valid JSON/);
    const missing = await findDatasetBoxes(root, pictures, { boxesFile: join(root, 'nope.json') });
    assert.match(missing.problems[0].message, /ENOENT|no such file/);
  });

  it("keeps the boxes of the picture's class and those without a class", () => {
    const list = [
      { box: [0, 0, 1, 1] as const, label: 'Cat' },
      { box: [1, 1, 2, 2] as const, label: 'dog' },
      { box: [2, 2, 3, 3] as const },
    ];
    assert.deepEqual(
      boxesOfClass(list, 'cat').map((b) => b.box[0]),
      [0, 2],
    );
    assert.deepEqual(
      boxesOfClass(list, 'bird').map((b) => b.box[0]),
      [2],
    );
  });
});
