// `attnvgg classify merge <out-dir> <shard-dir...>`: joins the results folders of the shards of one
// array job (classify --shard K/N) into one result set in input order (services/classify/
// merge-results.ts), refusing, in plain words, shards that do not belong together. Must not import
// electron or anything from main/electron, main/server or renderer.
import { mergeShards } from '../../services/classify/merge-results.js';
import { EXIT, UserError, type CommandContext } from '../command.js';
import { parseOptions } from '../parse-options.js';

export const MERGE_HELP = `Usage: attnvgg classify merge <out-dir> <shard-dir...>

Joins the results folders written by \`attnvgg classify --shard K/N\` (one per shard, every shard of one
split) into <out-dir>: results.jsonl and results.csv with one row per input in input order, and
summary.json. Refused, with what is wrong, when a shard is missing, unfinished or given twice, when the
shards used another model file (SHA-256), other options or another input, or when an input has no row.
Heat-maps stay in the shard folders; the merged rows point to them.

Options:
  --json               the outcome as one JSON line on stdout`;

export async function runClassifyMerge(context: CommandContext): Promise<number> {
  const { values, positionals } = parseOptions(context.argv, { json: { type: 'boolean' } }, MERGE_HELP);
  if (values.help) {
    context.stdout.write(`${MERGE_HELP}\n`);
    return EXIT.ok;
  }
  const [out, ...shards] = positionals;
  if (!out || shards.length === 0)
    throw new UserError(`Expected an output folder and the shards' folders.\n\n${MERGE_HELP}`, EXIT.usage);
  const outcome = await mergeShards(out, shards);
  const { summary } = outcome.summary;
  if (values.json)
    context.stdout.write(
      `${JSON.stringify({ type: 'merged', results: outcome.rowsPath, csv: outcome.csvPath, summaryFile: outcome.summaryPath, shards: shards.length, ...summary })}\n`,
    );
  else
    context.stdout.write(
      `Merged ${shards.length} shards: ${summary.images} files (${summary.ok} classified, ${summary.failed} could not be read).\nResults: ${outcome.csvPath}\n`,
    );
  return EXIT.ok;
}
