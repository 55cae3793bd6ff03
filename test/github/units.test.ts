import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, RequestPacer, isSecondaryRateLimit, retryDelay } from '../../src/github/client.js';
import { contentTypeFor } from '../../src/github/mime.js';
import { UploadProgress, summaryTable } from '../../src/github/progress.js';
import { mergeBody, truncateBody } from '../../src/github/publish.js';
import type { LocalAsset } from '../../src/github/releases.js';
import { fakeClock } from './helpers.js';

const err = (status: number, headers: Record<string, string> = {}, message = 'x') => ({ status, message, response: { headers } });

describe('retryDelay', () => {
  const clock = fakeClock(1_000_000);
  const d = (e: unknown, attempt = 1, retryNotFound = false) => retryDelay(e, attempt, DEFAULT_RETRY, { clock, retryNotFound });

  it('retries 5xx and connection failures with exponential backoff', () => {
    expect(d(err(502))).toBe(1000);
    expect(d(err(500), 3)).toBe(4000);
    expect(d(err(503), 20)).toBe(60_000); // capped
    expect(d({ message: 'fetch failed', cause: { code: 'ECONNRESET' } })).toBe(1000);
  });
  it('honours retry-after on secondary limits and 429; falls back to 60 s', () => {
    expect(isSecondaryRateLimit(err(403, {}, 'You have exceeded a secondary rate limit'))).toBe(true);
    expect(d(err(403, { 'retry-after': '30' }, 'You have exceeded a secondary rate limit'))).toBe(30_000);
    expect(d(err(403, {}, 'You have exceeded a secondary rate limit'))).toBe(60_000);
    expect(d(err(429, { 'retry-after': '5' }))).toBe(5000);
    expect(d(err(429))).toBe(1000);
  });
  it('waits for a primary limit reset (when short enough)', () => {
    const reset = String(Math.floor(clock.now() / 1000) + 120);
    expect(d(err(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }))).toBeGreaterThanOrEqual(120_000);
    const far = String(Math.floor(clock.now() / 1000) + 7200);
    expect(d(err(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': far }))).toBeUndefined();
  });
  it('does not retry other 4xx; 404 only right after a create', () => {
    for (const s of [400, 401, 403, 410, 422]) expect(d(err(s))).toBeUndefined();
    expect(d(err(404))).toBeUndefined();
    expect(d(err(404), 1, true)).toBe(1000);
    expect(d({ name: 'AbortError', message: 'aborted' })).toBeUndefined();
  });
});

describe('RequestPacer', () => {
  it('never grants more than perMinute in any 60 s window, nor perHour per hour', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer({ perMinute: 5, perHour: 12 }, clock);
    for (let i = 0; i < 30; i++) await pacer.acquire();
    const h = pacer.history;
    for (const t of h) {
      expect(h.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(5);
      expect(h.filter((u) => u >= t && u < t + 3_600_000).length).toBeLessThanOrEqual(12);
    }
    expect(h[4]! - h[0]!).toBe(0); // a burst of 5 is fine
    expect(h[5]! - h[0]!).toBeGreaterThan(60_000);
    expect(h[12]! - h[0]!).toBeGreaterThan(3_600_000);
  });
  it('serializes concurrent waiters', async () => {
    const clock = fakeClock();
    const pacer = new RequestPacer({ perMinute: 2, perHour: 100 }, clock);
    await Promise.all(Array.from({ length: 6 }, () => pacer.acquire()));
    expect(pacer.history).toHaveLength(6);
    expect(pacer.history[5]! - pacer.history[0]!).toBeGreaterThan(120_000);
  });
});

describe('notes and content types', () => {
  it('merges bodies by mode and truncates to GitHub limit', () => {
    expect(mergeBody('keep-existing', 'old', 'new')).toBe('old');
    expect(mergeBody('keep-existing', '', 'new')).toBe('new');
    expect(mergeBody('append', 'old', 'new')).toBe('old\n\nnew');
    expect(mergeBody('prepend', 'old', 'new')).toBe('new\n\nold');
    expect(mergeBody('replace', 'old', 'new')).toBe('new');
    const long = truncateBody('x'.repeat(200_000));
    expect(long).toHaveLength(125_000);
    expect(long.endsWith('...')).toBe(true);
  });
  it('maps extensions to media types', () => {
    expect(contentTypeFor('a_1.0_linux_amd64.tar.gz')).toBe('application/gzip');
    expect(contentTypeFor('a.zip')).toBe('application/zip');
    expect(contentTypeFor('checksums.txt')).toBe('text/plain');
    expect(contentTypeFor('a.tar.gz.sigstore.json')).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(contentTypeFor('a.deb')).toBe('application/vnd.debian.binary-package');
    expect(contentTypeFor('widget')).toBe('application/octet-stream');
  });
});

describe('progress', () => {
  const asset = (name: string, size: number): LocalAsset => ({ name, path: name, size, sha256: '', contentType: 'x' });

  it('CI (no TTY): one line per finished asset, no control characters', () => {
    const lines: string[] = [];
    const writes: string[] = [];
    const p = new UploadProgress({ info: (l) => lines.push(l), stream: { isTTY: false, write: (s: string) => (writes.push(s), true) } as never });
    p.setTotal(2);
    const a = asset('a.tar.gz', 2048);
    p.start(a, 1);
    p.bytes(a, 1024);
    p.finish(a, 'uploaded');
    p.finish(asset('b.zip', 10), 'kept');
    expect(lines).toEqual(['[1/2] uploaded a.tar.gz (2.0 KiB)', '[2/2] kept b.zip (10 B)']);
    expect(writes).toEqual([]);
  });

  it('TTY: redraws a status line with bytes, rate, ETA and percentages, and clears it before log lines', () => {
    const lines: string[] = [];
    const writes: string[] = [];
    let t = 0;
    const p = new UploadProgress({
      info: (l) => lines.push(l),
      stream: { isTTY: true, columns: 80, write: (s: string) => (writes.push(s), true) } as never,
      now: () => (t += 200),
    });
    p.setTotal(1, 1000);
    const a = asset('a.tar.gz', 1000);
    p.start(a, 1);
    p.bytes(a, 500);
    expect(writes.at(-1)).toMatch(/^\r\x1b\[2Kuploading 0\/1 \(500 B \/ 1000 B \(50%\), \d+ B\/s, ETA \d+s\): a\.tar\.gz 50%$/);
    p.finish(a, 'uploaded');
    expect(writes.at(-1)).toBe('\r\x1b[2K');
    expect(lines).toEqual(['[1/1] uploaded a.tar.gz (1000 B)']);
  });

  it('summary table', () => {
    expect(
      summaryTable([
        { name: 'a.tar.gz', size: 3 * 1024 * 1024, status: 'uploaded' },
        { name: 'checksums.txt', size: 100, status: 'kept' },
      ]),
    ).toEqual([
      'ASSET             SIZE  STATUS',
      'a.tar.gz       3.0 MiB  uploaded',
      'checksums.txt    100 B  kept',
      '2 assets: 1 uploaded, 1 kept, 0 replaced',
    ]);
  });
});
