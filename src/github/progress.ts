import { ByteProgress, DEFAULT_PACE, formatBytes } from '../pipeline/progress.js';
import type { AssetStatus, LocalAsset, ProgressSink } from './releases.js';

export { formatBytes };

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

/**
 * Per-asset upload progress over the shared byte progress (src/pipeline/progress.ts).
 * On a TTY it redraws one status line — assets done, bytes, rate and ETA, and
 * the assets in flight with their percentage — at most every 100 ms, and
 * prints a line as each asset finishes. In CI logs it prints the finished-asset
 * lines, and for uploads that run long a bytes/rate/ETA line at most every 10 s.
 */
export class UploadProgress implements ProgressSink {
  private readonly inflight = new Map<string, { size: number; sent: number; attempt: number }>();
  private done = 0;
  private total = 0;
  private lastDraw = 0;
  private drawn = false;
  private readonly tty: boolean;
  private readonly now: () => number;
  private bytesProgress: ByteProgress;

  constructor(private readonly options: ProgressOptions) {
    this.tty = Boolean(options.stream?.isTTY);
    this.now = options.now ?? Date.now;
    this.bytesProgress = this.newBytes(0);
  }

  /** How many assets, and how many bytes, this run uploads. */
  setTotal(n: number, bytes = 0): void {
    this.total = n;
    this.bytesProgress = this.newBytes(bytes);
  }

  private newBytes(total: number): ByteProgress {
    // On a TTY the live line below shows the bytes; the byte progress only counts.
    const pace = this.tty ? { ...DEFAULT_PACE, quietForMs: Infinity } : DEFAULT_PACE;
    return new ByteProgress('uploading', total, { info: (l) => this.line(l), now: this.now }, pace);
  }

  start(asset: LocalAsset, attempt: number): void {
    const before = this.inflight.get(asset.name);
    // A retry sends the whole file again.
    if (before) this.bytesProgress.grow(asset.size);
    this.inflight.set(asset.name, { size: asset.size, sent: 0, attempt });
    if (attempt > 1) this.line(`retrying ${asset.name} (try ${attempt})`);
    this.draw(true);
  }

  bytes(asset: LocalAsset, sent: number): void {
    const s = this.inflight.get(asset.name);
    if (s) {
      if (sent > s.sent) this.bytesProgress.add(sent - s.sent);
      s.sent = sent;
    }
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
    this.bytesProgress.end();
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
    let text = `uploading ${this.done}/${this.total} (${this.bytesProgress.status(now)}): ${parts.join(', ')}`;
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
