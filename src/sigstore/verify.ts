/**
 * `cosign verify-blob`: checks a detached signature or a bundle (legacy or
 * Sigstore v0.1–v0.3), hashing the file streamed, either against a public key
 * (`--key`) or keylessly: a certificate-signed bundle against a trusted root and
 * an identity policy (`--certificate-identity[-regexp]`,
 * `--certificate-oidc-issuer[-regexp]`; verify-bundle.ts).
 *
 * Transparency log: checked offline from the bundle (inclusion promise / SET,
 * inclusion proof, RFC 3161 timestamps) against the trusted root, by default.
 * A bare detached signature has no entry to check offline (cosign would search
 * Rekor by its hash): it needs a bundle, or `ignoreTlog` (cosign's
 * --insecure-ignore-tlog), which checks the key signature only.
 */
import { createHash, timingSafeEqual, type Hash, type KeyObject } from 'node:crypto';
import { describeError, RelsignError } from '../util/errors.js';
import { PreparedPublicKey, signingHash, type DigestCheck, type HashAlgorithm } from './algorithms.js';
import { legacyToV01Bundle, parseBundle, type ParsedBundle } from './bundle.js';
import { hashFileInto } from './digest.js';
import { BlobVerificationError } from './errors.js';
import { keyAlgorithmOf, parsePublicKeyPem, publicKeyDer, publicKeyHint } from './keys.js';
import { MAX_SIGNATURE_BYTES, tooLargeMessage } from './limits.js';
import { decodeBase64Strict, decodePem } from './pem.js';
import type { CertificateIdentity, CompiledIdentityPolicy } from './certificate-identity.js';
import { verifySigstoreBundle } from './verify-bundle.js';

export interface VerifyBlobOptions {
  /** The public key: a KeyObject or `PUBLIC KEY` PEM text. Without it, a certificate-signed bundle and `identity` are needed. */
  publicKey?: KeyObject | string;
  /** Keyless: who the certificate must name (compileIdentityPolicy). */
  identity?: CompiledIdentityPolicy;
  /** How to name the key in messages (e.g. `cosign.pub`). */
  keySource?: string;
  /**
   * A detached signature. A string must be base64; bytes may be base64 text (a
   * `.sig` file as cosign writes it) or the raw signature.
   */
  signature?: string | Uint8Array;
  /** How to name the signature in messages (e.g. `app.tar.gz.sig`). */
  signatureSource?: string;
  /** A bundle, either format: JSON text or the parsed object. */
  bundle?: string | object;
  /** How to name the bundle in messages. */
  bundleSource?: string;
  /** Check the signature against the key only, ignoring any transparency-log data (cosign --insecure-ignore-tlog). */
  ignoreTlog?: boolean;
  /** A Sigstore trusted root (parsed trusted_root.json) to check a bundle's tlog entries and timestamps offline. */
  trustedRoot?: unknown;
  /** How to name the trusted root in messages. */
  trustedRootSource?: string;
  /** Where to get the trusted root when `trustedRoot` is not given and one is needed (e.g. public-good via TUF). */
  getTrustedRoot?: () => Promise<unknown>;
}

export interface VerifyBlobResult {
  format: 'signature' | 'legacy-bundle' | 'sigstore-bundle';
  /** For a certificate-signed bundle: who signed. */
  signer?: CertificateIdentity;
  digest: Buffer;
  digestAlgorithm: HashAlgorithm;
  /** True when a transparency-log entry was verified against the trusted root. */
  tlogVerified: boolean;
}

/**
 * Verifies `artifact` (a file path, streamed, or bytes in memory). Resolves on
 * success; throws a BlobVerificationError (one line, exit 1) naming the failure.
 */
export async function verifyBlob(artifact: string | Uint8Array, options: VerifyBlobOptions): Promise<VerifyBlobResult> {
  const keySource = options.keySource ?? 'the public key';
  const keyless = await keylessBundle(artifact, options);
  if (keyless) {
    if (options.publicKey !== undefined) {
      throw new BlobVerificationError(
        'invalid-signature',
        `the bundle ${options.bundleSource ?? ''} is signed with a certificate, not with ${keySource}: verify it with --certificate-identity and --certificate-oidc-issuer`.replace('  ', ' '),
      );
    }
    if (!options.identity) throw new RelsignError('keyless verification needs --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]');
    const r = await verifySigstoreBundle({
      bundle: keyless.bundle,
      bundleSource: options.bundleSource ?? 'bundle',
      artifact,
      digests: keyless.digests,
      trustedRoot: await trustedRootOf(options),
      trustedRootSource: options.trustedRootSource,
      identity: options.identity,
      ignoreTlog: options.ignoreTlog,
    });
    return {
      format: keyless.legacy ? 'legacy-bundle' : 'sigstore-bundle',
      signer: r.signer,
      tlogVerified: r.tlogVerified,
      digest: r.digest,
      digestAlgorithm: r.digestAlgorithm,
    };
  }
  if (options.publicKey === undefined) {
    throw new RelsignError(
      options.bundle === undefined
        ? 'keyless verification needs a bundle (--bundle): relsign checks the certificate and its transparency-log entry offline, from the bundle'
        : `the bundle ${options.bundleSource ?? ''} carries no certificate: verify it with --key`.replace('  ', ' '),
    );
  }
  const keyObject = typeof options.publicKey === 'string' ? parsePublicKeyPem(options.publicKey, keySource) : options.publicKey;
  const algorithm = keyAlgorithmOf(keyObject, keySource);
  const pub = new PreparedPublicKey(keyObject, algorithm);
  const fileName = typeof artifact === 'string' ? artifact : 'the blob';

  // 1. What to check (fails fast, before reading a possibly large file).
  let bundle: ParsedBundle | undefined;
  let signature: Buffer;
  if (options.bundle !== undefined && options.signature !== undefined) {
    throw new RelsignError('give either a signature or a bundle, not both');
  }
  if (options.bundle !== undefined) {
    bundle = parseBundle(bundleText(options.bundle, options.bundleSource ?? 'bundle'), options.bundleSource ?? 'bundle');
    signature = bundle.signature;
  } else if (options.signature !== undefined) {
    signature = decodeSignature(options.signature, options.signatureSource);
  } else {
    throw new RelsignError('nothing to verify: give a signature or a bundle');
  }
  if (signature.length === 0) throw new BlobVerificationError('malformed-signature', 'malformed signature: it is empty');

  // 2. Hash the artifact once, with every digest the check may need.
  const wanted: HashAlgorithm[] =
    bundle?.format === 'sigstore' ? [bundle.digestAlgorithm] : [...new Set<HashAlgorithm>([signingHash(algorithm), 'sha256'])];
  const hashes = new Map<HashAlgorithm, Hash>(wanted.map((h) => [h, createHash(h)]));
  let ed: Exclude<ReturnType<PreparedPublicKey['ed25519VerifyStart']>, 'malformed'> | undefined;
  if (algorithm === 'ed25519') {
    const started = pub.ed25519VerifyStart(signature);
    if (started === 'malformed') throw new BlobVerificationError('malformed-signature', `malformed signature: an Ed25519 signature is 64 bytes, got ${signature.length}`);
    ed = started;
  }
  const sinks = [...hashes.values(), ...(ed ? [ed.hash] : [])];
  if (typeof artifact === 'string') await hashFileInto(artifact, sinks);
  else for (const h of sinks) h.update(artifact);
  const digests = new Map<HashAlgorithm, Buffer>([...hashes].map(([alg, h]) => [alg, h.digest()]));

  // 3. A Sigstore bundle names the digest it signed: compare first, for a precise message.
  if (bundle?.format === 'sigstore') {
    const actual = digests.get(bundle.digestAlgorithm)!;
    if (!(actual.length === bundle.digest.length && timingSafeEqual(actual, bundle.digest))) {
      throw new BlobVerificationError(
        'digest-mismatch',
        `bundle digest mismatch: ${fileName} has ${bundle.digestAlgorithm} ${actual.toString('hex')}, the bundle signed ${bundle.digest.toString('hex')}`,
      );
    }
  }

  // 4. The signature itself.
  let check: DigestCheck = 'invalid';
  let usedHash: HashAlgorithm = wanted[0]!;
  if (ed) {
    check = ed.finish();
    usedHash = 'sha256';
  } else {
    for (const h of wanted) {
      const r = pub.verifyDigest(digests.get(h)!, h, signature);
      if (r === 'ok' || r === 'malformed') {
        check = r;
        usedHash = h;
        break;
      }
    }
  }
  if (check === 'malformed') {
    throw new BlobVerificationError('malformed-signature', `malformed signature: not an ASN.1 DER ECDSA signature for ${keySource}`);
  }
  if (check !== 'ok') throw new BlobVerificationError('invalid-signature', invalidMessage(bundle, keyObject, keySource, fileName));

  const result: VerifyBlobResult = {
    format: bundle ? (bundle.format === 'sigstore' ? 'sigstore-bundle' : 'legacy-bundle') : 'signature',
    digest: digests.get(usedHash) ?? digests.get('sha256')!,
    digestAlgorithm: usedHash,
    tlogVerified: false,
  };

  // 5. Transparency log.
  if (options.ignoreTlog) return result;
  const tlogJson =
    bundle?.format === 'sigstore' && bundle.tlogEntries > 0
      ? bundle.json
      : bundle?.format === 'legacy' && bundle.rekorBundle
        ? legacyToV01Bundle(bundle.rekorBundle, signature, digests.get('sha256')!, 'sha256')
        : undefined;
  if (!tlogJson) {
    throw new BlobVerificationError(
      'tlog',
      bundle
        ? 'the bundle has no transparency-log entry to verify; pass --insecure-ignore-tlog to check the signature against the key only'
        : 'a detached signature carries no transparency-log entry to check offline: verify with --bundle (sign with --bundle and the log upload on), or pass --insecure-ignore-tlog to check the signature against the key only',
    );
  }
  await verifySigstoreBundle({
    bundle: tlogJson,
    bundleSource: options.bundleSource ?? 'bundle',
    artifact,
    digests,
    trustedRoot: await trustedRootOf(options),
    trustedRootSource: options.trustedRootSource,
    key: { key: keyObject, source: keySource },
    signatureVerified: true, // step 4, over the streamed digest (or the whole message for Ed25519)
  });
  return { ...result, tlogVerified: true };
}

async function trustedRootOf(options: VerifyBlobOptions): Promise<unknown> {
  if (options.trustedRoot !== undefined) return options.trustedRoot;
  if (options.getTrustedRoot) return options.getTrustedRoot();
  throw new BlobVerificationError('tlog', 'there is no trusted root to check the bundle against: pass --trusted-root trusted_root.json');
}

/**
 * The bundle as a Sigstore bundle for keyless verification, when it is one: a
 * Sigstore bundle signed by a certificate (or any Sigstore bundle when no key
 * is given), or a cosign legacy bundle whose `cert` is a certificate.
 */
async function keylessBundle(
  artifact: string | Uint8Array,
  options: VerifyBlobOptions,
): Promise<{ bundle: Record<string, unknown>; legacy: boolean; digests?: Map<HashAlgorithm, Buffer> } | undefined> {
  if (options.bundle === undefined) return undefined;
  let obj: unknown = options.bundle;
  if (typeof obj === 'string') {
    try {
      obj = JSON.parse(obj);
    } catch {
      return undefined; // parseBundle reports it
    }
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const b = obj as Record<string, unknown>;
  if ('mediaType' in b) {
    const vm = b.verificationMaterial as Record<string, unknown> | undefined;
    const hasCert = !!vm && typeof vm === 'object' && ('certificate' in vm || 'x509CertificateChain' in vm);
    return hasCert || options.publicKey === undefined ? { bundle: b, legacy: false } : undefined;
  }
  if (options.publicKey !== undefined || !('base64Signature' in b)) return undefined;
  const parsed = parseBundle(JSON.stringify(b), options.bundleSource ?? 'bundle');
  if (parsed.format !== 'legacy' || !parsed.certPem?.includes('CERTIFICATE')) return undefined;
  const cert = decodePem(parsed.certPem, `${options.bundleSource ?? 'bundle'} cert`);
  if (cert.type !== 'CERTIFICATE') return undefined;
  const sha256 = createHash('sha256');
  if (typeof artifact === 'string') await hashFileInto(artifact, [sha256]);
  else sha256.update(artifact);
  const digest = sha256.digest();
  const v01 = parsed.rekorBundle
    ? legacyToV01Bundle(parsed.rekorBundle, parsed.signature, digest, 'sha256')
    : {
        mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
        verificationMaterial: { tlogEntries: [] },
        messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') }, signature: parsed.signature.toString('base64') },
      };
  const vm = v01.verificationMaterial as Record<string, unknown>;
  delete vm.publicKey;
  vm.x509CertificateChain = { certificates: [{ rawBytes: Buffer.from(cert.bytes).toString('base64') }] };
  return { bundle: v01, legacy: true, digests: new Map([['sha256', digest]]) };
}

/**
 * `--signature` content: base64 text (whitespace ignored) or, for bytes that are
 * not base64, the raw signature. Over 64 KiB is refused before decoding: no
 * signature relsign can check is anywhere near that. `source` names it in errors.
 */
export function decodeSignature(sig: string | Uint8Array, source?: string): Buffer {
  if (sig.length > MAX_SIGNATURE_BYTES) {
    throw new BlobVerificationError('malformed-signature', tooLargeMessage(`malformed signature${source ? ` ${source}` : ''}`, 'a signature', sig.length, MAX_SIGNATURE_BYTES));
  }
  if (typeof sig === 'string') {
    const b = decodeBase64Strict(sig);
    if (!b) throw new BlobVerificationError('malformed-signature', `malformed signature${source ? ` ${source}` : ''}: not valid base64`);
    return b;
  }
  // Bytes: base64 text if it decodes as such (latin1 keeps one char per byte, so nothing non-ASCII decodes).
  const b = decodeBase64Strict(Buffer.from(sig).toString('latin1'));
  if (b && b.length > 0) return b;
  return Buffer.from(sig);
}

/** A bundle given as an object is re-serialised; one that cannot be (a cycle, a BigInt) is malformed. */
function bundleText(bundle: string | object, source: string): string {
  if (typeof bundle === 'string') return bundle;
  try {
    return JSON.stringify(bundle);
  } catch (err) {
    throw new BlobVerificationError('malformed-bundle', `malformed bundle ${source}: not serialisable as JSON (${describeError(err)})`);
  }
}

function invalidMessage(bundle: ParsedBundle | undefined, key: KeyObject, keySource: string, fileName: string): string {
  if (bundle?.format === 'sigstore') {
    const other = bundle.keyHint && bundle.keyHint !== publicKeyHint(key) ? ' (its key hint names another key)' : '';
    return `invalid signature: the bundle's signature does not verify with ${keySource}${other}`;
  }
  if (bundle?.format === 'legacy' && bundle.certPem?.includes('PUBLIC KEY')) {
    try {
      const embedded = parsePublicKeyPem(bundle.certPem, 'bundle cert');
      if (!publicKeyDer(embedded).equals(publicKeyDer(key))) return `invalid signature: the bundle was signed by another key than ${keySource}`;
      return `invalid signature: ${fileName} does not match the bundle's signature (modified after signing?)`;
    } catch {
      /* fall through to the generic message */
    }
  }
  return `invalid signature: ${fileName} was not signed by ${keySource}, or was modified after signing`;
}
