import { Readable } from 'node:stream';
import { RelsignError, describeError } from '../util/errors.js';

/**
 * Transport for the registry client: one request with bounded retries and
 * backoff (429 honouring Retry-After, 5xx, dropped connections), a fresh body
 * for every attempt, and the AbortSignal honoured while waiting.
 */

export type BodySource = () => Buffer | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

export interface Backoff {
  /** First delay; each retry doubles it (full jitter). */
  baseMs: number;
  /** Cap for one delay, Retry-After included. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 300, maxMs: 30_000 };

export interface TransportOptions {
  retries: number;
  backoff: Backoff;
  signal?: AbortSignal;
  fetch: typeof fetch;
  /** Used instead of `fetch` for requests with a streamed body (blob uploads). */
  streamFetch?: typeof fetch;
  log?: { debug(msg: string): void; warn(msg: string): void };
}

export interface SendRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: BodySource;
  /** Whether a 5xx/429/reset may be retried: false for non-idempotent steps whose retry is done by the caller. */
  retry?: boolean;
}

/** Errors from the network layer that say the connection broke mid-way; worth another try. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET', 'EAI_AGAIN']);

/** The system error code behind undici's `TypeError: fetch failed`, when there is one. */
export function networkErrorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_INVALID_STATE') return code;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      e = errors[0];
      continue;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return (signal?.aborted ?? false) || (err as { name?: string })?.name === 'AbortError';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new RelsignError('interrupted', { exitCode: 130 }));
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new RelsignError('interrupted', { exitCode: 130 }));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After in milliseconds (seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^[0-9]{1,9}$/.test(v)) return Number(v) * 1000;
  if (v.length > 64) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function delayFor(attempt: number, backoff: Backoff, retryAfter?: number): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, backoff.maxMs);
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function toBody(source: BodySource): { body: NonNullable<RequestInit['body']>; stream: boolean } {
  const b = source();
  if (Buffer.isBuffer(b)) return { body: b, stream: false };
  // Passed on as an async iterable (both transports accept one).
  const iterable = (b instanceof Readable ? b : b) as AsyncIterable<Uint8Array>;
  return { body: iterable as unknown as NonNullable<RequestInit['body']>, stream: true };
}

/** Thrown for network failures; `host` is filled in by the caller's message. */
export class ConnectError extends RelsignError {
  constructor(readonly host: string, readonly code: string | undefined, cause: unknown) {
    super(`registry ${host}: cannot connect (${code ?? innermostMessage(cause)})`, { cause });
  }
}

/** undici wraps the reason (`bad port`, a TLS error) in `TypeError: fetch failed`; show the reason. */
function innermostMessage(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5; depth++) {
    const next = (e as { cause?: unknown })?.cause;
    if (!next) break;
    e = next;
  }
  return describeError(e).slice(0, 200);
}

export async function send(req: SendRequest, opts: TransportOptions): Promise<Response> {
  const retries = req.retry === false ? 0 : Math.max(0, Math.min(opts.retries, 20));
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new RelsignError('interrupted', { exitCode: 130 });
    const init: RequestInit & { duplex?: 'half' } = {
      method: req.method,
      headers: req.headers,
      redirect: 'manual',
    };
    if (opts.signal) init.signal = opts.signal;
    let doFetch = opts.fetch;
    if (req.body) {
      const { body, stream } = toBody(req.body);
      init.body = body;
      if (stream) {
        init.duplex = 'half';
        doFetch = opts.streamFetch ?? opts.fetch;
      }
    }
    let res: Response;
    try {
      res = await doFetch(req.url, init);
    } catch (err) {
      if (isAbort(err, opts.signal)) throw new RelsignError('interrupted', { exitCode: 130, cause: err });
      const code = networkErrorCode(err);
      if (attempt < retries && code !== undefined && RETRYABLE_CODES.has(code)) {
        const wait = delayFor(attempt, opts.backoff);
        opts.log?.debug(`${req.method} ${req.url.host}: ${code}, retrying in ${wait} ms`);
        await sleep(wait, opts.signal);
        continue;
      }
      throw new ConnectError(req.url.host, code, err);
    }
    if ((res.status === 429 || res.status >= 500) && attempt < retries) {
      await res.body?.cancel().catch(() => undefined);
      const wait = delayFor(attempt, opts.backoff, retryAfterMs(res.headers.get('retry-after')));
      opts.log?.debug(`${req.method} ${req.url.host}${req.url.pathname}: ${res.status}, retrying in ${wait} ms`);
      await sleep(wait, opts.signal);
      continue;
    }
    return res;
  }
}

/** Reads at most `max` bytes of a response body; more is an error, not a truncation. */
export async function readLimited(res: Response, max: number, what: () => string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new RelsignError(`${what()}: response larger than ${max} bytes`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        throw new RelsignError(`${what()}: response larger than ${max} bytes`);
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, total);
}

/** Drains and discards a body so the connection can be reused. */
export async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}
