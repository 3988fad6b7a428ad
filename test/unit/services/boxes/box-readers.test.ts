import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoxFileError } from '../../../../main/services/boxes/box-types.js';
import { parseBoxesJson } from '../../../../main/services/boxes/read-boxes-json.js';
import { parseCocoJson } from '../../../../main/services/boxes/read-coco.js';
import { parseVocXml } from '../../../../main/services/boxes/read-voc.js';
import {
  parseClassesTxt,
  parseDataYamlNames,
  parseYoloTxt,
} from '../../../../main/services/boxes/read-yolo.js';

const VOC = `<?xml version="1.0"?>
<!-- written by LabelImg -->
<annotation verified="yes">
  <folder>cat</folder><filename>a &amp; b.jpg</filename>
  <size><width>200</width><height>100</height><depth>3</depth></size>
  <object><name>cat</name><pose>Unspecified</pose>
    <bndbox><xmin>11</xmin><ymin>21</ymin><xmax>50</xmax><ymax>60</ymax></bndbox></object>
  <object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10.5</xmax><ymax>20</ymax></bndbox></object>
  <object><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>6</xmax><ymax>6</ymax></bndbox><name><![CDATA[bird]]></name></object>
</annotation>`;

describe('Pascal VOC reader', () => {
  it('reads the file name, size and every object, 1-based inclusive pixels to continuous edges', () => {
    const a = parseVocXml(VOC, 'a.xml');
    assert.equal(a.filename, 'a & b.jpg');
    assert.equal(a.width, 200);
    assert.equal(a.height, 100);
    assert.deepEqual(a.boxes, [
      { box: [10, 20, 50, 60], label: 'cat' },
      { box: [0, 0, 10.5, 20], label: 'dog' },
      { box: [4, 4, 6, 6], label: 'bird' },
    ]);
  });

  it('refuses hostile and malformed files with a clear error, never expanding entities', () => {
    const bad: [string, RegExp][] = [
      [`<!DOCTYPE a [<!ENTITY x "xx">]><annotation>&x;</annotation>`, /DOCTYPE and ENTITY/],
      [`<?xml version="1.0"?><!DOCTYPE annotation SYSTEM "file:///etc/passwd"><annotation/>`, /DOCTYPE/],
      [`<annotation><filename>&x;</filename></annotation>`, /entity &x; is not defined/],
      [`<annotation><object><bndbox><xmin>1</xmin></bndbox></object>`, /not closed/],
      [`<annotation></object></annotation>`, /does not close/],
      [`<annotation><object><name>a</name></object></annotation>`, /has no <bndbox>/],
      [
        `<annotation><object><bndbox><xmin>x</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`,
        /<xmin> should hold a number/,
      ],
      [
        `<annotation><object><bndbox><xmin>9</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`,
        /ends before it starts/,
      ],
      [`<root/>`, /no <annotation>/],
      [`${'<a>'.repeat(100)}`, /nested more than 64/],
      [`<annotation>a & b</annotation>`, /bare "&"/],
      [`<annotation><filename>&#0;</filename></annotation>`, /character reference/],
      [`<annotation><!-- open`, /comment is not closed/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parseVocXml(text, 'bad.xml'),
        (e: unknown) => e instanceof BoxFileError && e.file === 'bad.xml' && message.test(e.message),
        text,
      );
    }
  });
});

describe('COCO reader', () => {
  it('turns [x, y, w, h] into edges and names boxes by category', () => {
    const coco = {
      images: [
        { id: 1, file_name: 'cat/1.jpg' },
        { id: 2, file_name: 'dog\\2.jpg' },
      ],
      annotations: [
        { image_id: 1, bbox: [10, 20, 30, 40], category_id: 7 },
        { image_id: 1, bbox: [0, 0, 1, 1], category_id: 99 },
        { image_id: 2, bbox: [5, 5, 5, 5] },
      ],
      categories: [{ id: 7, name: 'cat' }],
    };
    const boxes = parseCocoJson(JSON.stringify(coco), 'c.json');
    assert.deepEqual(boxes.get('cat/1.jpg'), [
      { box: [10, 20, 40, 60], label: 'cat' },
      { box: [0, 0, 1, 1] },
    ]);
    assert.deepEqual(boxes.get('dog/2.jpg'), [{ box: [5, 5, 10, 10] }]);
  });

  it('refuses what is not COCO or is broken', () => {
    assert.throws(() => parseCocoJson('{', 'c.json'), /c\.json: not valid JSON/);
    assert.throws(() => parseCocoJson('{"images": []}', 'c.json'), /not a COCO file/);
    assert.throws(
      () => parseCocoJson('{"images": [{"id": 1}], "annotations": []}', 'c.json'),
      /images\[0\]: expected an "id" and a "file_name"/,
    );
    assert.throws(
      () =>
        parseCocoJson(
          '{"images": [{"id": 1, "file_name": "a"}], "annotations": [{"image_id": 2, "bbox": [0,0,1,1]}]}',
          'c.json',
        ),
      /image_id 2 is not in "images"/,
    );
    assert.throws(
      () =>
        parseCocoJson(
          '{"images": [{"id": 1, "file_name": "a"}], "annotations": [{"image_id": 1, "bbox": [0,0,"w",1]}]}',
          'c.json',
        ),
      /annotations\[0\]: expected four numbers/,
    );
  });
});

describe('YOLO reader', () => {
  it('scales centre and size fractions by the picture and names classes', () => {
    const text = '# comment\n0 0.5 0.5 0.2 0.4\n\n1 0.1 0.1 0.2 0.2 0.93\n';
    assert.deepEqual(parseYoloTxt(text, 'a.txt', 200, 100, ['cat', 'dog']), [
      { box: [80, 30, 120, 70], label: 'cat' },
      { box: [0, 0, 40, 20], label: 'dog' },
    ]);
    assert.deepEqual(parseYoloTxt('3 0.5 0.5 1 1', 'a.txt', 10, 10), [{ box: [0, 0, 10, 10] }]);
  });

  it('refuses broken lines with the line number', () => {
    assert.throws(
      () => parseYoloTxt('0 0.5 0.5', 'a.txt', 10, 10),
      /a\.txt: line 1: expected "class cx cy w h"/,
    );
    assert.throws(() => parseYoloTxt('\n-1 0.5 0.5 0.1 0.1', 'a.txt', 10, 10), /line 2: the class should be/);
    assert.throws(() => parseYoloTxt('0 5 0.5 0.1 0.1', 'a.txt', 10, 10), /fractions from 0 to 1/);
    assert.throws(() => parseYoloTxt('0 NaN 0.5 0.1 0.1', 'a.txt', 10, 10), /fractions from 0 to 1/);
    assert.throws(
      () => parseYoloTxt('2 0.5 0.5 0.1 0.1', 'a.txt', 10, 10, ['a', 'b']),
      /class 2 has no name/,
    );
  });

  it('reads class names from classes.txt and the three data.yaml forms', () => {
    assert.deepEqual(parseClassesTxt('cat\r\ndog\n\n'), ['cat', 'dog']);
    assert.deepEqual(parseDataYamlNames('path: x\nnames: [\'cat\', "dog"]\nnc: 2\n', 'd.yaml'), [
      'cat',
      'dog',
    ]);
    assert.deepEqual(parseDataYamlNames('names:\n  - cat\n  - dog\ntrain: x\n', 'd.yaml'), ['cat', 'dog']);
    assert.deepEqual(parseDataYamlNames('names:\n  1: dog\n  0: cat\n', 'd.yaml'), ['cat', 'dog']);
    assert.equal(parseDataYamlNames('train: x\n', 'd.yaml'), undefined);
    assert.throws(() => parseDataYamlNames('names:\n  0: cat\n  2: dog\n', 'd.yaml'), /without gaps/);
    assert.throws(() => parseDataYamlNames('names: cat\n', 'd.yaml'), /expected a list/);
    assert.throws(() => parseDataYamlNames('names: [cat,\n dog]\n', 'd.yaml'), /on one line/);
  });
});

describe('boxes.json reader', () => {
  it('reads one box, a list of boxes, and boxes with a class', () => {
    const boxes = parseBoxesJson(
      JSON.stringify({
        'a/1.png': [1, 2, 3, 4],
        './a\\2.png': [
          [0, 0, 1, 1],
          [2, 2, 3, 3],
        ],
        'b/3.png': [{ box: [0, 0, 5, 5], class: 'b' }, { box: [1, 1, 2, 2] }],
      }),
      'boxes.json',
    );
    assert.deepEqual(boxes.get('a/1.png'), [{ box: [1, 2, 3, 4] }]);
    assert.deepEqual(boxes.get('a/2.png'), [{ box: [0, 0, 1, 1] }, { box: [2, 2, 3, 3] }]);
    assert.deepEqual(boxes.get('b/3.png'), [{ box: [0, 0, 5, 5], label: 'b' }, { box: [1, 1, 2, 2] }]);
  });

  it('refuses malformed files with where the problem is', () => {
    assert.throws(() => parseBoxesJson('[1, 2]', 'boxes.json'), /expected an object from picture paths/);
    assert.throws(() => parseBoxesJson('{"a": [1, 2, 3]}', 'boxes.json'), /"a": expected four numbers/);
    assert.throws(
      () => parseBoxesJson('{"a": [[1, 2, 3, 4], "x"]}', 'boxes.json'),
      /"a"\[1\]: expected a box/,
    );
    assert.throws(
      () => parseBoxesJson('{"a": {"box": [1, 2, 3, 4], "class": 3}}', 'boxes.json'),
      /"class" should be a name/,
    );
    assert.throws(() => parseBoxesJson('{"a": {"bbox": [1, 2, 3, 4]}}', 'boxes.json'), /expected "box"/);
    assert.throws(() => parseBoxesJson('{"a": [1, 2, 3, 1e999]}', 'boxes.json'), /four numbers/);
  });
});
