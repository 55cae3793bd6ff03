import { randomUUID } from 'node:crypto';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';

/**
 * GitHub client plumbing for the release publisher: an Octokit with
 * plugin-throttling whose write scheduling is replaced by relsign's own
 * per-minute budget, plus one retry policy shared by API calls and uploads.
 * Every timing source (clock, sleep) is injectable so tests run instantly.
 */

export const DEFAULT_API_URL = 'https://api.github.com';

/** Time source. Tests pass a fake whose sleep advances `now` instantly. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface PacingOptions {
  /** Content-creating requests allowed in any 60 s window (GitHub's secondary limit is 80). */
  perMinute: number;
  /** Content-creating requests allowed in any hour (GitHub's secondary limit is 500). */
  perHour: number;
}

export const DEFAULT_PACING: PacingOptions = { perMinute: 80, perHour: 500 };

/**
 * Sliding-window budget for write requests (POST/PATCH/PUT/DELETE, uploads
 * included). `acquire` resolves when one more request fits in both windows.
 * Acquisitions are serialized, so concurrent uploads queue fairly.
 */
export class RequestPacer {
  /** Start times of granted requests, oldest first (only the last hour is kept). */
  private readonly granted: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  /** Every grant, for diagnostics and tests. */
  readonly history: number[] = [];

  constructor(
    readonly options: PacingOptions = DEFAULT_PACING,
    private readonly clock: Clock = realClock,
  ) {
    if (options.perMinute < 1 || options.perHour < 1) throw new Error('pacing limits must be at least 1');
  }

  acquire(signal?: AbortSignal): Promise<void> {
    const next = this.queue.then(() => this.waitForSlot(signal));
    // A failed (aborted) acquisition must not block the ones behind it.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async waitForSlot(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.clock.now();
      while (this.granted.length > 0 && this.granted[0]! <= now - 3_600_000) this.granted.shift();
      const wait = Math.max(
        this.waitFor(now, 60_000, this.options.perMinute),
        this.waitFor(now, 3_600_000, this.options.perHour),
      );
      if (wait <= 0) {
        this.granted.push(now);
        this.history.push(now);
        return;
      }
      await this.clock.sleep(wait, signal);
    }
  }

  /** How long until fewer than `limit` grants fall inside the window ending now. */
  private waitFor(now: number, windowMs: number, limit: number): number {
    const inWindow = this.granted.filter((t) => t > now - windowMs);
    if (inWindow.length < limit) return 0;
    // The grant that must age out is the limit-th most recent one.
    const oldestBlocking = inWindow[inWindow.length - limit]!;
    return oldestBlocking + windowMs - now + 1;
  }
}

export interface RetryOptions {
  /** Total tries per request, including the first. */
  attempts: number;
  /** First backoff delay; doubles each try up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Wait used when a secondary limit gives no retry-after (GitHub says: at least a minute). */
  secondaryFallbackMs: number;
  /** Longest wait for a primary rate-limit reset before giving up. */
  maxRateLimitWaitMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  attempts: 8,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  secondaryFallbackMs: 60_000,
  maxRateLimitWaitMs: 15 * 60_000,
};

/** The fields of an Octokit RequestError we look at. */
export interface HttpErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
  cause?: unknown;
  name?: string;
}

export function httpStatus(err: unknown): number | undefined {
  const s = (err as HttpErrorLike | undefined)?.status;
  return typeof s === 'number' ? s : undefined;
}

function header(err: HttpErrorLike, name: string): string | undefined {
  const v = err.response?.headers?.[name];
  return v === undefined ? undefined : String(v);
}

/** GitHub's 422 `{resource: ReleaseAsset, code: already_exists, field: name}`. */
export function isAlreadyExists(err: unknown): boolean {
  if (httpStatus(err) !== 422) return false;
  const data = (err as HttpErrorLike).response?.data as { errors?: Array<{ code?: string }> } | undefined;
  return Array.isArray(data?.errors) && data.errors.some((e) => e?.code === 'already_exists');
}

export function isSecondaryRateLimit(err: unknown): boolean {
  const s = httpStatus(err);
  if (s !== 403 && s !== 429) return false;
  const e = err as HttpErrorLike;
  return /secondary rate/i.test(e.message ?? '') || header(e, 'retry-after') !== undefined;
}

export interface RetryDecisionContext {
  /** A 404 is retried too (a release created moments ago may not have replicated yet). */
  retryNotFound?: boolean;
  clock: Clock;
}

/**
 * How long to wait before retrying `err` on try number `attempt` (1-based),
 * or undefined when it must not be retried: 5xx, connection failures
 * (Octokit reports them as status 500), 429, secondary-limit 403 (honouring
 * retry-after), an exhausted primary limit (waiting for its reset), and 404
 * right after a create.
 */
export function retryDelay(err: unknown, attempt: number, options: RetryOptions, ctx: RetryDecisionContext): number | undefined {
  const e = (err ?? {}) as HttpErrorLike;
  if (e.name === 'AbortError') return undefined;
  const status = httpStatus(err);
  const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  if (status === undefined) {
    // Not an HTTP error: a reset socket surfaced some other way. Retry network-ish errors only.
    const code = (e.cause as { code?: string } | undefined)?.code ?? (e as { code?: string }).code;
    return code && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_\w+)$/.test(code) ? backoff : undefined;
  }
  if (status === 403 || status === 429) {
    if (header(e, 'x-ratelimit-remaining') === '0' && !isSecondaryRateLimit(err)) {
      const reset = Number(header(e, 'x-ratelimit-reset'));
      const wait = Number.isFinite(reset) && reset > 0 ? reset * 1000 - ctx.clock.now() + 1000 : options.secondaryFallbackMs;
      return wait <= options.maxRateLimitWaitMs ? Math.max(wait, 0) : undefined;
    }
    if (isSecondaryRateLimit(err) || status === 429) {
      const after = Number(header(e, 'retry-after'));
      if (Number.isFinite(after) && after >= 0 && header(e, 'retry-after') !== '') return after * 1000;
      return status === 429 ? backoff : options.secondaryFallbackMs;
    }
    return undefined;
  }
  if (status >= 500) return backoff;
  if (status === 404 && ctx.retryNotFound) return backoff;
  return undefined;
}

export interface ClientOptions {
  token: string;
  /** API root: https://api.github.com or https://HOST/api/v3 for GitHub Enterprise Server. */
  apiUrl?: string;
  pacer?: RequestPacer;
  userAgent?: string;
  /** Custom fetch (tests). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export type GitHubClient = Octokit;

const ThrottledOctokit = Octokit.plugin(throttling);

/**
 * An Octokit that paces every write through `pacer` (instead of the plugin's
 * fixed 1 s spacing) and never retries by itself: relsign's retry loop does,
 * because an upload must re-open its file on each try, which no plugin can.
 */
export function createGitHubClient(options: ClientOptions): GitHubClient {
  const pacer = options.pacer ?? new RequestPacer();
  // plugin-throttling calls `group.key(id).schedule(jobOptions, fn)` before each write.
  const pacedGroup = {
    key: () => ({
      schedule: async <T>(_job: unknown, fn: () => Promise<T> | T): Promise<T> => {
        await pacer.acquire(options.signal);
        return fn();
      },
    }),
  };
  const passThrough = { key: () => ({ schedule: async <T>(_job: unknown, fn: () => Promise<T> | T) => fn() }) };
  return new ThrottledOctokit({
    auth: options.token,
    baseUrl: (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, ''),
    userAgent: options.userAgent ?? 'relsign',
    request: { ...(options.fetch ? { fetch: options.fetch } : {}), ...(options.signal ? { signal: options.signal } : {}) },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    throttle: {
      id: randomUUID(),
      // Our own budget replaces the fixed write spacing; notifications are covered by it too.
      write: pacedGroup as never,
      notifications: passThrough as never,
      onRateLimit: () => false,
      onSecondaryRateLimit: () => false,
    },
  });
}

/**
 * Runs `fn` until it succeeds, retrying what `retryDelay` allows. `fn` gets
 * the 1-based try number; it must rebuild any request body itself.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: {
    retry: RetryOptions;
    clock: Clock;
    signal?: AbortSignal;
    retryNotFound?: () => boolean;
    onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const delay =
        attempt < options.retry.attempts
          ? retryDelay(err, attempt, options.retry, { clock: options.clock, retryNotFound: options.retryNotFound?.() })
          : undefined;
      if (delay === undefined) throw err;
      options.onRetry?.(err, attempt, delay);
      await options.clock.sleep(delay, options.signal);
    }
  }
}

/** One-line description of an HTTP failure, with GitHub's validation details. */
export function describeHttpError(err: unknown): string {
  const e = (err ?? {}) as HttpErrorLike;
  const status = httpStatus(err);
  let msg = (e.message ?? String(err)).split('\n')[0] ?? '';
  const data = e.response?.data as { message?: string; errors?: Array<Record<string, unknown>> } | undefined;
  if (data && typeof data === 'object' && Array.isArray(data.errors) && data.errors.length > 0) {
    const details = data.errors
      .map((x) => (typeof x.message === 'string' ? x.message : [x.resource, x.field, x.code].filter(Boolean).join(' ')))
      .join('; ');
    if (details && !msg.includes(details)) msg += ` (${details})`;
  }
  if (status === 500 && e.cause && !e.response) {
    // Octokit reports a failed connection as a synthetic 500 with the fetch error as cause.
    const c = e.cause as { message?: string; cause?: { code?: string; message?: string } };
    const inner = c.cause?.code ?? c.cause?.message ?? c.message;
    if (inner && !msg.includes(inner)) msg += ` (${inner})`;
    return `connection error: ${msg}`;
  }
  return status !== undefined && !msg.startsWith(String(status)) ? `HTTP ${status}: ${msg}` : msg;
}
