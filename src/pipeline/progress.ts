/**
 * Progress of long byte-counted work (archiving, hashing, uploading).
 *
 * On a terminal it redraws one line — bytes done of the total, rate and ETA —
 * at most every 100 ms, and clears it when the work ends. Anywhere else (CI
 * logs, `--json`) it stays silent for work that ends within 2 s, then writes a
 * plain log line at most every 10 s: no carriage returns, nothing a log viewer
 * shows as noise. The log lines go through the run's logger, so `--json` gets
 * them as JSON records.
 */

export interface ProgressOutput {
  /** Writes one log line (the run's logger: redacted, JSON under --json). */
  info: (line: string) => void;
  /** The terminal for the live line; no live line unless it is a TTY. */
  stream?: { isTTY?: boolean; columns?: number; write(text: string): unknown };
  /** Clock in ms (tests pass a fake one). */
  now?: () => number;
}

/** How often and how soon progress shows (ms). */
export interface ProgressPace {
  ttyEveryMs: number;
  logEveryMs: number;
  quietForMs: number;
}

export const DEFAULT_PACE: ProgressPace = { ttyEveryMs: 100, logEveryMs: 10_000, quietForMs: 2_000 };

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function formatSeconds(s: number): string {
  const whole = Math.max(0, Math.round(s));
  if (whole < 60) return `${whole}s`;
  const m = Math.floor(whole / 60);
  if (m < 60) return `${m}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ByteProgress {
  private doneBytes = 0;
  private readonly started: number;
  private lastDraw = -Infinity;
  private lastLog: number | undefined;
  private drawn = false;
  private ended = false;
  private readonly tty: boolean;
  private readonly now: () => number;

  /**
   * @param label what is happening, e.g. `archiving`
   * @param total bytes the work will process (0 when unknown: no percentage or ETA)
   */
  constructor(
    private readonly label: string,
    private total: number,
    private readonly out: ProgressOutput,
    private readonly pace: ProgressPace = DEFAULT_PACE,
  ) {
    this.now = out.now ?? Date.now;
    this.started = this.now();
    this.tty = Boolean(out.stream?.isTTY);
  }

  /** More bytes to process than first counted (an upload retried from the start). */
  grow(bytes: number): void {
    this.total += bytes;
  }

  /** `bytes` more were processed. */
  add(bytes: number): void {
    if (this.ended) return;
    this.doneBytes += bytes;
    const now = this.now();
    if (this.tty) {
      if (now - this.lastDraw < this.pace.ttyEveryMs) return;
      this.lastDraw = now;
      this.draw(now);
      return;
    }
    if (now - this.started < this.pace.quietForMs) return;
    if (this.lastLog !== undefined && now - this.lastLog < this.pace.logEveryMs) return;
    this.lastLog = now;
    this.out.info(`${this.label}: ${this.status(now)}`);
  }

  /** Removes the live line before another log line is written; the next add() draws it again. */
  clear(): void {
    if (this.tty && this.drawn) {
      this.out.stream!.write('\r\x1b[2K');
      this.drawn = false;
      this.lastDraw = -Infinity;
    }
  }

  /** The work is over: the live line goes; a log that showed progress gets a last line. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.clear();
    if (this.lastLog !== undefined) {
      const secs = (this.now() - this.started) / 1000;
      this.out.info(`${this.label}: ${formatBytes(this.doneBytes)} in ${formatSeconds(secs)}${secs > 0 ? ` (${formatBytes(this.doneBytes / secs)}/s)` : ''}`);
    }
  }

  /** `1.2 GiB / 3.4 GiB (35%), 120.0 MiB/s, ETA 18s` */
  status(now = this.now()): string {
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? this.doneBytes / secs : 0;
    const parts = [this.total > 0 ? `${formatBytes(this.doneBytes)} / ${formatBytes(this.total)} (${Math.min(100, Math.floor((100 * this.doneBytes) / this.total))}%)` : formatBytes(this.doneBytes)];
    if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
    if (rate > 0 && this.total > this.doneBytes) parts.push(`ETA ${formatSeconds((this.total - this.doneBytes) / rate)}`);
    return parts.join(', ');
  }

  private draw(now: number): void {
    const width = Math.max(20, (this.out.stream!.columns ?? 100) - 1);
    const fraction = this.total > 0 ? Math.min(1, this.doneBytes / this.total) : 0;
    const bar = this.total > 0 ? `[${'#'.repeat(Math.round(fraction * 20)).padEnd(20, '.')}] ` : '';
    let text = `${this.label} ${bar}${this.status(now)}`;
    if (text.length > width) text = `${text.slice(0, width - 1)}…`;
    this.out.stream!.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }
}

/**
 * Where a stage's progress goes: the run's logger, and stderr as the live line
 * when it is a terminal and the log is not JSON.
 */
export function progressOutput(log: { info(line: string): void; json: boolean }, stream: NodeJS.WriteStream = process.stderr): ProgressOutput {
  return { info: (l) => log.info(l), ...(!log.json && stream.isTTY ? { stream } : {}) };
}
