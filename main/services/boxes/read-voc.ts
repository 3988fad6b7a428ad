// Reads one Pascal VOC annotation (the XML that LabelImg, CVAT and Roboflow write): <filename>, <size>
// <width>/<height>, and each <object>'s <name> and <bndbox> <xmin> <ymin> <xmax> <ymax>. VOC pixel
// coordinates are 1-based and inclusive (pixel 1 is the first), so [xmin, xmax] becomes the continuous box
// [xmin - 1, xmax]. A tiny parser of just these elements: it refuses any DOCTYPE or ENTITY declaration
// (no entity expansion, so no "billion laughs" and no external files), decodes only the five predefined
// entities and numeric character references, and ignores every other element. Pure: must not import
// Node, electron or anything from main/electron, main/backend, main/server, main/cli or renderer.

import { BoxFileError, checkedBox, type LabelledBox } from './box-types.js';

export interface VocAnnotation {
  filename?: string;
  width?: number;
  height?: number;
  boxes: LabelledBox[];
}

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeText(raw: string, file: string): string {
  return raw.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);|&/gi, (all, ref: string | undefined) => {
    if (ref === undefined) throw new BoxFileError(file, 'a bare "&" in the text is not valid XML.');
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!(code > 0 && code <= 0x10ffff))
        throw new BoxFileError(file, `the character reference ${all} is not valid.`);
      return String.fromCodePoint(code);
    }
    const value = PREDEFINED[ref];
    if (value === undefined)
      throw new BoxFileError(file, `the entity ${all} is not defined (only the XML built-ins are read).`);
    return value;
  });
}

/** Parses XML into elements (names, children, text); attributes are skipped. Throws BoxFileError. */
function parseXml(text: string, file: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? n : lt);
    if (chunk.trim() !== '') stack[stack.length - 1].text += decodeText(chunk, file);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) throw new BoxFileError(file, 'a comment is not closed.');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      if (end < 0) throw new BoxFileError(file, 'a CDATA section is not closed.');
      stack[stack.length - 1].text += text.slice(lt + 9, end);
      i = end + 3;
    } else if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) throw new BoxFileError(file, 'a processing instruction is not closed.');
      i = end + 2;
    } else if (text.startsWith('<!', lt)) {
      throw new BoxFileError(file, 'DOCTYPE and ENTITY declarations are not accepted in box files.');
    } else {
      const end = text.indexOf('>', lt + 1);
      if (end < 0) throw new BoxFileError(file, 'a tag is not closed.');
      const tag = text.slice(lt + 1, end);
      i = end + 1;
      if (tag.startsWith('/')) {
        const name = tag.slice(1).trim();
        const open = stack.pop();
        if (!open || stack.length === 0 || open.name !== name)
          throw new BoxFileError(
            file,
            `</${name}> does not close the open element${open && stack.length > 0 ? ` <${open.name}>` : ''}.`,
          );
        continue;
      }
      const selfClosing = tag.endsWith('/');
      const match = /^([A-Za-z_][\w.:-]*)/.exec(tag);
      if (!match) throw new BoxFileError(file, `<${tag.slice(0, 30)}> is not a valid tag.`);
      if (stack.length > 64) throw new BoxFileError(file, 'elements are nested more than 64 deep.');
      const element: XmlElement = { name: match[1], children: [], text: '' };
      stack[stack.length - 1].children.push(element);
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length !== 1) throw new BoxFileError(file, `<${stack[stack.length - 1].name}> is not closed.`);
  return root;
}

function child(e: XmlElement | undefined, name: string): XmlElement | undefined {
  return e?.children.find((c) => c.name === name);
}

function numberIn(e: XmlElement | undefined, name: string, file: string, where: string): number {
  const c = child(e, name);
  const v = c ? Number(c.text.trim()) : NaN;
  if (!c || c.text.trim() === '' || !Number.isFinite(v))
    throw new BoxFileError(
      file,
      `${where}: <${name}> should hold a number, got ${c ? JSON.stringify(c.text.trim().slice(0, 20)) : 'nothing'}.`,
    );
  return v;
}

/** Parses one VOC XML annotation. */
export function parseVocXml(text: string, file: string): VocAnnotation {
  const annotation = child(parseXml(text, file), 'annotation');
  if (!annotation) throw new BoxFileError(file, 'not a Pascal VOC file: no <annotation> element.');
  const size = child(annotation, 'size');
  const out: VocAnnotation = { boxes: [] };
  const filename = child(annotation, 'filename')?.text.trim();
  if (filename) out.filename = filename;
  if (size) {
    out.width = numberIn(size, 'width', file, '<size>');
    out.height = numberIn(size, 'height', file, '<size>');
  }
  annotation.children
    .filter((c) => c.name === 'object')
    .forEach((object, k) => {
      const where = `<object> ${k + 1}`;
      const bndbox = child(object, 'bndbox');
      if (!bndbox) throw new BoxFileError(file, `${where} has no <bndbox>.`);
      const box = checkedBox(
        [
          numberIn(bndbox, 'xmin', file, where) - 1,
          numberIn(bndbox, 'ymin', file, where) - 1,
          numberIn(bndbox, 'xmax', file, where),
          numberIn(bndbox, 'ymax', file, where),
        ],
        file,
        where,
      );
      const name = child(object, 'name')?.text.trim();
      out.boxes.push(name ? { box, label: name } : { box });
    });
  return out;
}
