/**
 * `cosign verify-blob --key`: checks a detached signature or a bundle (legacy or
 * Sigstore v0.1–v0.3) against a public key, hashing the file streamed.
 *
 * Transparency log: relsign does not talk to Rekor. A bundle's tlog entries (and
 * RFC 3161 timestamps) are checked offline with @sigstore/verify when a Sigstore
 * `trusted_root.json` is given; `ignoreTlog` (cosign's --insecure-ignore-tlog)
 * checks the key signature only.
 */
import { createHash, timingSafeEqual, type Hash, type KeyObject } from 'node:crypto';
import { describeError, RelsignError } from '../util/errors.js';
import { PreparedPublicKey, signingHash, type DigestCheck, type HashAlgorithm } from './algorithms.js';
import { legacyToV01Bundle, parseBundle, type ParsedBundle } from './bundle.js';
import { hashFileInto } from './digest.js';
import { BlobVerificationError } from './errors.js';
import { keyAlgorithmOf, parsePublicKeyPem, publicKeyDer, publicKeyHint } from './keys.js';
import { MAX_SIGNATURE_BYTES, tooLargeMessage } from './limits.js';
import { decodeBase64Strict } from './pem.js';

export interface VerifyBlobOptions {
  /** The public key: a KeyObject or `PUBLIC KEY` PEM text. */
  publicKey: KeyObject | string;
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
}

export interface VerifyBlobResult {
  format: 'signature' | 'legacy-bundle' | 'sigstore-bundle';
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
      'no transparency-log entry to verify (relsign does not upload to Rekor yet); pass --insecure-ignore-tlog to check the signature against the key only',
    );
  }
  if (options.trustedRoot === undefined) {
    throw new BlobVerificationError(
      'tlog',
      'the bundle has a transparency-log entry but there is no trusted root to check it: pass --trusted-root trusted_root.json, or --insecure-ignore-tlog',
    );
  }
  const fileDigest = bundle?.format === 'sigstore' ? digests.get(bundle.digestAlgorithm)! : digests.get('sha256')!;
  await verifyTlogOffline(tlogJson, options.trustedRoot, keyObject, signature, fileDigest);
  return { ...result, tlogVerified: true };
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

/**
 * Checks tlog entries and timestamps with @sigstore/verify, against `trustedRoot`.
 * The message signature was already checked (over the streamed digest), so the
 * entity's signature content is replaced: the library then compares the Rekor
 * entry with our digest and signature, without needing the file in memory.
 */
async function verifyTlogOffline(bundleJson: Record<string, unknown>, trustedRoot: unknown, key: KeyObject, signature: Buffer, fileDigest: Buffer): Promise<void> {
  const [{ bundleFromJSON }, verifyLib, { TrustedRoot }] = await Promise.all([
    import('@sigstore/bundle'),
    import('@sigstore/verify'),
    import('@sigstore/protobuf-specs'),
  ]);
  const fail = (what: string, err: unknown): never => {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new BlobVerificationError('tlog', `${what}: ${msg}`, { cause: err });
  };
  let parsed;
  try {
    parsed = bundleFromJSON(bundleJson);
  } catch (err) {
    return fail('malformed bundle', err);
  }
  let material;
  try {
    material = verifyLib.toTrustMaterial(TrustedRoot.fromJSON(trustedRoot), () => ({ publicKey: key, validFor: () => true }));
  } catch (err) {
    return fail('invalid trusted root', err);
  }
  try {
    const entity = verifyLib.toSignedEntity(parsed);
    entity.key = { $case: 'public-key', hint: '' };
    entity.signature = {
      signature,
      compareSignature: (s: Buffer) => s.length === signature.length && timingSafeEqual(s, signature),
      compareDigest: (d: Buffer) => d.length === fileDigest.length && timingSafeEqual(d, fileDigest),
      verifySignature: (k: KeyObject) => k === key, // already verified over the streamed digest
    };
    new verifyLib.Verifier(material, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 }).verify(entity);
  } catch (err) {
    fail('transparency-log verification failed', err);
  }
}
