// Generates models/onnx/generated/onnx.ts from models/onnx/onnx.proto with protobufjs's own parser and
// reflection API (protobufjs-cli is not a dependency): the schema as a JSON descriptor for
// protobuf.Root.fromJSON, plus TypeScript interfaces and enum constants for the decoded messages.
// A build-time tool: run `node --import tsx models/onnx/generate-schema.ts` after editing onnx.proto.
// Imports protobufjs and node:fs only; nothing from the rest of the app.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = dirname(fileURLToPath(import.meta.url));
const protoPath = join(here, 'onnx.proto');
const outPath = join(here, 'generated', 'onnx.ts');

/** Decoded int64 values are plain numbers: models/onnx/proto.ts converts Long values on decode. */
const scalarTypes: Record<string, string> = {
  double: 'number',
  float: 'number',
  int32: 'number',
  uint32: 'number',
  sint32: 'number',
  fixed32: 'number',
  sfixed32: 'number',
  int64: 'number',
  uint64: 'number',
  sint64: 'number',
  fixed64: 'number',
  sfixed64: 'number',
  bool: 'boolean',
  string: 'string',
  bytes: 'Uint8Array',
};

/** `onnx.TensorProto.DataType` -> `TensorProto_DataType` (protoc's naming of nested types). */
function tsName(reflected: protobuf.ReflectionObject): string {
  const parts: string[] = [];
  for (let o: protobuf.ReflectionObject | null = reflected; o && o.parent; o = o.parent)
    if (!(o instanceof protobuf.Namespace) || o instanceof protobuf.Type || o === reflected)
      parts.unshift(o.name);
  return parts.join('_');
}

function docComment(text: string | null, indent: string): string {
  if (!text) return '';
  const lines = text.split('\n').map((l) => l.trimEnd());
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

function emitEnum(e: protobuf.Enum): string {
  const body = Object.entries(e.values)
    .map(([k, v]) => `  ${k}: ${v},`)
    .join('\n');
  return `${docComment(e.comment, '')}export const ${tsName(e)} = {\n${body}\n} as const;\n`;
}

function emitType(t: protobuf.Type): string {
  const fields = t.fieldsArray.map((f) => {
    f.resolve();
    const base = f.resolvedType
      ? f.resolvedType instanceof protobuf.Enum
        ? 'number'
        : tsName(f.resolvedType)
      : scalarTypes[f.type];
    if (!base) throw new Error(`No TypeScript type for ${t.fullName}.${f.name} (${f.type})`);
    const type = f.repeated ? `${base}[]` : base;
    return `${docComment(f.comment, '  ')}  ${f.name}?: ${type};`;
  });
  return `${docComment(t.comment, '')}export interface ${tsName(t)} {\n${fields.join('\n')}\n}\n`;
}

function collect(ns: protobuf.NamespaceBase, out: string[]): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Enum) out.push(emitEnum(nested));
    else if (nested instanceof protobuf.Type) {
      out.push(emitType(nested));
      collect(nested, out);
    } else if (nested instanceof protobuf.Namespace) collect(nested, out);
  }
}

function main(): void {
  const source = readFileSync(protoPath, 'utf8');
  const { root } = protobuf.parse(source, { keepCase: false, alternateCommentMode: true });
  root.resolveAll();
  const descriptor = root.toJSON({ keepComments: false });
  const parts: string[] = [];
  collect(root, parts);
  const text = [
    '// GENERATED FILE: do not edit. Made by models/onnx/generate-schema.ts from models/onnx/onnx.proto.',
    '// The ONNX schema subset as a protobufjs JSON descriptor, with TypeScript shapes of its messages.',
    '',
    `export const onnxDescriptor = ${JSON.stringify(descriptor, null, 2)} as const;`,
    '',
    ...parts,
  ].join('\n');
  writeFileSync(outPath, text);
  console.log(`wrote ${outPath}`);
}

main();
