// How the CLI shows progress: a redrawn one-line bar on a terminal, one plain line per event otherwise,
// or one JSON object per line with --json (for machines). Must not import electron or anything from
// main/electron, main/server or renderer.

export type OutputMode = 'tty' | 'lines' | 'json';

export function outputMode(stream: { isTTY?: boolean }, json: boolean): OutputMode {
  if (json) return 'json';
  return stream.isTTY ? 'tty' : 'lines';
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}`
    : `${m}:${String(r).padStart(2, '0')}`;
}

export function bar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** Writes progress lines; on a terminal the current line is redrawn in place. */
export class ProgressWriter {
  private live = false;
  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number },
    private readonly mode: OutputMode,
  ) {}

  /** A line that stays (an epoch summary, a warning). */
  line(text: string): void {
    if (this.mode === 'json') return;
    if (this.live) this.stream.write('\r\x1b[2K');
    this.live = false;
    this.stream.write(`${text}\n`);
  }

  /** A line that is replaced by the next one on a terminal (steps); skipped when not a terminal. */
  transient(text: string, alsoAsLine = false): void {
    if (this.mode === 'tty') {
      const columns = this.stream.columns ?? 100;
      this.stream.write(`\r\x1b[2K${text.slice(0, columns - 1)}`);
      this.live = true;
    } else if (this.mode === 'lines' && alsoAsLine) this.stream.write(`${text}\n`);
  }

  json(value: unknown): void {
    if (this.mode === 'json') this.stream.write(`${JSON.stringify(value)}\n`);
  }

  end(): void {
    if (this.live) this.stream.write('\n');
    this.live = false;
  }
}
