/**
 * Full verification of a Sigstore bundle (v0.1–v0.3) against a trusted root:
 * keyless (a Fulcio certificate: chain to a trusted CA, valid at every
 * verified time, an SCT from a trusted CT log, the identity policy) or a
 * public key; the transparency-log entry (inclusion promise / SET, inclusion
 * proof and checkpoint, and that the entry is for this signature and this
 * artifact); RFC 3161 timestamps; the signature itself.
 *
 * The checks are @sigstore/verify's, with three differences that the Sigstore
 * conformance suite asks for and that make relsign agree with cosign
 * (sigstore-go):
 * - an RFC 3161 timestamp that cannot be verified against the trusted root
 *   does not count as a time, rather than failing a bundle that has another
 *   verified time (a Rekor entry's integrated time);
 * - a DSSE envelope logged as a hashedrekord entry (Rekor v2) is compared by
 *   the digest of its pre-authentication encoding;
 * - a trusted root whose keys or CAs lack a validity start is refused
 *   (trusted-root.ts).
 * The artifact is hashed streamed; a message signature is checked over that
 * digest, never by reading the file into memory.
 */
import { createHash, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';
import { RelsignError, describeError } from '../util/errors.js';
import { PreparedPublicKey, signingHash, type HashAlgorithm } from './algorithms.js';
import { certificateIdentity, identityMismatch, type CertificateIdentity, type CompiledIdentityPolicy } from './certificate-identity.js';
import { hashFileInto } from './digest.js';
import { pae } from './dsse.js';
import { BlobVerificationError } from './errors.js';
import { keyAlgorithmOf } from './keys.js';
import { checkTrustedRoot } from './trusted-root.js';

const HASH_FROM_PROTO: Record<string, HashAlgorithm> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };
const MAX_STATEMENT_BYTES = 16 * 1024 * 1024;
const MAX_SUBJECTS = 10_000;

export interface BundleVerifyOptions {
  /** The bundle as parsed JSON. */
  bundle: Record<string, unknown>;
  /** How to name the bundle in messages. */
  bundleSource: string;
  /** The artifact: a file path (streamed) or bytes. */
  artifact: string | Uint8Array;
  /** The artifact's digests when already computed (saves a second pass over the file). */
  digests?: ReadonlyMap<HashAlgorithm, Buffer>;
  /** A Sigstore trusted root (JSON). */
  trustedRoot: unknown;
  trustedRootSource?: string;
  /** Verify with this key instead of a certificate. */
  key?: { key: KeyObject; source: string };
  /** The caller already checked the message signature with `key` (over the streamed digest, or Ed25519 over the file). */
  signatureVerified?: boolean;
  /** Required for a certificate-signed bundle. */
  identity?: CompiledIdentityPolicy;
  /** cosign --insecure-ignore-tlog: no transparency-log entry is required or checked. */
  ignoreTlog?: boolean;
  /**
   * For a DSSE bundle whose subject is not a file (an image): the caller checks
   * the in-toto statement's subject itself; `artifact` is then unused.
   */
  skipSubjectCheck?: boolean;
}

export interface BundleVerifyResult {
  content: 'message-signature' | 'dsse';
  /** The signer's identity, for a certificate. */
  signer?: CertificateIdentity;
  tlogVerified: boolean;
  /** The DSSE payload (an in-toto statement), for a DSSE bundle. */
  payload?: Buffer;
  payloadType?: string;
  /** For a message signature: the artifact's digest that was signed. */
  digest: Buffer;
  digestAlgorithm: HashAlgorithm;
}

type VerifyLib = typeof import('@sigstore/verify');
type SignedEntity = import('@sigstore/verify').SignedEntity;

const fail = (reason: ConstructorParameters<typeof BlobVerificationError>[0], message: string, cause?: unknown): never => {
  throw new BlobVerificationError(reason, message, { cause });
};

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

async function digestsOf(artifact: string | Uint8Array, algorithms: HashAlgorithm[], known?: ReadonlyMap<HashAlgorithm, Buffer>): Promise<Map<HashAlgorithm, Buffer>> {
  if (known && algorithms.every((a) => known.has(a))) return new Map(algorithms.map((a) => [a, known.get(a)!]));
  const hashes = new Map(algorithms.map((a) => [a, createHash(a)] as const));
  if (typeof artifact === 'string') await hashFileInto(artifact, [...hashes.values()]);
  else for (const h of hashes.values()) h.update(artifact);
  return new Map([...hashes].map(([a, h]) => [a, h.digest()]));
}

/** Verifies `o.bundle` fully. Throws a one-line BlobVerificationError naming the failed check. */
export async function verifySigstoreBundle(o: BundleVerifyOptions): Promise<BundleVerifyResult> {
  const [{ bundleFromJSON }, lib, { TrustedRoot }, tsa] = await Promise.all([
    import('@sigstore/bundle'),
    import('@sigstore/verify'),
    import('@sigstore/protobuf-specs'),
    import('@sigstore/verify/dist/timestamp/index.js') as Promise<{
      getTSATimestamp: (ts: unknown, data: Buffer, tsas: unknown) => { timestamp: Date };
    }>,
  ]);
  const name = typeof o.artifact === 'string' ? o.artifact : 'the blob';

  let parsed: ReturnType<typeof bundleFromJSON>;
  let entity: SignedEntity;
  try {
    parsed = bundleFromJSON(o.bundle);
    entity = lib.toSignedEntity(parsed, Buffer.alloc(0));
  } catch (err) {
    return fail('malformed-bundle', `malformed bundle ${o.bundleSource}: ${describeError(err)}`, err);
  }

  // A chain that carries its own root would let the bundle bring its trust with it (the
  // trusted root supplies the CA chain); refuse it rather than ignore it.
  const vm = parsed.verificationMaterial.content;
  if (vm.$case === 'x509CertificateChain') {
    const { X509Certificate } = await import('@sigstore/core');
    for (const [i, c] of vm.x509CertificateChain.certificates.entries()) {
      let selfSigned = false;
      try {
        const cert = X509Certificate.parse(Buffer.from(c.rawBytes));
        selfSigned = cert.subject.equals(cert.issuer) && cert.isCA;
      } catch (err) {
        fail('malformed-bundle', `malformed bundle ${o.bundleSource}: certificate ${i + 1} of its chain does not parse (${describeError(err)})`, err);
      }
      if (selfSigned) fail('certificate', `bundle ${o.bundleSource}: its certificate chain includes a root certificate (certificate ${i + 1}); roots come from the trusted root only`);
    }
  }

  let material: ReturnType<VerifyLib['toTrustMaterial']>;
  try {
    const rootJson = checkTrustedRoot(o.trustedRoot, o.trustedRootSource ?? 'given');
    material = lib.toTrustMaterial(TrustedRoot.fromJSON(rootJson), o.key ? () => ({ publicKey: o.key!.key, validFor: () => true }) : undefined);
  } catch (err) {
    if (err instanceof RelsignError) throw err;
    return fail('tlog', `invalid trusted root ${o.trustedRootSource ?? ''}: ${describeError(err)}`.replace('  ', ' '), err);
  }

  const isCert = entity.key.$case === 'certificate';
  if (!isCert && !o.key) {
    fail('invalid-signature', `the bundle ${o.bundleSource} is signed with a public key, not a certificate: verify it with --key`);
  }
  if (isCert && o.key) {
    fail('invalid-signature', `the bundle ${o.bundleSource} is signed with a certificate, not with ${o.key.source}: verify it with --certificate-identity and --certificate-oidc-issuer`);
  }
  if (isCert && !o.identity) throw new RelsignError('a certificate-signed bundle needs an identity policy (--certificate-identity and --certificate-oidc-issuer)');
  if (o.key) entity.key = { $case: 'public-key', hint: '' };

  // The content: what the signature covers, compared with the artifact.
  const result: BundleVerifyResult = {
    content: parsed.content.$case === 'dsseEnvelope' ? 'dsse' : 'message-signature',
    tlogVerified: false,
    digest: Buffer.alloc(0),
    digestAlgorithm: 'sha256',
  };
  if (parsed.content.$case === 'messageSignature') {
    const ms = parsed.content.messageSignature;
    const alg = HASH_FROM_PROTO[String((o.bundle.messageSignature as { messageDigest?: { algorithm?: unknown } } | undefined)?.messageDigest?.algorithm)];
    if (!alg || !ms.messageDigest) return fail('unsupported-bundle', `unsupported bundle ${o.bundleSource}: no SHA-2 message digest`);
    const fileDigest = (await digestsOf(o.artifact, [alg], o.digests)).get(alg)!;
    result.digest = fileDigest;
    result.digestAlgorithm = alg;
    const signed = Buffer.from(ms.messageDigest.digest);
    if (!equal(fileDigest, signed)) {
      fail('digest-mismatch', `bundle digest mismatch: ${name} has ${alg} ${fileDigest.toString('hex')}, the bundle signed ${signed.toString('hex')}`);
    }
    const signature = Buffer.from(ms.signature);
    entity.signature = {
      signature,
      compareSignature: (s: Buffer) => equal(s, signature),
      compareDigest: (d: Buffer) => equal(d, fileDigest),
      verifySignature: (k: KeyObject) => {
        if (o.signatureVerified && o.key) return k === o.key.key;
        try {
          const algorithm = keyAlgorithmOf(k, 'the signing key');
          if (algorithm === 'ed25519') return false; // Ed25519 signs the message, not a digest
          return new PreparedPublicKey(k, algorithm).verifyDigest(fileDigest, alg, signature) === 'ok';
        } catch {
          return false;
        }
      },
    };
  } else {
    const env = parsed.content.dsseEnvelope;
    if (env.signatures.length !== 1) fail('malformed-bundle', `malformed bundle ${o.bundleSource}: a DSSE envelope must carry exactly one signature, it has ${env.signatures.length}`);
    const payload = Buffer.from(env.payload);
    const message = pae(env.payloadType, payload);
    const signature = Buffer.from(env.signatures[0]!.sig);
    // A hashedrekord entry (Rekor v2 logs a DSSE envelope this way) records the digest of the PAE;
    // a dsse/intoto entry records the payload's.
    const kinds = new Set(entity.tlogEntries.map((e) => e.kindVersion?.kind));
    if (kinds.has('hashedrekord') && kinds.size > 1) fail('tlog', `malformed bundle ${o.bundleSource}: its tlog entries log the DSSE envelope in different kinds`);
    const logged = kinds.has('hashedrekord') ? createHash('sha256').update(message).digest() : createHash('sha256').update(payload).digest();
    entity.signature = {
      signature,
      compareSignature: (s: Buffer) => equal(s, signature),
      compareDigest: (d: Buffer) => equal(d, logged),
      verifySignature: (k: KeyObject) => {
        try {
          const algorithm = keyAlgorithmOf(k, 'the signing key');
          return cryptoVerify(algorithm === 'ed25519' ? null : signingHash(algorithm), message, k, signature);
        } catch {
          return false;
        }
      },
    };
    result.payload = payload;
    result.payloadType = env.payloadType;
  }

  if (o.ignoreTlog) {
    entity.tlogEntries = [];
    entity.timestamps = entity.timestamps.filter((t) => t.$case !== 'transparency-log');
  }

  // Timestamps: an RFC 3161 timestamp that does not verify is not a time (sigstore-go's rule).
  let tsaFailure: string | undefined;
  const verifiedTimes: { time: Date; what: string }[] = [];
  entity.timestamps = entity.timestamps.filter((t) => {
    if (t.$case !== 'timestamp-authority') {
      if (t.tlogEntry.inclusionPromise) verifiedTimes.push({ time: new Date(Number(t.tlogEntry.integratedTime) * 1000), what: "the transparency log's integrated time" });
      return true;
    }
    try {
      const r = tsa.getTSATimestamp(t.timestamp, entity.signature.signature, material.timestampAuthorities);
      verifiedTimes.push({ time: r.timestamp, what: 'the RFC 3161 timestamp' });
      return true;
    } catch (err) {
      tsaFailure ??= describeError(err);
      return false;
    }
  });

  let signer: ReturnType<InstanceType<VerifyLib['Verifier']>['verify']>;
  try {
    const verifier = new lib.Verifier(material, {
      tlogThreshold: o.ignoreTlog ? 0 : 1,
      ctlogThreshold: isCert ? 1 : 0,
      timestampThreshold: isCert ? 1 : 0,
    });
    signer = verifier.verify(entity);
  } catch (err) {
    return fail(reasonOf(err), explain(err, { entity, verifiedTimes, tsaFailure, keySource: o.key?.source, ignoreTlog: !!o.ignoreTlog }), err);
  }
  result.tlogVerified = !o.ignoreTlog && entity.tlogEntries.length > 0;

  if (isCert) {
    const id = certificateIdentity((entity.key as { certificate: X509Certificate }).certificate);
    const mismatch = identityMismatch(id, o.identity!);
    if (mismatch) fail('identity', mismatch);
    result.signer = id;
  }
  void signer;

  if (result.payload && !o.skipSubjectCheck) result.digest = await checkStatementSubject(result.payload, result.payloadType!, o.artifact, name, o.digests);
  return result;
}

/** For a DSSE bundle: the in-toto statement must name the artifact as a subject. */
async function checkStatementSubject(
  payload: Buffer,
  payloadType: string,
  artifact: string | Uint8Array,
  name: string,
  known?: ReadonlyMap<HashAlgorithm, Buffer>,
): Promise<Buffer> {
  if (payloadType !== 'application/vnd.in-toto+json') fail('unsupported-bundle', `unsupported DSSE payload type ${JSON.stringify(payloadType)} (want an in-toto statement)`);
  if (payload.length > MAX_STATEMENT_BYTES) fail('malformed-bundle', 'the in-toto statement is too large');
  let st: { subject?: unknown };
  try {
    st = JSON.parse(payload.toString('utf8')) as { subject?: unknown };
  } catch {
    return fail('malformed-bundle', 'the DSSE payload is not a JSON in-toto statement');
  }
  const subjects = Array.isArray(st?.subject) ? (st.subject as { digest?: Record<string, unknown> }[]).slice(0, MAX_SUBJECTS) : [];
  const digests = await digestsOf(artifact, ['sha256', 'sha512'], known);
  const matches = subjects.some((s) => {
    const d = s?.digest;
    if (!d || typeof d !== 'object') return false;
    return (['sha256', 'sha512'] as const).some((a) => typeof d[a] === 'string' && (d[a] as string).toLowerCase() === digests.get(a)!.toString('hex'));
  });
  if (!matches) fail('digest-mismatch', `${name} is not a subject of the bundle's in-toto statement (its sha256 is ${digests.get('sha256')!.toString('hex')})`);
  return digests.get('sha256')!;
}

function reasonOf(err: unknown): ConstructorParameters<typeof BlobVerificationError>[0] {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SIGNATURE_ERROR') return 'invalid-signature';
  if (code === 'CERTIFICATE_ERROR' || code === 'PUBLIC_KEY_ERROR') return 'certificate';
  if (code === 'TIMESTAMP_ERROR') return 'timestamp';
  return 'tlog';
}

/** One line saying which check failed, from @sigstore/verify's error and what we know of the entity. */
function explain(
  err: unknown,
  c: { entity: SignedEntity; verifiedTimes: { time: Date; what: string }[]; tsaFailure?: string; keySource?: string; ignoreTlog: boolean },
): string {
  const code = (err as { code?: string }).code ?? '';
  const msg = describeError(err);
  switch (code) {
    case 'SIGNATURE_ERROR':
      return `invalid signature: the bundle's signature does not verify with ${c.keySource ?? "the certificate's key"}`;
    case 'TIMESTAMP_ERROR':
      if (c.tsaFailure) return `no trusted time for the signature: its RFC 3161 timestamp does not verify against the trusted root (${c.tsaFailure})`;
      return c.ignoreTlog
        ? 'no trusted time for the signature: the certificate can only be checked at a verified time, and with --insecure-ignore-tlog that needs an RFC 3161 timestamp'
        : "no trusted time for the signature: no transparency-log entry with an inclusion promise and no RFC 3161 timestamp";
    case 'CERTIFICATE_ERROR': {
      if (/SCT/.test(msg)) {
        return /expected/.test(msg)
          ? "the certificate has no SCT from a CT log in the trusted root"
          : "the certificate's SCT does not verify against the trusted root's CT logs";
      }
      const cert = c.entity.key.$case === 'certificate' ? c.entity.key.certificate : undefined;
      if (cert) {
        for (const t of c.verifiedTimes) {
          if (!cert.validForDate(t.time)) {
            return `the certificate was not valid at ${t.what} ${t.time.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`;
          }
        }
      }
      return `the certificate does not chain to a certificate authority in the trusted root valid at the signing time (${msg})`;
    }
    case 'PUBLIC_KEY_ERROR':
      return `the public key is not trusted at the signing time (${msg})`;
    case 'TLOG_INCLUSION_PROMISE_ERROR':
      return "the transparency-log entry's signed entry timestamp (SET) does not verify against the trusted root's logs";
    case 'TLOG_INCLUSION_PROOF_ERROR':
      return `the transparency-log inclusion proof does not check: ${msg}`;
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return 'the transparency-log entry has neither an inclusion promise nor an inclusion proof';
    case 'TLOG_BODY_ERROR':
      return `the transparency-log entry is for another artifact or signature: ${msg}`;
    case 'TLOG_ERROR':
      return 'the bundle has no transparency-log entry; pass --insecure-ignore-tlog to check without one';
    default:
      return `verification failed: ${msg}`;
  }
}
