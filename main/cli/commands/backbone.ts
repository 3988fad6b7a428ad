// `attnvgg backbone list` (the built-in catalogue of ImageNet VGG16_bn weights and the workspace's
// backbones), `backbone download <id>` (a catalogue entry, or any --url; resumable, checksummed),
// `backbone add <file>` (a file fetched elsewhere, used where it is) and `backbone check <file>` (can this
// file be imported as the pretrained VGG16_bn backbone, and why not).
// Must not import electron or anything from main/electron or renderer.

import { resolve } from 'node:path';
import { BackboneLibrary } from '../../services/backbone/backbone-library.js';
import { BACKBONE_CATALOGUE } from '../../services/backbone/catalogue.js';
import { downloadedCatalogueEntry } from '../../services/backbone/catalogue-download.js';
import { checkBackbone } from '../../services/backbone/load-backbone.js';
import {
  BACKBONE_SHA256_ENV,
  BACKBONE_URL_ENV,
  defaultBackboneSource,
  downloadBackbone,
} from '../../services/backbone/download.js';
import { defaultWorkspaceDir } from '../../backend/default-workspace.js';
import {
  downloadProgressWriter,
  fetchCatalogueBackbone,
  formatBytes,
  isCatalogueId,
} from '../backbone-download.js';
import { EXIT, UserError, type Command, type CommandContext } from '../command.js';
import { numberOption, parseOptions, stringOption } from '../parse-options.js';

const HELP = `Usage: attnvgg backbone list [--workspace DIR] [--json]
       attnvgg backbone download <id> [--workspace DIR] [--json]
       attnvgg backbone download --url U [--sha256 H] [--workspace DIR] [--json]
       attnvgg backbone add <file> [--workspace DIR] [--json]
       attnvgg backbone check <file> [--width W] [--json]

list      the built-in catalogue of ImageNet VGG16_bn weights (id, size, source, licence, top-1) with
          whether each is downloaded, and the workspace's backbones.
download  fetches catalogue entry <id> (e.g. torchvision-vgg16bn) into <workspace>/backbones/ with
          progress and speed, checks its SHA-256 (or the prefix torch.hub checks) and lists it; a
          dropped transfer resumes (run it again). With --url instead: any file, kept only if its
          SHA-256 matches --sha256 (defaults: $${BACKBONE_URL_ENV}, $${BACKBONE_SHA256_ENV}). Proxies
          from HTTPS_PROXY / HTTP_PROXY / NO_PROXY are used.
add       lists a file you fetched elsewhere (.pth, .safetensors, .tar.gz, .onnx), used where it is.
check     says whether a file can be imported as the pretrained VGG16_bn backbone (torchvision's
          vgg16_bn as .pth or exported to ONNX, timm's safetensors, the ONNX Model Zoo's vgg16-bn
          .onnx or .tar.gz) and, if not, what differs. --width W also requires that width (ImageNet:
          1.0). Exit 0 usable, 3 unusable.
--workspace defaults to ${defaultWorkspaceDir()}.
Offline: \`attnvgg backbone download <id>\` says which file to fetch elsewhere; then \`attnvgg backbone add\` it.`;

async function check(context: CommandContext, file: string, json: boolean, width?: number): Promise<number> {
  const report = await checkBackbone(resolve(file), width === undefined ? {} : { width });
  if (json) {
    context.stdout.write(`${JSON.stringify(report)}\n`);
    return report.usable ? EXIT.ok : EXIT.badInput;
  }
  if (!report.usable) {
    context.stdout.write(`${file}: cannot be used as the VGG16_bn backbone.\n${report.problem}\n`);
    return EXIT.badInput;
  }
  const b = report.backbone!;
  const lines = [
    `${file}: usable as the VGG16_bn backbone (${formatBytes(report.bytes)}).`,
    b.form === 'onnx' || b.form === 'onnx-tar-gz'
      ? `  width ${b.width}, BatchNorm ${b.batchNorm}, written by ${b.producer}, ONNX IR ${b.irVersion}, opset ${b.opset}`
      : `  width ${b.width}, BatchNorm ${b.batchNorm}, ${b.producer}`,
    `  after the conv layers: ${b.classifier} (not imported: attnvgg trains its own head)`,
    ...report.notes.map((n) => `  note: ${n}`),
  ];
  context.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

function workspaceOf(values: Record<string, string | boolean | undefined>): string {
  return resolve(stringOption(values, 'workspace') ?? defaultWorkspaceDir());
}

async function list(context: CommandContext, workspace: string, json: boolean): Promise<number> {
  const library = new BackboneLibrary(workspace);
  const catalogue = await Promise.all(
    BACKBONE_CATALOGUE.map(async (e) => ({
      ...e,
      downloaded: (await downloadedCatalogueEntry(library, e.id)) ?? null,
    })),
  );
  const backbones = await library.list();
  if (json) {
    context.stdout.write(`${JSON.stringify({ catalogue, backbones })}\n`);
    return EXIT.ok;
  }
  const lines = ['Catalogue (attnvgg backbone download <id>):'];
  for (const e of catalogue)
    lines.push(
      `  ${e.id.padEnd(26)} ${e.sizeLabel.padStart(7)}  ${e.downloaded ? 'downloaded' : 'not downloaded yet'}`,
      `      ${e.title}; top-1 ${e.top1} %; ${e.licence}`,
      `      ${e.url} (${e.checksum.kind === 'sha256' ? 'SHA-256 pinned' : `SHA-256 prefix ${e.checksum.value} only`})`,
    );
  lines.push(`In ${workspace}:`);
  if (backbones.length === 0) lines.push('  none yet');
  for (const b of backbones)
    lines.push(
      `  ${b.id}  ${b.name}  ${formatBytes(b.bytes)}  ${b.summary}${b.present ? '' : '  (file missing)'}`,
    );
  context.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

async function add(context: CommandContext, file: string, workspace: string, json: boolean): Promise<number> {
  const entry = await new BackboneLibrary(workspace).addFile(file, checkBackbone);
  if (json) context.stdout.write(`${JSON.stringify(entry)}\n`);
  else
    context.stdout.write(
      `Added ${entry.name} (${formatBytes(entry.bytes)}): ${entry.summary}. Its id is ${entry.id}.\n`,
    );
  return EXIT.ok;
}

async function downloadEntry(
  context: CommandContext,
  id: string,
  workspace: string,
  json: boolean,
): Promise<number> {
  const { entry, downloaded } = await fetchCatalogueBackbone(context, id, workspace, json);
  if (json) context.stdout.write(`${JSON.stringify({ type: 'done', downloaded, ...entry })}\n`);
  else
    context.stdout.write(
      `${downloaded ? 'Downloaded' : 'Already downloaded'}: ${id} -> ${entry.path} (${formatBytes(entry.bytes)}; ${entry.summary}).\n`,
    );
  return EXIT.ok;
}

async function download(
  context: CommandContext,
  values: Record<string, string | boolean | undefined>,
  json: boolean,
): Promise<number> {
  const fallback = defaultBackboneSource();
  const url = stringOption(values, 'url') ?? fallback?.url;
  if (!url)
    throw new UserError(
      `Name a catalogue entry (attnvgg backbone list), or pass --url (and --sha256), or set ${BACKBONE_URL_ENV}.\n\n${HELP}`,
      EXIT.usage,
    );
  const sha256 = stringOption(values, 'sha256') ?? (values.url === undefined ? fallback?.sha256 : undefined);
  const workspace = workspaceOf(values);
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  try {
    const got = await downloadBackbone(sha256 ? { url, sha256 } : { url }, {
      workspace,
      signal: controller.signal,
      onProgress: downloadProgressWriter(context, json),
    });
    if (json) context.stdout.write(`${JSON.stringify({ type: 'done', ...got })}\n`);
    else
      context.stdout.write(
        `${got.cached ? 'Already cached' : 'Downloaded'}: ${got.path} (${formatBytes(got.bytes)}, SHA-256 ${got.sha256}${got.verified ? ', verified' : ', NOT verified: no checksum given'}).\n`,
      );
    return EXIT.ok;
  } catch (e) {
    if (controller.signal.aborted) {
      context.stderr.write('Interrupted; run the same command again to resume.\n');
      return EXIT.interrupted;
    }
    throw e;
  } finally {
    process.off('SIGINT', stop);
  }
}

export const backboneCommand: Command = {
  name: 'backbone',
  summary: 'list, download, add or check pretrained VGG16_bn backbones (ImageNet weights)',
  help: HELP,
  async run(context) {
    const { values, positionals } = parseOptions(
      context.argv,
      {
        url: { type: 'string' },
        sha256: { type: 'string' },
        workspace: { type: 'string' },
        width: { type: 'string' },
        json: { type: 'boolean' },
      },
      this.help,
    );
    if (values.help) {
      context.stdout.write(`${this.help}\n`);
      return EXIT.ok;
    }
    const [action, ...rest] = positionals;
    const json = values.json === true;
    if (action === 'check') {
      if (rest.length !== 1) throw new UserError(`Expected one ONNX file to check.\n\n${HELP}`, EXIT.usage);
      return check(context, rest[0], json, numberOption(values, 'width', { min: 0 }));
    }
    if (action === 'list') return list(context, workspaceOf(values), json);
    if (action === 'add') {
      if (rest.length !== 1) throw new UserError(`Expected one file to add.\n\n${HELP}`, EXIT.usage);
      return add(context, rest[0], workspaceOf(values), json);
    }
    if (action === 'download') {
      if (rest.length > 1 || (rest.length === 1 && values.url !== undefined))
        throw new UserError(`download takes one catalogue id, or --url.\n\n${HELP}`, EXIT.usage);
      if (rest.length === 1) {
        if (!isCatalogueId(rest[0]))
          throw new UserError(
            `"${rest[0]}" is not in the catalogue. Should be one of: ${BACKBONE_CATALOGUE.map((e) => e.id).join(', ')}`,
            EXIT.usage,
          );
        return downloadEntry(context, rest[0], workspaceOf(values), json);
      }
      return download(context, values, json);
    }
    throw new UserError(
      `${action ? `Unknown action "${action}". ` : ''}Should be one of: list, download, add, check\n\n${HELP}`,
      EXIT.usage,
    );
  },
};
