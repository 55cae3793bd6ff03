/**
 * Clients for the Sigstore services, built on @sigstore/sign's Fulcio, Rekor
 * and TSA clients, each call wrapped in a per-attempt timeout and bounded
 * retries (retry.ts) so a final error names the service and its URL.
 *
 *  - Fulcio: a certificate for an ephemeral P-256 key, bound to the OIDC
 *    identity token (keyless signing). One certificate serves a whole run
 *    while it has more than a minute left (Fulcio's last 10 minutes).
 *  - Rekor (API v1): a hashedrekord entry for a message signature, or a dsse
 *    entry for a DSSE envelope; an entry that already exists (409) is fetched.
 *  - TSA: an RFC 3161 timestamp over the signature.
 *
 * Service URLs come from the caller (`fulcio_url`, `rekor_url`, `tsa_url`,
 * `--fulcio-url`…) or, when not given, from the public-good signing config
 * distributed through Sigstore's TUF repository (resolveServiceURLs).
 */
import { X509Certificate } from 'node:crypto';
import type { Envelope, TransparencyLogEntry } from '@sigstore/bundle';
import { RelsignError } from '../util/errors.js';
import { tokenClaims } from './identity.js';
import { classify, withRetries, type RetryOptions } from './retry.js';
import { Signer } from './signer.js';

export const PUBLIC_GOOD_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_GOOD_REKOR_URL = 'https://rekor.sigstore.dev';
/** Refresh the certificate when less than this is left of its validity. */
const CERT_MIN_REMAINING_MS = 60_000;

export interface ServiceURLs {
  fulcioURL?: string;
  rekorURL?: string;
  tsaURL?: string;
}

/** A key with a Fulcio certificate: signs like any Signer; its identity is in the certificate. */
export interface CertifiedKey {
  signer: Signer;
  certificateDer: Buffer;
  /** The leaf, PEM. */
  certificatePem: string;
  /** The rest of the chain Fulcio returned (intermediates, root), PEM, in order. */
  chainPem: string;
  notAfter: Date;
  identity: string;
  issuer: string;
}

export interface SigstoreClientOptions extends ServiceURLs {
  retry?: RetryOptions;
  /** Supplies the OIDC token (keyless signing only). */
  identityToken?: () => Promise<string>;
}

/** A URL from configuration: http(s) only, no credentials, no query; trailing slashes dropped. */
export function checkServiceURL(value: string, where: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new RelsignError(`${where}: ${JSON.stringify(value)} is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new RelsignError(`${where}: ${JSON.stringify(value)} is not an http(s) URL`);
  if (u.username || u.password) throw new RelsignError(`${where}: the URL must not carry credentials`);
  if (u.search || u.hash) throw new RelsignError(`${where}: the URL must not have a query or fragment`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

export class SigstoreClient {
  readonly fulcioURL?: string;
  readonly rekorURL?: string;
  readonly tsaURL?: string;
  private readonly retry: RetryOptions;
  private readonly identityToken?: () => Promise<string>;
  private cert?: Promise<CertifiedKey>;

  constructor(o: SigstoreClientOptions) {
    this.fulcioURL = o.fulcioURL;
    this.rekorURL = o.rekorURL;
    this.tsaURL = o.tsaURL;
    this.retry = o.retry ?? {};
    this.identityToken = o.identityToken;
  }

  /** An ephemeral key certified by Fulcio; reused while it has time left. */
  async certifiedKey(): Promise<CertifiedKey> {
    if (this.cert) {
      const current = await this.cert.catch(() => undefined);
      if (current && current.notAfter.getTime() - Date.now() > CERT_MIN_REMAINING_MS) return current;
    }
    this.cert = this.requestCertificate();
    this.cert.catch(() => undefined); // a failed request is retried by the next caller
    return this.cert;
  }

  private async requestCertificate(): Promise<CertifiedKey> {
    const url = this.fulcioURL;
    if (!url) throw new RelsignError('keyless signing needs a Fulcio URL');
    if (!this.identityToken) throw new RelsignError('keyless signing needs an identity token');
    const token = await this.identityToken();
    const claims = tokenClaims(token) ?? {};
    // Proof of possession: the key signs the token's subject (its verified email, else `sub`).
    const subject = claims.email ?? claims.sub;
    if (!subject) throw new RelsignError(`identity token has no "sub" or "email" claim`);
    const signer = Signer.generate();
    const challenge = (await signer.signBytes(Buffer.from(subject, 'utf8'))).signature;
    const { CAClient } = await import('@sigstore/sign/dist/signer/fulcio/ca.js');
    const timeout = this.retry.timeoutMs ?? 30_000;
    const ca = new CAClient({ fulcioBaseURL: url, retry: 0, timeout });
    const chain = await withRetries<string[]>(`Fulcio ${url}`, this.retry, async (signal) => {
      try {
        return { value: await abortable(ca.createSigningCertificate(token, signer.publicKeyPem, challenge), signal) };
      } catch (err) {
        const f = classify(err, timeout);
        // 4xx from Fulcio is about the token (expired, wrong audience, untrusted issuer): say so.
        return { retryable: f.retryable, message: f.retryable ? f.reason : `${f.reason} (certificate refused; check the identity token: issuer, audience "sigstore", expiry)` };
      }
    });
    if (!Array.isArray(chain) || chain.length === 0 || typeof chain[0] !== 'string') {
      throw new RelsignError(`Fulcio ${url}: the answer holds no certificate`);
    }
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(chain[0]);
    } catch {
      throw new RelsignError(`Fulcio ${url}: the certificate is not valid X.509`);
    }
    if (!leaf.publicKey.export({ format: 'der', type: 'spki' }).equals(signer.publicKeyDer)) {
      throw new RelsignError(`Fulcio ${url}: the certificate is for another key`);
    }
    return {
      signer,
      certificateDer: leaf.raw,
      certificatePem: normalizePem(chain[0]),
      chainPem: chain.slice(1).map(normalizePem).join(''),
      notAfter: new Date(leaf.validTo),
      identity: sanOf(leaf),
      issuer: claims.iss ?? '',
    };
  }

  /** Records a message signature (hashedrekord v0.0.1) in Rekor. `publicKeyPem` is a PUBLIC KEY or CERTIFICATE PEM. */
  async logMessageSignature(sig: { digest: Buffer; signature: Buffer }, publicKeyPem: string): Promise<TransparencyLogEntry> {
    if (sig.digest.length !== 32) throw new RelsignError('the transparency log records SHA-256 digests; this key signs with another digest (use --tlog-upload=false)');
    return this.log({ $case: 'messageSignature', messageSignature: { messageDigest: { algorithm: 1 /* SHA2_256 */, digest: sig.digest }, signature: sig.signature } }, publicKeyPem);
  }

  /** Records a DSSE envelope (dsse v0.0.1) in Rekor. */
  async logDsse(envelope: Envelope, publicKeyPem: string): Promise<TransparencyLogEntry> {
    return this.log({ $case: 'dsseEnvelope', dsseEnvelope: envelope }, publicKeyPem);
  }

  private async log(content: Parameters<import('@sigstore/sign').RekorWitness['testify']>[0], publicKeyPem: string): Promise<TransparencyLogEntry> {
    const url = this.rekorURL;
    if (!url) throw new RelsignError('uploading to the transparency log needs a Rekor URL');
    const { RekorWitness } = await import('@sigstore/sign');
    const timeout = this.retry.timeoutMs ?? 30_000;
    const witness = new RekorWitness({ rekorBaseURL: url, retry: 0, timeout, fetchOnConflict: true, entryType: 'dsse' });
    const result = await withRetries<{ tlogEntries: TransparencyLogEntry[] }>(`Rekor ${url}`, this.retry, async (signal) => {
      try {
        return { value: await abortable(witness.testify(content, publicKeyPem), signal) };
      } catch (err) {
        const f = classify(err, timeout);
        return { retryable: f.retryable, message: f.reason };
      }
    });
    const entry = result.tlogEntries[0];
    if (!entry) throw new RelsignError(`Rekor ${url}: the answer holds no log entry`);
    return entry;
  }

  /** An RFC 3161 timestamp over `signature`, or undefined when no TSA is configured. */
  async timestamp(signature: Buffer): Promise<Buffer | undefined> {
    const url = this.tsaURL;
    if (!url) return undefined;
    const { TSAWitness } = await import('@sigstore/sign');
    const timeout = this.retry.timeoutMs ?? 30_000;
    const witness = new TSAWitness({ tsaBaseURL: url, retry: 0, timeout });
    const result = await withRetries<{ rfc3161Timestamps: Array<{ signedTimestamp: Buffer }> }>(`TSA ${url}`, this.retry, async (signal) => {
      try {
        return {
          value: await abortable(
            witness.testify({ $case: 'messageSignature', messageSignature: { messageDigest: { algorithm: 1, digest: Buffer.alloc(0) }, signature } }),
            signal,
          ),
        };
      } catch (err) {
        const f = classify(err, timeout);
        return { retryable: f.retryable, message: f.reason };
      }
    });
    const ts = result.rfc3161Timestamps[0];
    if (!ts) throw new RelsignError(`TSA ${url}: the answer holds no timestamp`);
    return Buffer.from(ts.signedTimestamp);
  }
}

/** Rejects when `signal` fires, even if the wrapped call never settles. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function normalizePem(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** The certificate's identity: its first URI or email SAN. */
export function sanOf(cert: X509Certificate): string {
  const san = cert.subjectAltName ?? '';
  const m = /(?:URI|email):([^,]+)/.exec(san);
  return m?.[1]?.trim() ?? '';
}

/**
 * The service URLs to use: those given, the rest from the public-good
 * signing config (Sigstore TUF repository, cached by @sigstore/tuf). Only
 * what `need` lists is resolved, so an offline key signature never touches
 * the network.
 */
export async function resolveServiceURLs(
  given: ServiceURLs,
  need: { fulcio?: boolean; rekor?: boolean },
  log?: (line: string) => void,
): Promise<ServiceURLs> {
  const out: ServiceURLs = { ...given };
  const missing = (need.fulcio && !out.fulcioURL) || (need.rekor && !out.rekorURL);
  if (!missing) return out;
  const fromTuf = await publicGoodSigningConfig(log);
  if (need.fulcio && !out.fulcioURL) out.fulcioURL = fromTuf?.fulcioURL ?? PUBLIC_GOOD_FULCIO_URL;
  if (need.rekor && !out.rekorURL) out.rekorURL = fromTuf?.rekorURL ?? PUBLIC_GOOD_REKOR_URL;
  // A timestamp authority is used only when configured or listed in the signing config.
  if (!out.tsaURL && fromTuf?.tsaURL && !given.fulcioURL && !given.rekorURL) out.tsaURL = fromTuf.tsaURL;
  return out;
}

interface ServiceEntry {
  url?: string;
  majorApiVersion?: number;
  validFor?: { start?: string; end?: string };
}

/** The newest currently-valid v1 service of a signing config list. */
function pick(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  const now = Date.now();
  const ok = (list as ServiceEntry[])
    .filter((s) => typeof s?.url === 'string' && (s.majorApiVersion ?? 1) === 1)
    .filter((s) => !s.validFor?.end || Date.parse(s.validFor.end) >= now)
    .sort((a, b) => Date.parse(b.validFor?.start ?? '0') - Date.parse(a.validFor?.start ?? '0'));
  return ok[0]?.url;
}

async function publicGoodSigningConfig(log?: (line: string) => void): Promise<ServiceURLs | undefined> {
  try {
    const { initTUF } = await import('@sigstore/tuf');
    const tuf = await initTUF({ retry: 2, timeout: 10_000 });
    const text = await tuf.getTarget('signing_config.v0.2.json');
    const cfg = JSON.parse(text) as { caUrls?: unknown; rekorTlogUrls?: unknown; tsaUrls?: unknown };
    return { fulcioURL: pick(cfg.caUrls), rekorURL: pick(cfg.rekorTlogUrls), tsaURL: pick(cfg.tsaUrls) };
  } catch (err) {
    log?.(`public-good signing config not available from Sigstore's TUF repository (${classify(err, 10_000).reason}); using ${PUBLIC_GOOD_FULCIO_URL} and ${PUBLIC_GOOD_REKOR_URL}`);
    return undefined;
  }
}

