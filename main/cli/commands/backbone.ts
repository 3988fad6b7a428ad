// `attnvgg backbone check <file.onnx>` (can this file be imported as the pretrained VGG16_bn backbone, and
// why not) and `attnvgg backbone download` (fetch one into the workspace cache, resumable, checksummed).
// Must not import electron or anything from main/electron or renderer.

import { resolve } from 'node:path';
import { checkBackbone } from '../../services/backbone/load-backbone.js';
import {
  BACKBONE_SHA256_ENV,
  BACKBONE_URL_ENV,
  defaultBackboneSource,
  downloadBackbone,
  type DownloadProgress,
} from '../../services/backbone/download.js';
import { defaultWorkspaceDir } from '../../server/default-workspace.js';
import { EXIT, UserError, type Command, type CommandContext } from '../command.js';
import { numberOption, parseOptions, stringOption } from '../parse-options.js';

const HELP = `Usage: attnvgg backbone check <file.onnx> [--width W] [--json]
       attnvgg backbone download [--url U] [--sha256 H] [--workspace DIR] [--json]

check     says whether an ONNX file can be imported as the pretrained VGG16_bn backbone (torchvision's
          vgg16_bn exported with torch.onnx.export, BatchNorm folded or kept; the ONNX Model Zoo's
          vgg16-bn) and, if not, what differs. --width W also requires that width (ImageNet: 1.0).
          Exit 0 usable, 3 unusable.
download  fetches a backbone into <workspace>/backbones/<sha256>.onnx with progress; a dropped
          transfer resumes (run it again), and the file is kept only if its SHA-256 matches.
          --url and --sha256 default to $${BACKBONE_URL_ENV} and $${BACKBONE_SHA256_ENV}; without a
          checksum the file is kept unverified under the hash it has.
          --workspace defaults to ${defaultWorkspaceDir()}.
Offline, pass the file you have to \`attnvgg backbone check\` and to training directly.`;

function formatBytes(n: number): string {
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`;
}

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

function progressWriter(context: CommandContext, json: boolean): (p: DownloadProgress) => void {
  let lastShown = 0;
  return (p) => {
    const now = Date.now();
    if (p.phase === 'download' && now - lastShown < 500 && p.received !== p.total) return;
    lastShown = now;
    if (json) context.stdout.write(`${JSON.stringify({ type: 'progress', ...p })}\n`);
    else if (p.phase === 'verify') context.stderr.write('checking the SHA-256 ...\n');
    else
      context.stderr.write(
        `${formatBytes(p.received)}${p.total ? ` of ${formatBytes(p.total)} (${((100 * p.received) / p.total).toFixed(0)} %)` : ''}\n`,
      );
  };
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
      `No backbone URL: pass --url (and --sha256), or set ${BACKBONE_URL_ENV}.\n\n${HELP}`,
      EXIT.usage,
    );
  const sha256 = stringOption(values, 'sha256') ?? (values.url === undefined ? fallback?.sha256 : undefined);
  const workspace = resolve(stringOption(values, 'workspace') ?? defaultWorkspaceDir());
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  try {
    const got = await downloadBackbone(sha256 ? { url, sha256 } : { url }, {
      workspace,
      signal: controller.signal,
      onProgress: progressWriter(context, json),
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
  summary: 'check or download a pretrained VGG16_bn backbone (ONNX)',
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
    if (action === 'download') {
      if (rest.length !== 0)
        throw new UserError(`download takes no file argument (use --url).\n\n${HELP}`, EXIT.usage);
      return download(context, values, json);
    }
    throw new UserError(
      `${action ? `Unknown action "${action}". ` : ''}Should be one of: check, download\n\n${HELP}`,
      EXIT.usage,
    );
  },
};
