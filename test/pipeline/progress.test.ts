import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteProgress, formatSeconds, progressOutput } from '../../src/pipeline/progress.js';
import { UploadProgress } from '../../src/github/progress.js';
import { Logger } from '../../src/pipeline/logger.js';
import { writeArchive, type ArchiveEntry } from '../../src/stages/archive/writer.js';
import { hashFile } from '../../src/util/fs.js';

const MiB = 1024 * 1024;

/** A fake clock and terminal/log sinks. */
function sinks(tty: boolean) {
  let t = 0;
  const lines: string[] = [];
  const writes: string[] = [];
  return {
    lines,
    writes,
    tick: (ms: number) => (t += ms),
    out: { info: (l: string) => lines.push(l), now: () => t, ...(tty ? { stream: { isTTY: true, columns: 120, write: (s: string) => writes.push(s) } } : {}) },
  };
}

describe('progress in CI logs (no TTY)', () => {
  it('work that ends within 2 s prints nothing', () => {
    const s = sinks(false);
    const p = new ByteProgress('archiving', 100 * MiB, s.out);
    for (let i = 0; i < 100; i++) {
      s.tick(15);
      p.add(MiB);
    }
    p.end();
    expect(s.lines).toEqual([]);
  });

  it('long work: a plain line at most every 10 s of (fake) time with bytes, rate and ETA, a last line at the end, never a carriage return', () => {
    const s = sinks(false);
    const p = new ByteProgress('hashing', 600 * MiB, s.out);
    // 600 MiB at 10 MiB/s: 60 s, one add every 100 ms.
    for (let i = 0; i < 600; i++) {
      s.tick(100);
      p.add(MiB);
    }
    p.end();
    // First line at 2 s, then every 10 s: at 2 s, 12 s, … 52 s → 6 lines, plus the final one.
    expect(s.lines).toHaveLength(7);
    expect(s.lines[0]).toMatch(/^hashing: 20\.0 MiB \/ 600\.0 MiB \(3%\), 10\.0 MiB\/s, ETA 58s$/);
    expect(s.lines.at(-1)).toBe('hashing: 600.0 MiB in 1m00s (10.0 MiB/s)');
    expect(s.lines.join('\n')).not.toMatch(/[\r\u001b]/);
    expect(s.writes).toEqual([]);
  });

  it('--json: progress lines are JSON log records at the same pace', () => {
    const out: string[] = [];
    const log = new Logger({ json: true, stream: { write: (x: string) => (out.push(x), true) } as never });
    let t = 0;
    const p = new ByteProgress('archiving', 30 * MiB, { ...progressOutput(log, { isTTY: true } as never), now: () => t });
    for (let i = 0; i < 30; i++) {
      t += 1000;
      p.add(MiB);
    }
    p.end();
    const records = out.join('').trim().split('\n').map((l) => JSON.parse(l) as { msg?: string; message?: string });
    expect(records.length).toBe(4); // 2 s, 12 s, 22 s and the end
    expect(JSON.stringify(records[0])).toMatch(/archiving: 2\.0 MiB \/ 30\.0 MiB/);
  });
});

describe('progress on a terminal', () => {
  it('redraws one line (bar, bytes, rate, ETA) at most every 100 ms and clears it at the end', () => {
    const s = sinks(true);
    const p = new ByteProgress('archiving', 10 * MiB, s.out);
    for (let i = 0; i < 100; i++) {
      s.tick(10);
      p.add(MiB / 10);
    }
    // 1 s of work in 10 ms steps: at most 10 redraws.
    const draws = s.writes.filter((w) => w.length > 4);
    expect(draws.length).toBeGreaterThan(5);
    expect(draws.length).toBeLessThanOrEqual(10);
    expect(draws.at(-1)).toMatch(/^\r\u001b\[2Karchiving \[#+\.*\] \d+\.\d MiB \/ 10\.0 MiB \(\d+%\), 10\.0 MiB\/s, ETA \d+s$/);
    p.end();
    expect(s.writes.at(-1)).toBe('\r\u001b[2K');
    expect(s.lines).toEqual([]);
  });

  it('uploads: the live line counts bytes across assets; a retried asset adds its size again', () => {
    const s = sinks(true);
    const up = new UploadProgress({ info: (l) => s.lines.push(l), stream: s.out.stream as never, now: s.out.now });
    const a = { name: 'a.tar.gz', path: 'a', size: 1000, sha256: '', contentType: 'x' };
    up.setTotal(1, 1000);
    up.start(a, 1);
    s.tick(200);
    up.bytes(a, 600);
    up.start(a, 2);
    s.tick(200);
    up.bytes(a, 500);
    expect(s.writes.at(-1)).toMatch(/uploading 0\/1 \(1\.1 KiB \/ 2\.0 KiB \(55%\), /);
    up.finish(a, 'uploaded');
    up.stop();
    expect(s.lines).toEqual(['retrying a.tar.gz (try 2)', '[1/1] uploaded a.tar.gz (1000 B)']);
  });
});

describe('what the stages count', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relsign-progress-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('archiving and hashing report exactly the bytes of the files they read', async () => {
    const sizes = [3 * MiB + 17, 1, 5000];
    const entries: ArchiveEntry[] = [];
    for (const [i, size] of sizes.entries()) {
      const src = join(dir, `f${i}`);
      await writeFile(src, Buffer.alloc(size, i));
      entries.push({ src, dst: `f${i}`, mode: 0o644, mtime: new Date(0), owner: 'root', group: 'root', stats: await stat(src) });
    }
    for (const format of ['tar.gz', 'zip'] as const) {
      let counted = 0;
      await writeArchive(format, join(dir, `out.${format}`), entries, undefined, (n) => (counted += n));
      expect(counted).toBe(sizes.reduce((a, b) => a + b, 0));
    }
    let hashed = 0;
    await hashFile(entries[0]!.src, 'sha256', (n) => (hashed += n));
    expect(hashed).toBe(sizes[0]);
  });

  it('formats durations', () => {
    expect([formatSeconds(0), formatSeconds(59.4), formatSeconds(61), formatSeconds(3725)]).toEqual(['0s', '59s', '1m01s', '1h02m']);
  });
});
