import type { AssetStatus, LocalAsset, ProgressSink } from './releases.js';

/** Where progress goes: a TTY gets a live status line, anything else one line per asset. */
export interface ProgressOptions {
  /** Log line writer (already redacted by the caller's logger). */
  info: (line: string) => void;
  /** Raw terminal stream for the live line; when it is not a TTY, no live line is drawn. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  now?: () => number;
}

export interface SummaryRow {
  name: string;
  size: number;
  status: AssetStatus;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/**
 * Per-asset progress. On a TTY it redraws one status line (the assets in
 * flight with their percentage) at most every 100 ms, and prints a line as
 * each finishes; in CI logs it prints only the finished-asset lines.
 */
export class UploadProgress implements ProgressSink {
  private readonly inflight = new Map<string, { size: number; sent: number; attempt: number }>();
  private done = 0;
  private total = 0;
  private lastDraw = 0;
  private drawn = false;
  private readonly tty: boolean;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.tty = Boolean(options.stream?.isTTY);
    this.now = options.now ?? Date.now;
  }

  setTotal(n: number): void {
    this.total = n;
  }

  start(asset: LocalAsset, attempt: number): void {
    this.inflight.set(asset.name, { size: asset.size, sent: 0, attempt });
    if (attempt > 1) this.line(`retrying ${asset.name} (try ${attempt})`);
    this.draw(true);
  }

  bytes(asset: LocalAsset, sent: number): void {
    const s = this.inflight.get(asset.name);
    if (s) s.sent = sent;
    this.draw(false);
  }

  finish(asset: LocalAsset, status: AssetStatus | 'failed', detail = ''): void {
    this.inflight.delete(asset.name);
    this.done++;
    const counter = this.total > 0 ? `[${this.done}/${this.total}] ` : '';
    this.line(`${counter}${status} ${asset.name} (${formatBytes(asset.size)})${detail ? ` ${detail}` : ''}`);
    this.draw(true);
  }

  /** Clears the live line (before a final summary or an error). */
  stop(): void {
    this.clear();
  }

  private line(text: string): void {
    this.clear();
    this.options.info(text);
  }

  private clear(): void {
    if (this.tty && this.drawn) {
      this.options.stream!.write('\r\x1b[2K');
      this.drawn = false;
    }
  }

  private draw(force: boolean): void {
    if (!this.tty || this.inflight.size === 0) return;
    const now = this.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const parts = [...this.inflight].map(([name, s]) => `${name} ${Math.floor((100 * s.sent) / Math.max(1, s.size))}%`);
    const width = Math.max(20, (this.options.stream!.columns ?? 100) - 1);
    let text = `uploading ${this.done}/${this.total}: ${parts.join(', ')}`;
    if (text.length > width) text = text.slice(0, width - 1) + '…';
    this.options.stream!.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }
}

/** The final table: asset, size, status. */
export function summaryTable(rows: readonly SummaryRow[]): string[] {
  if (rows.length === 0) return ['no assets'];
  const sizes = rows.map((r) => formatBytes(r.size));
  const w0 = Math.max(5, ...rows.map((r) => r.name.length));
  const w1 = Math.max(4, ...sizes.map((s) => s.length));
  const out = [`${'ASSET'.padEnd(w0)}  ${'SIZE'.padStart(w1)}  STATUS`];
  rows.forEach((r, i) => out.push(`${r.name.padEnd(w0)}  ${sizes[i]!.padStart(w1)}  ${r.status}`));
  const count = (s: AssetStatus) => rows.filter((r) => r.status === s).length;
  out.push(`${rows.length} assets: ${count('uploaded')} uploaded, ${count('kept')} kept, ${count('replaced')} replaced`);
  return out;
}
