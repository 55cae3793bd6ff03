/**
 * Timeouts and bounded retries for the Sigstore services (Fulcio, Rekor, TSA)
 * and the OIDC token endpoint. These fail transiently in real CI (Rekor 502s
 * and 429s, OIDC fetch errors), so each call is tried a few times with
 * exponential backoff; a final failure names the service, its URL and the
 * last cause, on one line.
 */
import { RelsignError } from '../util/errors.js';

export interface RetryOptions {
  /** Per attempt; default 30 s. */
  timeoutMs?: number;
  /** Retries after the first attempt; default 3. */
  retries?: number;
  /** First backoff delay, doubled each retry up to maxDelayMs; default 500 ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 3;
/** Hard bounds, whatever the configuration says. */
const MAX_RETRIES = 10;

export type AttemptResult<T> = { value: T } | { retryable: boolean; status?: number; statusText?: string; message?: string };

/** What went wrong in one attempt, and whether trying again can help. */
export interface Failure {
  retryable: boolean;
  reason: string;
}

export function httpFailure(status: number, statusText = '', detail = ''): Failure {
  const text = [statusText, detail].filter(Boolean).join(': ');
  return { retryable: status === 408 || status === 429 || status >= 500, reason: `HTTP ${status}${text ? ` ${oneLine(text)}` : ''}` };
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** Network-level failures (refused, reset, DNS, timeout) are transient; the reason is their code. */
export function networkFailure(err: unknown, timeoutMs: number): Failure {
  const seen = new Set<unknown>();
  let e: unknown = err;
  for (let depth = 0; e && depth < 5 && !seen.has(e); depth++) {
    seen.add(e);
    const x = e as { name?: string; code?: string; type?: string; errno?: string };
    if (x.name === 'TimeoutError' || x.type === 'request-timeout' || x.code === 'ETIMEDOUT' || x.code === 'UND_ERR_HEADERS_TIMEOUT') {
      return { retryable: true, reason: `no answer within ${formatMs(timeoutMs)}` };
    }
    const code = x.code && x.code !== 'FETCH_ERROR' ? x.code : x.errno;
    if (typeof code === 'string' && /^E[A-Z]+$|^UND_ERR/.test(code)) return { retryable: true, reason: code };
    e = (e as { cause?: unknown }).cause;
  }
  return { retryable: true, reason: err instanceof Error ? oneLine(err.message) : String(err) };
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the retries run out.
 * Each attempt gets an AbortSignal that fires after the per-attempt timeout
 * (or when the caller's signal aborts).
 */
export async function withRetries<T>(
  what: string,
  options: RetryOptions | undefined,
  attempt: (signal: AbortSignal, timeoutMs: number) => Promise<AttemptResult<T>>,
): Promise<T> {
  const timeoutMs = Math.max(1, options?.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const retries = Math.min(MAX_RETRIES, Math.max(0, options?.retries ?? DEFAULT_RETRIES));
  let delay = Math.max(0, options?.minDelayMs ?? 500);
  const maxDelay = Math.max(delay, options?.maxDelayMs ?? 8_000);
  let last: Failure = { retryable: false, reason: 'not attempted' };
  for (let i = 0; i <= retries; i++) {
    if (options?.signal?.aborted) throw new RelsignError(`${what}: cancelled`);
    const signals = [AbortSignal.timeout(timeoutMs), ...(options?.signal ? [options.signal] : [])];
    const signal = AbortSignal.any(signals);
    try {
      const r = await attempt(signal, timeoutMs);
      if ('value' in r) return r.value;
      last = r.status !== undefined ? httpFailure(r.status, r.statusText, r.message) : { retryable: r.retryable, reason: r.message ?? 'failed' };
      if (r.status !== undefined && !r.retryable) last.retryable = false;
    } catch (err) {
      if (err instanceof RelsignError) throw err;
      if (options?.signal?.aborted) throw new RelsignError(`${what}: cancelled`);
      last = classify(err, timeoutMs);
    }
    if (!last.retryable || i === retries) break;
    await sleep(delay, options?.signal);
    delay = Math.min(maxDelay, delay * 2);
  }
  const attempts = last.retryable ? ` (${retries + 1} attempts)` : '';
  throw new RelsignError(`${what}: ${last.reason}${attempts}`);
}

/** Errors thrown by @sigstore/sign's clients carry an HTTPError (statusCode) or a fetch error as their cause. */
export function classify(err: unknown, timeoutMs: number): Failure {
  const seen = new Set<unknown>();
  let e: unknown = err;
  for (let depth = 0; e && depth < 5 && !seen.has(e); depth++) {
    seen.add(e);
    const status = (e as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number') {
      const msg = (e as Error).message ?? '';
      // HTTPError's message is "(502) Bad Gateway": keep the text after the status.
      return httpFailure(status, msg.replace(/^\(\d+\)\s*/, ''));
    }
    e = (e as { cause?: unknown }).cause;
  }
  return networkFailure(err, timeoutMs);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `30s`, `2m`, `1500ms`, or a bare number of seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d{1,7})(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new RelsignError(`${flag}: invalid duration ${JSON.stringify(text)} (e.g. 30s, 2m, 1500ms)`);
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms <= 0 || ms > 3_600_000) throw new RelsignError(`${flag}: ${JSON.stringify(text)} is out of range (1ms to 1h)`);
  return ms;
}
