import { createHash, type Hash } from 'node:crypto';
import net from 'node:net';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { RelsignError } from '../util/errors.js';
import { streamingFetch } from '../github/http.js';
import { RegistryAuth } from './auth.js';
import { dockerConfigCredentials, type CredentialResolver } from './credentials.js';
import { ConnectError, DEFAULT_BACKOFF, RETRYABLE_CODES, discard, readLimited, retryAfterMs, send, sleep, type Backoff, type BodySource, type TransportOptions } from './http.js';
import { digestProblem, isDigest, validRepository, validTag } from './reference.js';
import { DEFAULT_MANIFEST_ACCEPT, type Descriptor } from './types.js';

/**
 * A Distribution API v2 (OCI distribution spec) client: blobs, manifests, tags
 * and referrers, with the registry's own auth flow. Every byte pulled is
 * checked against its digest; layers are streamed, never held whole.
 */

export interface RepoRef {
  registry: string;
  repository: string;
}

export interface RegistryClientOptions {
  /** Default: the Docker config only (`dockerConfigCredentials()`). */
  credentials?: CredentialResolver;
  /** Hosts (`host` or `host:port`) allowed plain HTTP; loopback always is. */
  insecureRegistries?: string[];
  signal?: AbortSignal;
  /** Retries after 429/5xx/dropped connections; default 4, exponential backoff with jitter. */
  retries?: number;
  log?: { debug(msg: string): void; warn(msg: string): void };
  /** Applied to every error message before it is thrown. */
  redact?: (text: string) => string;
  /** Backoff timing (tests shorten it). */
  backoff?: Backoff;
  /** Transport; default Node's global fetch. */
  fetch?: typeof fetch;
  /**
   * Transport for streamed blob uploads; default `streamingFetch` (node:http). Node 20's fetch
   * reads a streamed body ahead of the socket: pushing a 100 MiB layer peaked at 155–198 MB RSS
   * with it, 93 MB with node:http's backpressure (bench/oci-push-bench.mjs).
   */
  streamFetch?: typeof fetch;
  /**
   * PATCH chunk size for blob uploads. Default: none, i.e. blobs up to 64 MiB go in one
   * PUT and larger ones in one streamed PATCH, as docker push does. Set it for a registry or
   * proxy that limits request sizes: blobs up to `chunkSize` then go in one PUT, larger ones in
   * PATCH chunks of `chunkSize`.
   */
  chunkSize?: number;
  /** Page size asked for in tag listings (`n`), default 1000. */
  pageSize?: number;
}

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/**
 * Without a chunk size, blobs up to this size are uploaded with one PUT and larger ones with a
 * single streamed PATCH. Multi-PATCH uploads are opt-in: each PATCH costs distribution 2.8 ~50 ms
 * (bench/oci-push-bench.mjs), and some registries mishandle them (ECR keeps only the first PATCH,
 * aws/containers-roadmap#2831).
 */
export const MONOLITHIC_MAX = 64 * 1024 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const MAX_REDIRECTS = 5;
const MAX_PAGES = 1000;
const MAX_TAGS = 1_000_000;
const MAX_REFERRERS = 100_000;
const TAGS_PAGE_SIZE = 1000;

type Verb = 'pull' | 'push' | 'delete' | 'list' | 'referrers';

interface Op {
  verb: Verb;
  repo: RepoRef;
}

interface ApiRequest {
  method: string;
  url: URL;
  scopes: string[];
  headers?: Record<string, string>;
  body?: BodySource;
  retry?: boolean;
  followRedirects?: boolean;
  /** false when `body()` cannot produce the same bytes again (a slice of a stream being uploaded). */
  replayable?: boolean;
}

/** Internal: an upload step failed in a way a fresh upload may fix. */
class RetryableUpload extends Error {
  constructor(readonly error: RelsignError, readonly retryAfter?: string | null) {
    super(error.message);
  }
}

export function isLoopbackHost(host: string): boolean {
  let h = host;
  if (h.startsWith('[')) h = h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  else if (h.includes(':') && h.indexOf(':') === h.lastIndexOf(':')) h = h.slice(0, h.indexOf(':'));
  h = h.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return net.isIPv4(h) && h.startsWith('127.');
}

function hasher(digest: string): { hash: Hash; algo: string } {
  const algo = digest.slice(0, digest.indexOf(':'));
  return { hash: createHash(algo === 'sha512' ? 'sha512' : 'sha256'), algo };
}

function baseMediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]?.trim() ?? '';
}

function clean(text: string, max: number): string {
  // Registry text is hostile: one line, printable, bounded.
  const one = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/** `400 DIGEST_INVALID: provided digest did not match uploaded content`, from a registry's error body. */
export function describeRegistryError(status: number, body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown; message?: unknown }[] };
    const first = Array.isArray(parsed.errors) ? parsed.errors[0] : undefined;
    if (first && typeof first.code === 'string') {
      const msg = typeof first.message === 'string' && first.message ? `: ${clean(first.message, 200)}` : '';
      return `${status} ${clean(first.code, 60)}${msg}`;
    }
  } catch {
    // not JSON: the status alone says enough
  }
  return String(status);
}

/** Attempts at a manifest PUT that the registry refused over a blob it had not settled yet. */
const MANIFEST_PUT_ATTEMPTS = 3;

export class RegistryClient {
  private readonly auth: RegistryAuth;
  private readonly insecure: Set<string>;
  private readonly transport: TransportOptions;
  private readonly redact: (text: string) => string;
  readonly chunkSize: number | undefined;

  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.insecure = new Set((opts.insecureRegistries ?? []).map((h) => h.toLowerCase()));
    this.transport = {
      retries: opts.retries ?? 4,
      backoff: opts.backoff ?? DEFAULT_BACKOFF,
      fetch: opts.fetch ?? globalThis.fetch,
      streamFetch: opts.streamFetch ?? opts.fetch ?? streamingFetch,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    };
    this.redact = opts.redact ?? ((t) => t);
    this.chunkSize = opts.chunkSize;
    this.auth = new RegistryAuth({
      transport: () => this.transport,
      credentials: opts.credentials ?? dockerConfigCredentials(),
      allowHttp: (host) => this.allowHttp(host),
    });
  }

  allowHttp(host: string): boolean {
    const h = host.toLowerCase();
    if (isLoopbackHost(h)) return true;
    if (this.insecure.has(h)) return true;
    const hostname = h.startsWith('[') ? h : h.split(':')[0] ?? h;
    return this.insecure.has(hostname);
  }

  private base(registry: string): URL {
    const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
    return new URL(`${this.allowHttp(host) ? 'http' : 'https'}://${host}/`);
  }

  private url(repo: RepoRef, tail: string): URL {
    return new URL(`/v2/${repo.repository}/${tail}`, this.base(repo.registry));
  }

  private error(op: Op, what: string, cause?: unknown): RelsignError {
    const text = `${op.verb} ${op.repo.registry}/${op.repo.repository}: ${what}`;
    return new RelsignError(this.redact(text), cause === undefined ? {} : { cause });
  }

  private async statusError(op: Op, what: string, res: Response): Promise<RelsignError> {
    const body = await readLimited(res, MAX_ERROR_BODY, () => '').catch(() => Buffer.alloc(0));
    return this.error(op, `${what}: ${describeRegistryError(res.status, body)}`);
  }

  private check(op: Op, repo: RepoRef): void {
    if (!validRepository(repo.repository)) throw this.error(op, 'invalid repository name');
  }

  private checkDigest(op: Op, digest: string): void {
    const problem = digestProblem(digest.slice(0, 200));
    if (problem) throw this.error(op, `${problem} (got ${JSON.stringify(clean(digest, 80))})`);
  }

  private checkReference(op: Op, reference: string): void {
    if (reference.includes(':')) this.checkDigest(op, reference);
    else if (!validTag(reference)) throw this.error(op, `invalid tag ${JSON.stringify(clean(reference, 80))}`);
  }

  /**
   * One API call: attaches credentials for `scopes`, answers one 401 challenge,
   * follows redirects without carrying Authorization to another origin.
   */
  private async call(op: Op, req: ApiRequest): Promise<Response> {
    const registry = op.repo.registry;
    const origin = req.url.origin;
    for (let authTry = 0; ; authTry++) {
      const headers: Record<string, string> = { 'user-agent': 'relsign', ...req.headers };
      const authorization = await this.auth.header(registry, req.scopes);
      if (authorization) headers.authorization = authorization;
      const sendReq = { method: req.method, url: req.url, headers, ...(req.body ? { body: req.body } : {}), ...(req.retry === false ? { retry: false } : {}) };
      let res = await this.sendWithHost(registry, sendReq);
      if (res.status === 401) {
        const challenge = res.headers.get('www-authenticate');
        await discard(res);
        if (authTry === 0 && (await this.auth.onChallenge(registry, challenge))) {
          // A token that expired mid-upload: the stream cannot be re-read here, so the upload starts over.
          if (req.body && req.replayable === false) {
            throw new RetryableUpload(this.error(op, `registry asked to authenticate again during the upload (401)`));
          }
          continue;
        }
        const who = await this.auth.userLabel(registry);
        const why = (await this.auth.credential(registry)) ? '' : ' (no credentials found)';
        throw new RelsignError(this.redact(`registry ${registry}: authentication failed (401) for ${who}${why}`));
      }
      if (req.followRedirects) {
        for (let hop = 0; hop < MAX_REDIRECTS && res.status >= 300 && res.status < 400; hop++) {
          const location = res.headers.get('location');
          if (!location || ![301, 302, 303, 307, 308].includes(res.status)) break;
          await discard(res);
          let next: URL;
          try {
            next = new URL(location, req.url);
          } catch {
            throw this.error(op, `invalid redirect location from the registry`);
          }
          if (next.protocol !== 'https:' && !(next.protocol === 'http:' && this.allowHttp(next.host))) {
            throw this.error(op, `refusing redirect to ${next.protocol}//${next.host} (not https)`);
          }
          const h: Record<string, string> = { ...headers };
          if (next.origin !== origin) delete h.authorization;
          res = await this.sendWithHost(registry, { method: req.method === 'HEAD' ? 'HEAD' : 'GET', url: next, headers: h });
        }
        if (res.status >= 300 && res.status < 400) {
          await discard(res);
          throw this.error(op, `too many redirects (${res.status})`);
        }
      }
      return res;
    }
  }

  /** Connection errors name the registry as the user wrote it (docker.io, not registry-1.docker.io). */
  private async sendWithHost(registry: string, req: Parameters<typeof send>[0]): Promise<Response> {
    try {
      return await send(req, this.transport);
    } catch (err) {
      if (err instanceof ConnectError && err.host !== registry) throw new ConnectError(registry, err.code, err.cause);
      throw err;
    }
  }

  private scopes(repo: RepoRef, actions: string): string[] {
    return [`repository:${repo.repository}:${actions}`];
  }

  // ---------------------------------------------------------------- access

  /**
   * Whether these credentials may push to `repo`, asked the one way every
   * registry answers alike: start a blob upload, then cancel it. Nothing is
   * stored. (A token service grants fewer actions than asked for rather than
   * refusing, and a token's claims are not always readable; the upload start is
   * the registry's own answer.) Throws a one-line error naming the registry.
   */
  async checkPushAccess(repo: RepoRef): Promise<void> {
    const op: Op = { verb: 'push', repo };
    this.check(op, repo);
    const postUrl = this.url(repo, 'blobs/uploads/');
    const start = await this.call(op, { method: 'POST', url: postUrl, scopes: this.scopes(repo, 'pull,push') });
    if (start.status === 403) {
      await discard(start);
      const who = await this.auth.userLabel(repo.registry);
      throw this.error(op, `${who} may not push here (403 DENIED)`);
    }
    if (start.status !== 202) throw await this.uploadStatusError(op, 'cannot start an upload', start);
    await discard(start);
    const location = this.location(op, start, postUrl);
    const cancel = await this.call(op, { method: 'DELETE', url: location, scopes: this.scopes(repo, 'pull,push'), retry: false }).catch(() => undefined);
    if (cancel) await discard(cancel);
  }

  // ---------------------------------------------------------------- manifests

  async headManifest(repo: RepoRef, reference: string, accept: string[] = [...DEFAULT_MANIFEST_ACCEPT]): Promise<Descriptor | undefined> {
    const op: Op = { verb: 'pull', repo };
    this.check(op, repo);
    this.checkReference(op, reference);
    const res = await this.call(op, {
      method: 'HEAD',
      url: this.url(repo, `manifests/${reference}`),
      scopes: this.scopes(repo, 'pull'),
      headers: { accept: accept.join(', ') },
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw this.error(op, `manifest ${clean(reference, 80)}: ${res.status}`);
    const header = res.headers.get('docker-content-digest');
    const size = Number(res.headers.get('content-length') ?? NaN);
    const mediaType = baseMediaType(res.headers.get('content-type'));
    let digest: string | undefined;
    if (isDigest(reference)) {
      if (header && header !== reference) throw this.error(op, `manifest ${reference}: registry reports digest ${clean(header, 140)}`);
      digest = reference;
    } else if (header && isDigest(header)) digest = header;
    if (!digest || !Number.isSafeInteger(size) || !mediaType) {
      // No usable headers: fetch and hash the manifest.
      return (await this.getManifest(repo, reference, accept))?.descriptor;
    }
    return { mediaType, digest, size };
  }

  async getManifest(
    repo: RepoRef,
    reference: string,
    accept: string[] = [...DEFAULT_MANIFEST_ACCEPT],
  ): Promise<{ descriptor: Descriptor; bytes: Buffer; json: any } | undefined> {
    const op: Op = { verb: 'pull', repo };
    this.check(op, repo);
    this.checkReference(op, reference);
    const res = await this.call(op, {
      method: 'GET',
      url: this.url(repo, `manifests/${reference}`),
      scopes: this.scopes(repo, 'pull'),
      headers: { accept: accept.join(', ') },
    });
    if (res.status === 404) {
      await discard(res);
      return undefined;
    }
    if (!res.ok) throw await this.statusError(op, `manifest ${clean(reference, 80)}`, res);
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, () => this.error(op, `manifest ${clean(reference, 80)}`).message);
    const byDigest = isDigest(reference);
    const { hash, algo } = hasher(byDigest ? reference : 'sha256:');
    const digest = `${algo}:${hash.update(bytes).digest('hex')}`;
    if (byDigest && digest !== reference) throw this.error(op, `manifest ${reference}: content does not match its digest (got ${digest})`);
    const header = res.headers.get('docker-content-digest');
    if (!byDigest && header && header.startsWith(`${algo}:`) && header !== digest) {
      throw this.error(op, `manifest ${clean(reference, 80)}: content digest ${digest} differs from the registry's ${clean(header, 140)}`);
    }
    let json: any;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw this.error(op, `manifest ${clean(reference, 80)}: not valid JSON`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw this.error(op, `manifest ${clean(reference, 80)}: not a JSON object`);
    const mediaType = (typeof json.mediaType === 'string' && json.mediaType) || baseMediaType(res.headers.get('content-type'));
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    if (typeof json.artifactType === 'string') descriptor.artifactType = json.artifactType;
    return { descriptor, bytes, json };
  }

  async putManifest(repo: RepoRef, reference: string, bytes: Buffer, mediaType: string): Promise<{ digest: string }> {
    const op: Op = { verb: 'push', repo };
    this.check(op, repo);
    this.checkReference(op, reference);
    if (bytes.length > MAX_MANIFEST_BYTES) throw this.error(op, `manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
    const { hash, algo } = hasher(isDigest(reference) ? reference : 'sha256:');
    const digest = `${algo}:${hash.update(bytes).digest('hex')}`;
    if (isDigest(reference) && reference !== digest) throw this.error(op, `manifest bytes have digest ${digest}, not ${reference}`);
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      res = await this.call(op, {
        method: 'PUT',
        url: this.url(repo, `manifests/${reference}`),
        scopes: this.scopes(repo, 'pull,push'),
        headers: { 'content-type': mediaType },
        body: () => bytes,
      });
      if (res.status === 201 || res.ok) break;
      const error = await this.statusError(op, `manifest ${clean(reference, 80)} upload failed`, res);
      // A blob this manifest names was just pushed, maybe by another writer at the same
      // moment: a registry can still be writing its link (distribution's filesystem
      // driver reads a half-written one as DIGEST_INVALID) or not see it yet (eventually
      // consistent storage: MANIFEST_BLOB_UNKNOWN). Both pass once the blob settles;
      // a manifest that really is wrong fails every attempt with the same answer.
      if (res.status !== 400 || !/ (DIGEST_INVALID|MANIFEST_BLOB_UNKNOWN|BLOB_UNKNOWN)\b/.test(error.message) || attempt >= MANIFEST_PUT_ATTEMPTS) throw error;
      const wait = Math.min(this.transport.backoff.maxMs, this.transport.backoff.baseMs * 2 ** (attempt - 1));
      this.opts.log?.debug(`${error.message}; putting the manifest again in ${wait} ms`);
      await sleep(wait, this.transport.signal);
    }
    await discard(res);
    const header = res.headers.get('docker-content-digest');
    if (header && header.startsWith(`${algo}:`) && header !== digest) {
      throw this.error(op, `registry stored manifest ${clean(reference, 80)} as ${clean(header, 140)}, expected ${digest}`);
    }
    return { digest };
  }

  /** Deletes a manifest by digest; a manifest already gone is not an error. */
  async deleteManifest(repo: RepoRef, digest: string): Promise<void> {
    const op: Op = { verb: 'delete', repo };
    this.check(op, repo);
    this.checkDigest(op, digest);
    const res = await this.call(op, {
      method: 'DELETE',
      url: this.url(repo, `manifests/${digest}`),
      scopes: this.scopes(repo, 'delete'),
    });
    if (res.status === 404) return discard(res);
    if (!res.ok) throw await this.statusError(op, `delete manifest ${digest} failed`, res);
    await discard(res);
  }

  // ---------------------------------------------------------------- blobs

  async headBlob(repo: RepoRef, digest: string): Promise<number | undefined> {
    return this.headBlobAs({ verb: 'pull', repo }, digest, 'pull');
  }

  private async headBlobAs(op: Op, digest: string, actions: string): Promise<number | undefined> {
    this.check(op, op.repo);
    this.checkDigest(op, digest);
    const res = await this.call(op, {
      method: 'HEAD',
      url: this.url(op.repo, `blobs/${digest}`),
      scopes: this.scopes(op.repo, actions),
      followRedirects: true,
    });
    await discard(res);
    if (res.status === 404) return undefined;
    if (!res.ok) throw this.error(op, `blob ${digest}: ${res.status}`);
    const size = Number(res.headers.get('content-length') ?? NaN);
    if (!Number.isSafeInteger(size) || size < 0) throw this.error(op, `blob ${digest}: registry gave no size`);
    return size;
  }

  /**
   * Streams a blob. The stream fails with a RelsignError when the bytes do not
   * hash to `digest`, or exceed `size` when it is given.
   */
  async getBlob(repo: RepoRef, digest: string, opts: { size?: number } = {}): Promise<Readable> {
    const op: Op = { verb: 'pull', repo };
    this.check(op, repo);
    this.checkDigest(op, digest);
    const res = await this.call(op, {
      method: 'GET',
      url: this.url(repo, `blobs/${digest}`),
      scopes: this.scopes(repo, 'pull'),
      followRedirects: true,
    });
    if (res.status === 404) {
      await discard(res);
      throw this.error(op, `blob ${digest} not found`);
    }
    if (!res.ok) throw await this.statusError(op, `blob ${digest}`, res);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const limit = opts.size ?? (Number.isSafeInteger(declared) ? declared : undefined);
    const verifier = new DigestVerifier(digest, limit, (what) => this.error(op, `blob ${digest}: ${what}`));
    if (!res.body) {
      verifier.end();
      return verifier;
    }
    const body = Readable.fromWeb(res.body as any);
    body.on('error', (err) => verifier.destroy(err instanceof RelsignError ? err : this.error(op, `blob ${digest}: download failed (${(err as Error).message})`, err)));
    // pipeline, not pipe: a consumer that stops early (destroys the verifier) also ends the download.
    pipeline(body, verifier, () => undefined);
    return verifier;
  }

  async getBlobBytes(repo: RepoRef, digest: string, maxBytes = MAX_MANIFEST_BYTES): Promise<Buffer> {
    const op: Op = { verb: 'pull', repo };
    const stream = await this.getBlob(repo, digest);
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        stream.destroy();
        throw this.error(op, `blob ${digest}: larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks, total);
  }

  /**
   * Pushes a blob unless the registry has it. With `mountFrom` (a repository on
   * the same registry) a cross-repository mount is tried first. Blobs up to
   * `chunkSize` (default MONOLITHIC_MAX) go in one PUT; larger ones in PATCH
   * chunks of `chunkSize` (default: one PATCH). A failed upload is restarted
   * from scratch, calling `open()` again.
   */
  async pushBlob(
    repo: RepoRef,
    desc: { digest: string; size: number },
    open: () => NodeJS.ReadableStream | Buffer,
    opts: { mountFrom?: string; chunkSize?: number } = {},
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    const op: Op = { verb: 'push', repo };
    this.check(op, repo);
    this.checkDigest(op, desc.digest);
    if (!Number.isSafeInteger(desc.size) || desc.size < 0) throw this.error(op, `blob ${desc.digest}: invalid size ${desc.size}`);
    const chosen = opts.chunkSize ?? this.chunkSize;
    if (chosen !== undefined && (!Number.isSafeInteger(chosen) || chosen < 1)) throw this.error(op, `invalid chunk size ${chosen}`);
    const monolithicMax = chosen ?? MONOLITHIC_MAX;
    const chunkSize = chosen ?? Math.max(1, desc.size);
    if ((await this.headBlobAs(op, desc.digest, 'pull,push')) !== undefined) return 'exists';

    let scopes = this.scopes(repo, 'pull,push');
    let postUrl = this.url(repo, 'blobs/uploads/');
    if (opts.mountFrom !== undefined && opts.mountFrom !== repo.repository) {
      if (!validRepository(opts.mountFrom)) throw this.error(op, `invalid mount source repository ${JSON.stringify(clean(opts.mountFrom, 80))}`);
      scopes = [...scopes, `repository:${opts.mountFrom}:pull`];
      postUrl = new URL(postUrl);
      postUrl.searchParams.set('mount', desc.digest);
      postUrl.searchParams.set('from', opts.mountFrom);
    }
    const attempts = Math.max(0, Math.min(this.transport.retries, 20)) + 1;
    for (let attempt = 0; ; attempt++) {
      try {
        const start = await this.call(op, { method: 'POST', url: postUrl, scopes });
        if (start.status === 201 && postUrl.searchParams.has('mount')) {
          await discard(start);
          return 'mounted';
        }
        if (start.status !== 202) throw await this.uploadStatusError(op, 'blob upload could not start', start);
        await discard(start);
        let location = this.location(op, start, postUrl);
        // A mount that fell back to an upload is not retried as a mount.
        postUrl = this.url(repo, 'blobs/uploads/');
        const source = open();
        if (desc.size <= monolithicMax) {
          if (Buffer.isBuffer(source)) {
            if (source.length !== desc.size) throw this.error(op, `blob ${desc.digest}: content is ${source.length} bytes, expected ${desc.size}`);
            await this.finishUpload(op, scopes, location, desc, () => source, desc.size, true);
          } else {
            const body = limitStream(source, desc.size, (w) => this.error(op, `blob ${desc.digest}: ${w}`));
            await this.finishUpload(op, scopes, location, desc, () => body, desc.size, false);
          }
        } else {
          const chunks = new ChunkReader(source, desc.size, (w) => this.error(op, `blob ${desc.digest}: ${w}`));
          for (let offset = 0; offset < desc.size; offset += chunkSize) {
            const len = Math.min(chunkSize, desc.size - offset);
            const res = await this.uploadStep(op, chunks, {
              method: 'PATCH',
              url: location,
              scopes,
              headers: {
                'content-type': 'application/octet-stream',
                'content-length': String(len),
                'content-range': `${offset}-${offset + len - 1}`,
              },
              body: () => chunks.take(len),
              retry: false,
              replayable: false,
            });
            // 202 per the spec; ECR answers 201.
            if (res.status !== 202 && res.status !== 201 && res.status !== 204) throw await this.uploadStatusError(op, 'blob upload failed', res);
            await discard(res);
            const range = /^(?:bytes=)?0-([0-9]{1,16})$/.exec(res.headers.get('range') ?? '');
            if (range && Number(range[1]) !== offset + len - 1) {
              throw this.error(op, `blob ${desc.digest}: registry holds ${Number(range[1]) + 1} bytes after a chunk ending at ${offset + len}`);
            }
            location = this.location(op, res, location);
          }
          await chunks.finish();
          await this.finishUpload(op, scopes, location, desc, undefined, 0, true);
        }
        return 'uploaded';
      } catch (err) {
        if (!(err instanceof RetryableUpload)) {
          // Two writers pushing the same blob at once (a signature config, a shared base
          // layer): the registry can fail the slower upload (DIGEST_INVALID) although the
          // blob is then there. The registry checked its digest; the size confirms it.
          if (err instanceof RelsignError && (await this.headBlobAs(op, desc.digest, 'pull,push').catch(() => undefined)) === desc.size) return 'exists';
          throw err;
        }
        if (attempt + 1 >= attempts) throw err.error;
        const ra = retryAfterMs(err.retryAfter ?? null);
        const wait = ra !== undefined ? Math.min(ra, this.transport.backoff.maxMs) : Math.min(this.transport.backoff.maxMs, this.transport.backoff.baseMs * 2 ** attempt);
        this.opts.log?.debug(`${err.error.message}; restarting the upload in ${wait} ms`);
        await sleep(wait, this.transport.signal);
      }
    }
  }

  private async finishUpload(
    op: Op,
    scopes: string[],
    location: URL,
    desc: { digest: string; size: number },
    body: BodySource | undefined,
    length: number,
    replayable: boolean,
  ): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', desc.digest);
    const res = await this.uploadStep(op, undefined, {
      method: 'PUT',
      url,
      scopes,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
      ...(body ? { body } : {}),
      retry: false,
      replayable,
    });
    if (res.status !== 201 && res.status !== 204 && res.status !== 200) throw await this.uploadStatusError(op, 'blob upload failed', res);
    await discard(res);
    const header = res.headers.get('docker-content-digest');
    if (header && header !== desc.digest) throw this.error(op, `registry stored blob ${desc.digest} as ${clean(header, 140)}`);
  }

  /** An upload request whose failures (5xx, 429, broken connection) restart the whole upload. */
  private async uploadStep(op: Op, chunks: ChunkReader | undefined, req: ApiRequest): Promise<Response> {
    try {
      const res = await this.call(op, req);
      if (res.status === 429 || res.status >= 500) throw new RetryableUpload(await this.uploadStatusError(op, 'blob upload failed', res), res.headers.get('retry-after'));
      return res;
    } catch (err) {
      if (chunks?.error) throw chunks.error;
      if (err instanceof RetryableUpload) throw err;
      // A connection dropped mid-upload; the session may be gone, so the upload starts over.
      if (err instanceof ConnectError && err.code !== undefined && RETRYABLE_CODES.has(err.code)) throw new RetryableUpload(err);
      throw err;
    }
  }

  private uploadStatusError(op: Op, what: string, res: Response): Promise<RelsignError> {
    return this.statusError(op, what, res);
  }

  private location(op: Op, res: Response, base: URL): URL {
    const loc = res.headers.get('location');
    if (!loc) throw this.error(op, `registry gave no upload location (${res.status})`);
    let url: URL;
    try {
      url = new URL(loc, base);
    } catch {
      throw this.error(op, 'registry gave an invalid upload location');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.allowHttp(url.host))) {
      throw this.error(op, `registry gave an upload location on ${url.protocol}//${url.host} (not https)`);
    }
    if (url.origin !== base.origin) throw this.error(op, `registry gave an upload location on another host (${url.host})`);
    return url;
  }

  // ---------------------------------------------------------------- tags, referrers

  /** All tags, following `Link: <…>; rel="next"` pages (bounded). An unknown repository has none. */
  async listTags(repo: RepoRef): Promise<string[]> {
    const op: Op = { verb: 'list', repo };
    this.check(op, repo);
    const tags: string[] = [];
    let url: URL | undefined = this.url(repo, 'tags/list');
    url.searchParams.set('n', String(this.opts.pageSize ?? TAGS_PAGE_SIZE));
    const seen = new Set<string>();
    for (let page = 0; url; page++) {
      if (seen.has(url.href)) throw this.error(op, 'tag list pagination loops');
      seen.add(url.href);
      if (page >= MAX_PAGES) throw this.error(op, `more than ${MAX_PAGES} pages of tags`);
      const res = await this.call(op, { method: 'GET', url, scopes: this.scopes(repo, 'pull') });
      if (res.status === 404 && page === 0) {
        await discard(res);
        return [];
      }
      if (!res.ok) throw await this.statusError(op, 'tag list', res);
      const bytes = await readLimited(res, MAX_MANIFEST_BYTES, () => this.error(op, 'tag list').message);
      let parsed: { tags?: unknown };
      try {
        parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
      } catch {
        throw this.error(op, 'tag list is not valid JSON');
      }
      if (parsed.tags !== null && parsed.tags !== undefined && !Array.isArray(parsed.tags)) throw this.error(op, 'tag list has no tags array');
      for (const t of (parsed.tags as unknown[] | null) ?? []) if (typeof t === 'string') tags.push(t);
      if (tags.length > MAX_TAGS) throw this.error(op, `more than ${MAX_TAGS} tags`);
      url = this.nextPage(op, res, url);
    }
    return tags;
  }

  private nextPage(op: Op, res: Response, current: URL): URL | undefined {
    const link = res.headers.get('link');
    if (!link) return undefined;
    const m = /^\s*<([^>]{1,4096})>\s*;\s*rel="?next"?/.exec(link.slice(0, 5000));
    if (!m?.[1]) return undefined;
    const next = new URL(m[1], current);
    if (next.origin !== current.origin) throw this.error(op, `pagination link to another host (${next.host})`);
    return next;
  }

  /**
   * OCI 1.1 referrers of a manifest. `supported: false` when the registry has no
   * referrers API (404 on the endpoint), so the caller can use the tag schema fallback.
   */
  async getReferrers(repo: RepoRef, digest: string, artifactType?: string): Promise<{ supported: boolean; manifests: Descriptor[] }> {
    const op: Op = { verb: 'referrers', repo };
    this.check(op, repo);
    this.checkDigest(op, digest);
    let url: URL | undefined = this.url(repo, `referrers/${digest}`);
    if (artifactType) url.searchParams.set('artifactType', artifactType);
    const manifests: Descriptor[] = [];
    const seen = new Set<string>();
    for (let page = 0; url; page++) {
      if (seen.has(url.href)) throw this.error(op, 'referrers pagination loops');
      seen.add(url.href);
      if (page >= MAX_PAGES) throw this.error(op, `more than ${MAX_PAGES} pages of referrers`);
      const res = await this.call(op, { method: 'GET', url, scopes: this.scopes(repo, 'pull'), headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
      if (res.status === 404 && page === 0) {
        await discard(res);
        return { supported: false, manifests: [] };
      }
      if (!res.ok) throw await this.statusError(op, `referrers of ${digest}`, res);
      const bytes = await readLimited(res, MAX_MANIFEST_BYTES, () => this.error(op, `referrers of ${digest}`).message);
      let parsed: { manifests?: unknown };
      try {
        parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
      } catch {
        throw this.error(op, `referrers of ${digest}: not valid JSON`);
      }
      if (!Array.isArray(parsed.manifests)) throw this.error(op, `referrers of ${digest}: no manifests array`);
      for (const m of parsed.manifests as Descriptor[]) {
        if (!m || typeof m !== 'object' || typeof m.digest !== 'string' || typeof m.mediaType !== 'string' || typeof m.size !== 'number') continue;
        // Registries that ignore the filter say so by omitting OCI-Filters-Applied.
        if (artifactType && m.artifactType !== artifactType) continue;
        manifests.push(m);
      }
      if (manifests.length > MAX_REFERRERS) throw this.error(op, `more than ${MAX_REFERRERS} referrers`);
      url = this.nextPage(op, res, url);
    }
    return { supported: true, manifests };
  }
}

/** Hashes and counts bytes passing through; fails at the end unless they match. */
class DigestVerifier extends Transform {
  private readonly hash: Hash;
  private readonly algo: string;
  private count = 0;

  constructor(private readonly digest: string, private readonly size: number | undefined, private readonly fail: (what: string) => RelsignError) {
    super();
    const h = hasher(digest);
    this.hash = h.hash;
    this.algo = h.algo;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count += chunk.length;
    if (this.size !== undefined && this.count > this.size) return cb(this.fail(`more bytes than the expected ${this.size}`));
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.size !== undefined && this.count !== this.size) return cb(this.fail(`got ${this.count} bytes, expected ${this.size}`));
    const got = `${this.algo}:${this.hash.digest('hex')}`;
    if (got !== this.digest) return cb(this.fail(`content does not match its digest (got ${got})`));
    cb();
  }
}

/** Iterates a source and ensures it yields exactly `size` bytes. */
async function* limitStream(source: NodeJS.ReadableStream, size: number, fail: (what: string) => RelsignError): AsyncGenerator<Buffer> {
  let count = 0;
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    count += buf.length;
    if (count > size) throw fail(`content longer than its size ${size}`);
    yield buf;
  }
  if (count !== size) throw fail(`content is ${count} bytes, expected ${size}`);
}

/** Cuts one source into consecutive bodies of given lengths, without copying more than one piece. */
class ChunkReader {
  private readonly iterator: AsyncIterator<Buffer | string> | undefined;
  private pending: Buffer | undefined;
  private buffer: Buffer | undefined;
  private offset = 0;
  error: RelsignError | undefined;

  constructor(source: NodeJS.ReadableStream | Buffer, private readonly size: number, private readonly fail: (what: string) => RelsignError) {
    if (Buffer.isBuffer(source)) {
      if (source.length !== size) throw fail(`content is ${source.length} bytes, expected ${size}`);
      this.buffer = source;
    } else {
      this.iterator = (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    }
  }

  take(len: number): Buffer | AsyncIterable<Uint8Array> {
    if (this.buffer) {
      const out = this.buffer.subarray(this.offset, this.offset + len);
      this.offset += out.length;
      return out;
    }
    return this.pull(len);
  }

  private async *pull(len: number): AsyncGenerator<Buffer> {
    let remaining = len;
    while (remaining > 0) {
      let piece = this.pending;
      this.pending = undefined;
      if (!piece) {
        const next = await this.iterator!.next();
        if (next.done) {
          this.error = this.fail(`content is ${this.offset} bytes, expected ${this.size}`);
          throw this.error;
        }
        piece = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      }
      if (piece.length > remaining) {
        this.pending = piece.subarray(remaining);
        piece = piece.subarray(0, remaining);
      }
      remaining -= piece.length;
      this.offset += piece.length;
      yield piece;
    }
  }

  /** The source must be exhausted once `size` bytes were taken. */
  async finish(): Promise<void> {
    if (this.buffer) return;
    if (this.pending && this.pending.length > 0) throw this.fail(`content longer than its size ${this.size}`);
    for (;;) {
      const next = await this.iterator!.next();
      if (next.done) return;
      if (next.value.length > 0) throw this.fail(`content longer than its size ${this.size}`);
    }
  }
}
