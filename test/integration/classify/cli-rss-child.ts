// Runs `attnvgg ...argv` in this process and then prints its peak resident memory as the last line of
// stderr ({"maxRssKb": N}), so a test can hold a command to a memory bound without /usr/bin/time.
// Test code only.
//   node --import tsx test/integration/classify/cli-rss-child.ts classify ...
import { runCli } from '../../../main/cli/main.js';

const code = await runCli(process.argv.slice(2));
process.stderr.write(`\n${JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS })}\n`);
process.exitCode = code;
