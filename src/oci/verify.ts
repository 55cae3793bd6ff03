/**
 * Verifying image signatures with a public key, as `cosign verify --key` does:
 *
 * - legacy layout: every `application/vnd.dev.cosign.simplesigning.v1+json`
 *   layer of `sha256-<hex>.sig` (other layers are skipped), its payload blob
 *   fetched by digest, the signature annotation checked over the raw payload
 *   bytes, the payload parsed strictly, its docker-manifest-digest equal to the
 *   image digest, and `-a` annotations matched against `optional`;
 * - referrers layout: every Sigstore bundle attached to the image (referrers
 *   API, or the `sha256-<hex>` fallback index), its DSSE signature checked over
 *   PAE, the in-toto statement's subject digest equal to the image digest, and
 *   `-a` annotations matched against the subject's annotations.
 *
 * Keyless (no key; an identity policy instead): the same layouts, signed by a
 * Fulcio certificate — the legacy layer's `dev.sigstore.cosign/certificate`
 * annotation with its Rekor bundle (`dev.sigstore.cosign/bundle`, the SET) as
 * the log entry, or the referrer bundle's certificate and tlog entries — all
 * checked against the trusted root and the policy (sigstore/verify-bundle.ts).
 *
 * Transparency log, by default, as cosign: a key signature's Rekor bundle
 * annotation or the referrer bundle's tlog entry is verified offline against the
 * trusted root; a signature without one does not count unless `ignoreTlog`.
 *
 * Fails closed. Exit codes as cosign's: 10 no signature at all, 12 signatures
 * but none verified, 11 the image itself not found; anything else 1.
 */
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { legacyToV01Bundle, type RekorBundle } from '../sigstore/bundle.js';
import type { CompiledIdentityPolicy } from '../sigstore/certificate-identity.js';
import { decodePem } from '../sigstore/pem.js';
import { verifySigstoreBundle } from '../sigstore/verify-bundle.js';
import { PreparedPublicKey, signingHash, type HashAlgorithm } from '../sigstore/algorithms.js';
import { IN_TOTO_PAYLOAD_TYPE, pae, parseDsseBundle } from '../sigstore/dsse.js';
import { keyAlgorithmOf } from '../sigstore/keys.js';
import { decodeBase64Strict } from '../sigstore/pem.js';
import { RelsignError } from '../util/errors.js';
import { goJson, sortedObject } from './sign/gojson.js';
import { annotationMismatch, COSIGN_SIGN_PREDICATE, isSha256Digest, parseSimpleSigningPayload, parseStatement, SIMPLE_SIGNING_TYPE } from './sign/payload.js';
import { referrersTag, repoName, signatureTag, type RepoRef, type SignatureRegistry } from './sign/registry.js';

const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
const REKOR_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const MAX_CHECKED = 1000;

export const EXIT_NO_SIGNATURES = 10;
export const EXIT_IMAGE_NOT_FOUND = 11;
export const EXIT_NO_MATCHING_SIGNATURE = 12;

export type ImageVerificationFailure = 'no-signatures' | 'no-matching-signature' | 'image-not-found';

export class ImageVerificationError extends RelsignError {
  readonly reason: ImageVerificationFailure;
  constructor(reason: ImageVerificationFailure, message: string) {
    super(message, {
      exitCode: reason === 'no-signatures' ? EXIT_NO_SIGNATURES : reason === 'image-not-found' ? EXIT_IMAGE_NOT_FOUND : EXIT_NO_MATCHING_SIGNATURE,
    });
    this.name = 'ImageVerificationError';
    this.reason = reason;
  }
}

/** A public key and how to name it in messages. */
export interface VerificationKey {
  key: KeyObject;
  source: string;
}

/** One layer of a `.sig` manifest, its payload already fetched (and digest-checked). */
export interface LegacySignatureLayer {
  mediaType: string;
  payload: Buffer;
  annotations: Record<string, string>;
}

/** A verified signature, in cosign's output form (SimpleContainerImage). */
export interface VerifiedSignature {
  layout: 'legacy' | 'referrers';
  /** Where it was found, e.g. `host/repo:sha256-….sig layer 1`. */
  source: string;
  payload: Record<string, unknown>;
}

/** Why one signature did not count. `keyless`: it carries a certificate where a key was asked for (or the reverse). */
export interface Rejection {
  kind: 'keyless' | 'invalid-signature' | 'digest-mismatch' | 'annotations' | 'malformed' | 'tlog' | 'certificate';
  source: string;
  reason: string;
}

export type Outcome = { ok: true; verified: VerifiedSignature } | { ok: false; rejected: Rejection };

export interface CheckOptions {
  key: VerificationKey;
  /** `-a k=v`: each must be in the signed annotations with an equal string value. */
  annotations?: Record<string, string>;
}

/** What the transparency-log and keyless checks need. */
export interface TrustOptions {
  /** cosign --insecure-ignore-tlog. */
  ignoreTlog?: boolean;
  /** The Sigstore trusted root, fetched only when a check needs it. */
  getTrustedRoot?: () => Promise<unknown>;
  trustedRootSource?: string;
}

/** Keyless image verification: who must have signed, instead of a key. */
export interface KeylessCheckOptions extends TrustOptions {
  identity: CompiledIdentityPolicy;
  annotations?: Record<string, string>;
}

/** Checks a signature over `message` with the key: the key's hash and SHA-256 for ECDSA/RSA, pure Ed25519. */
export function signatureVerifies(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  const algorithm = keyAlgorithmOf(key, 'public key');
  if (algorithm === 'ed25519') {
    try {
      return signature.length === 64 && cryptoVerify(null, message, key, signature);
    } catch {
      return false;
    }
  }
  const pub = new PreparedPublicKey(key, algorithm);
  for (const h of new Set<HashAlgorithm>([signingHash(algorithm), 'sha256'])) {
    if (pub.verifyDigest(createHash(h).update(message).digest(), h, signature) === 'ok') return true;
  }
  return false;
}

/** Checks one `.sig` layer against the image digest. Non-simplesigning layers are for the caller to skip. */
export function checkLegacyLayer(layer: LegacySignatureLayer, digest: string, source: string, options: CheckOptions): Outcome {
  const reject = (kind: Rejection['kind'], reason: string): Outcome => ({ ok: false, rejected: { kind, source, reason } });
  const sigText = layer.annotations[SIGNATURE_ANNOTATION];
  const hasCert = typeof layer.annotations[CERTIFICATE_ANNOTATION] === 'string' && layer.annotations[CERTIFICATE_ANNOTATION] !== '';
  if (sigText === undefined || sigText === '') return reject('malformed', `no ${SIGNATURE_ANNOTATION} annotation`);
  const signature = decodeBase64Strict(sigText);
  if (!signature || signature.length === 0) return reject('malformed', 'the signature annotation is not base64');
  if (!signatureVerifies(options.key.key, layer.payload, signature)) {
    if (hasCert) {
      return reject('keyless', `signed with a certificate (keyless or private PKI), not with ${options.key.source}; verify it with --certificate-identity … --certificate-oidc-issuer …`);
    }
    return reject('invalid-signature', `the signature does not verify with ${options.key.source}`);
  }
  return legacyPayloadOutcome(layer, digest, source, options.annotations);
}

/** The payload checks of a legacy layer whose signature verified. */
function legacyPayloadOutcome(layer: LegacySignatureLayer, digest: string, source: string, wanted: Record<string, string> | undefined): Outcome {
  const reject = (kind: Rejection['kind'], reason: string): Outcome => ({ ok: false, rejected: { kind, source, reason } });
  const parsed = parseSimpleSigningPayload(layer.payload);
  if (typeof parsed === 'string') return reject('malformed', parsed);
  if (parsed.digest !== digest) return reject('digest-mismatch', `the payload signs ${parsed.digest}, not ${digest}`);
  const mismatch = annotationMismatch(parsed.optional, wanted ?? {});
  if (mismatch) return reject('annotations', mismatch);
  return {
    ok: true,
    verified: {
      layout: 'legacy',
      source,
      payload: {
        critical: {
          identity: { 'docker-reference': parsed.dockerReference },
          image: { 'docker-manifest-digest': parsed.digest },
          type: SIMPLE_SIGNING_TYPE,
        },
        optional: parsed.optional === null ? null : (sortedObject(parsed.optional) as Record<string, unknown>),
      },
    },
  };
}

/** Checks one referrer bundle (DSSE over an in-toto statement) against the image digest. */
export function checkBundle(bundleText: string, digest: string, dockerReference: string, source: string, options: CheckOptions): Outcome {
  const reject = (kind: Rejection['kind'], reason: string): Outcome => ({ ok: false, rejected: { kind, source, reason } });
  const bundle = parseDsseBundle(bundleText);
  if (typeof bundle === 'string') return reject('malformed', bundle);
  if (bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE) return reject('malformed', `DSSE payloadType ${JSON.stringify(bundle.payloadType)} is not ${IN_TOTO_PAYLOAD_TYPE}`);
  const message = pae(bundle.payloadType, bundle.payload);
  if (!bundle.signatures.some((s) => signatureVerifies(options.key.key, message, s))) {
    if (bundle.hasCertificate) {
      return reject('keyless', `signed with a certificate (keyless), not with ${options.key.source}; verify it with --certificate-identity … --certificate-oidc-issuer …`);
    }
    return reject('invalid-signature', `the bundle's signature does not verify with ${options.key.source}`);
  }
  return statementOutcome(bundle.payload, digest, dockerReference, source, options.annotations);
}

/** The in-toto statement checks of a referrer bundle whose signature verified. */
function statementOutcome(payload: Buffer, digest: string, dockerReference: string, source: string, wanted: Record<string, string> | undefined): Outcome {
  const reject = (kind: Rejection['kind'], reason: string): Outcome => ({ ok: false, rejected: { kind, source, reason } });
  const st = parseStatement(payload);
  if (typeof st === 'string') return reject('malformed', st);
  if (st.predicateType !== COSIGN_SIGN_PREDICATE) return reject('malformed', `predicate type ${st.predicateType} is not a cosign signature`);
  const hex = digest.slice('sha256:'.length);
  const subject = st.subjects.find((s) => s.sha256 === hex);
  if (!subject) return reject('digest-mismatch', `the statement's subject is not ${digest}`);
  const mismatch = annotationMismatch(subject.annotations, wanted ?? {});
  if (mismatch) return reject('annotations', mismatch);
  return {
    ok: true,
    verified: {
      layout: 'referrers',
      source,
      payload: {
        critical: {
          identity: { 'docker-reference': dockerReference },
          image: { 'docker-manifest-digest': digest },
          type: SIMPLE_SIGNING_TYPE,
        },
        optional: subject.annotations === null ? null : (sortedObject(subject.annotations) as Record<string, unknown>),
      },
    },
  };
}

/** The one-line message of a failed check, as a rejection. */
function rejected(source: string, err: unknown): Outcome {
  const reason = (err as { reason?: string }).reason;
  const kind: Rejection['kind'] =
    reason === 'identity' || reason === 'certificate' || reason === 'timestamp' ? 'certificate' : reason === 'invalid-signature' ? 'invalid-signature' : reason === 'digest-mismatch' ? 'digest-mismatch' : 'tlog';
  const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
  return { ok: false, rejected: { kind, source, reason: message } };
}

/** A legacy layer's Rekor bundle annotation, parsed; a reason string when it is malformed. */
function rekorBundleOf(layer: LegacySignatureLayer): RekorBundle | undefined | string {
  const text = layer.annotations[REKOR_BUNDLE_ANNOTATION];
  if (text === undefined || text === '') return undefined;
  let rb: unknown;
  try {
    rb = JSON.parse(text);
  } catch {
    return `the ${REKOR_BUNDLE_ANNOTATION} annotation is not JSON`;
  }
  const p = (rb as { Payload?: Record<string, unknown> } | null)?.Payload;
  if (
    typeof (rb as { SignedEntryTimestamp?: unknown }).SignedEntryTimestamp !== 'string' ||
    !p ||
    typeof p.body !== 'string' ||
    typeof p.integratedTime !== 'number' ||
    typeof p.logIndex !== 'number' ||
    typeof p.logID !== 'string'
  ) {
    return `the ${REKOR_BUNDLE_ANNOTATION} annotation needs SignedEntryTimestamp and Payload {body, integratedTime, logIndex, logID}`;
  }
  return rb as RekorBundle;
}

async function trustedRoot(o: TrustOptions): Promise<unknown> {
  if (!o.getTrustedRoot) throw new RelsignError('no trusted root to verify against: pass --trusted-root trusted_root.json');
  return o.getTrustedRoot();
}

/** A legacy layer as a Sigstore v0.1 bundle over its payload: the signature, the Rekor entry, and the certificate when keyless. */
function legacyLayerBundle(layer: LegacySignatureLayer, signature: Buffer, rekor: RekorBundle | undefined, certDer?: Uint8Array): Record<string, unknown> {
  const digest = createHash('sha256').update(layer.payload).digest();
  const b = rekor
    ? legacyToV01Bundle(rekor, signature, digest, 'sha256')
    : {
        mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
        verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] as unknown[] },
        messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') }, signature: signature.toString('base64') },
      };
  if (certDer) {
    const vm = b.verificationMaterial as Record<string, unknown>;
    delete vm.publicKey;
    vm.x509CertificateChain = { certificates: [{ rawBytes: Buffer.from(certDer).toString('base64') }] };
  }
  return b;
}

/**
 * A key signature in the legacy layout, with its transparency-log entry (the
 * Rekor bundle annotation) verified unless `ignoreTlog`.
 */
export async function checkLegacyLayerWithTlog(layer: LegacySignatureLayer, digest: string, source: string, options: CheckOptions & TrustOptions): Promise<Outcome> {
  const outcome = checkLegacyLayer(layer, digest, source, options);
  if (!outcome.ok || options.ignoreTlog) return outcome;
  const rekor = rekorBundleOf(layer);
  if (typeof rekor === 'string') return { ok: false, rejected: { kind: 'malformed', source, reason: rekor } };
  if (!rekor) {
    return { ok: false, rejected: { kind: 'tlog', source, reason: `no transparency-log entry (${REKOR_BUNDLE_ANNOTATION} annotation); pass --insecure-ignore-tlog to check the key signature only` } };
  }
  const signature = decodeBase64Strict(layer.annotations[SIGNATURE_ANNOTATION]!)!;
  try {
    await verifySigstoreBundle({
      bundle: legacyLayerBundle(layer, signature, rekor),
      bundleSource: source,
      artifact: layer.payload,
      trustedRoot: await trustedRoot(options),
      trustedRootSource: options.trustedRootSource,
      key: options.key,
    });
  } catch (err) {
    if (err instanceof RelsignError && !('reason' in err)) throw err; // the trusted root itself: not this signature's fault
    return rejected(source, err);
  }
  return outcome;
}

/** A keyless signature in the legacy layout: certificate (and Rekor bundle) annotations, verified against the trusted root and policy. */
export async function checkLegacyLayerKeyless(layer: LegacySignatureLayer, digest: string, source: string, options: KeylessCheckOptions): Promise<Outcome> {
  const reject = (kind: Rejection['kind'], reason: string): Outcome => ({ ok: false, rejected: { kind, source, reason } });
  const sigText = layer.annotations[SIGNATURE_ANNOTATION];
  if (sigText === undefined || sigText === '') return reject('malformed', `no ${SIGNATURE_ANNOTATION} annotation`);
  const signature = decodeBase64Strict(sigText);
  if (!signature || signature.length === 0) return reject('malformed', 'the signature annotation is not base64');
  const certPem = layer.annotations[CERTIFICATE_ANNOTATION];
  if (certPem === undefined || certPem === '') return reject('keyless', 'signed with a key, not a certificate: verify with --key');
  let certDer: Buffer;
  try {
    const blk = decodePem(certPem, `the ${CERTIFICATE_ANNOTATION} annotation`);
    if (blk.type !== 'CERTIFICATE') return reject('malformed', `the ${CERTIFICATE_ANNOTATION} annotation holds a ${blk.type}, not a CERTIFICATE`);
    certDer = Buffer.from(blk.bytes);
  } catch (err) {
    return reject('malformed', err instanceof Error ? err.message : String(err));
  }
  const rekor = rekorBundleOf(layer);
  if (typeof rekor === 'string') return reject('malformed', rekor);
  try {
    await verifySigstoreBundle({
      bundle: legacyLayerBundle(layer, signature, rekor, certDer),
      bundleSource: source,
      artifact: layer.payload,
      trustedRoot: await trustedRoot(options),
      trustedRootSource: options.trustedRootSource,
      identity: options.identity,
      ignoreTlog: options.ignoreTlog,
    });
  } catch (err) {
    if (err instanceof RelsignError && !('reason' in err)) throw err;
    return rejected(source, err);
  }
  return legacyPayloadOutcome(layer, digest, source, options.annotations);
}

/**
 * A referrer bundle: with a key, checkBundle plus its tlog entry unless
 * `ignoreTlog`; keyless, the whole bundle against the trusted root and policy.
 */
export async function checkBundleWithTrust(
  bundleText: string,
  digest: string,
  dockerReference: string,
  source: string,
  options: (CheckOptions & TrustOptions) | KeylessCheckOptions,
): Promise<Outcome> {
  const reject = (kind: Rejection['kind'], reason: string): Outcome => ({ ok: false, rejected: { kind, source, reason } });
  const keyed = 'key' in options && options.key !== undefined;
  if (keyed) {
    const outcome = checkBundle(bundleText, digest, dockerReference, source, options as CheckOptions);
    if (!outcome.ok || options.ignoreTlog) return outcome;
  }
  const bundle = parseDsseBundle(bundleText);
  if (typeof bundle === 'string') return reject('malformed', bundle);
  if (!keyed && !bundle.hasCertificate) return reject('keyless', 'signed with a key, not a certificate: verify with --key');
  if (keyed && bundle.tlogEntries === 0) {
    return reject('tlog', 'the bundle has no transparency-log entry; pass --insecure-ignore-tlog to check the key signature only');
  }
  try {
    await verifySigstoreBundle({
      bundle: JSON.parse(bundleText) as Record<string, unknown>,
      bundleSource: source,
      artifact: Buffer.alloc(0),
      skipSubjectCheck: true, // the statement's subject is the image: checked below
      trustedRoot: await trustedRoot(options),
      trustedRootSource: options.trustedRootSource,
      ...(keyed ? { key: (options as CheckOptions).key } : { identity: (options as KeylessCheckOptions).identity, ignoreTlog: options.ignoreTlog }),
    });
  } catch (err) {
    if (err instanceof RelsignError && !('reason' in err)) throw err;
    return rejected(source, err);
  }
  return statementOutcome(bundle.payload, digest, dockerReference, source, options.annotations);
}

/**
 * The verdict over every signature found: the verified ones, or an
 * ImageVerificationError saying why none counted (one line).
 */
export function verdict(image: string, found: number, outcomes: Outcome[]): VerifiedSignature[] {
  const verified = outcomes.filter((o): o is Extract<Outcome, { ok: true }> => o.ok).map((o) => o.verified);
  if (verified.length > 0) return verified;
  if (found === 0) throw new ImageVerificationError('no-signatures', `no signatures found for ${image}`);
  const rejected = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok).map((o) => o.rejected);
  const shown = rejected.slice(0, 3).map((r) => `${r.source}: ${r.reason}`);
  const more = rejected.length > 3 ? `; and ${rejected.length - 3} more` : '';
  throw new ImageVerificationError('no-matching-signature', `no matching signatures for ${image}: ${shown.join('; ')}${more}`);
}

/** cosign's stdout for `verify`: the verified payloads as one compact JSON array. */
export function formatVerified(verified: readonly VerifiedSignature[]): string {
  return goJson(verified.map((v) => v.payload));
}

export interface VerifyImageOptions extends TrustOptions {
  /** A key, or `identity` for keyless verification. */
  key?: VerificationKey;
  identity?: CompiledIdentityPolicy;
  annotations?: Record<string, string>;
  registry: SignatureRegistry;
  repo: RepoRef;
  /** registry/repository, as signed into payloads (repositoryName()). */
  dockerReference: string;
  digest: string;
}

/** Reads both layouts from the registry and verifies every signature found. */
export async function verifyImage(o: VerifyImageOptions): Promise<VerifiedSignature[]> {
  if (!isSha256Digest(o.digest)) throw new RelsignError(`verify ${o.dockerReference}: unsupported digest ${JSON.stringify(o.digest)}`);
  const image = `${o.dockerReference}@${o.digest}`;
  if (!o.key && !o.identity) throw new RelsignError('verify: give a key or an identity policy');
  const outcomes: Outcome[] = [];
  let found = 0;

  // Legacy: the .sig tag.
  const tag = signatureTag(o.digest);
  const sigManifest = await o.registry.getManifest(o.repo, tag, ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
  if (sigManifest) {
    const layers = (sigManifest.json as { layers?: unknown })?.layers;
    if (!Array.isArray(layers)) throw new RelsignError(`${repoName(o.repo)}:${tag}: not a signature manifest (no layers)`);
    for (const [i, raw] of layers.slice(0, MAX_CHECKED).entries()) {
      const l = raw as { mediaType?: unknown; digest?: unknown; size?: unknown; annotations?: unknown } | null;
      if (!l || l.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue; // not a signature (cosign skips these too)
      found++;
      const source = `${repoName(o.repo)}:${tag} layer ${i + 1}`;
      if (typeof l.digest !== 'string' || typeof l.size !== 'number' || l.size > 1024 * 1024) {
        outcomes.push({ ok: false, rejected: { kind: 'malformed', source, reason: 'the layer descriptor is malformed or too large' } });
        continue;
      }
      const annotations: Record<string, string> = {};
      if (l.annotations && typeof l.annotations === 'object') {
        for (const [k, v] of Object.entries(l.annotations)) if (typeof v === 'string') annotations[k] = v;
      }
      const payload = await o.registry.getBlobBytes(o.repo, l.digest, 1024 * 1024);
      const layer = { mediaType: l.mediaType, payload, annotations };
      outcomes.push(
        o.key
          ? await checkLegacyLayerWithTlog(layer, o.digest, source, { ...o, key: o.key })
          : await checkLegacyLayerKeyless(layer, o.digest, source, { ...o, identity: o.identity! }),
      );
    }
  }

  // Referrers: the API, or the fallback tag.
  const api = await o.registry.getReferrers(o.repo, o.digest, BUNDLE_MEDIA_TYPE);
  let referrers = api.manifests;
  if (!api.supported) {
    const idx = await o.registry.getManifest(o.repo, referrersTag(o.digest), ['application/vnd.oci.image.index.v1+json']);
    const list = (idx?.json as { manifests?: unknown } | undefined)?.manifests;
    referrers = Array.isArray(list) ? (list as typeof referrers) : [];
  }
  for (const ref of referrers.slice(0, MAX_CHECKED)) {
    if (!ref || ref.artifactType !== BUNDLE_MEDIA_TYPE || typeof ref.digest !== 'string') continue;
    const source = `${repoName(o.repo)}@${ref.digest}`;
    const got = await o.registry.getManifest(o.repo, ref.digest, ['application/vnd.oci.image.manifest.v1+json']);
    const m = got?.json as { subject?: { digest?: unknown }; layers?: Array<{ mediaType?: unknown; digest?: unknown }> } | undefined;
    if (!m) continue;
    const layer = Array.isArray(m.layers) ? m.layers.find((x) => x?.mediaType === BUNDLE_MEDIA_TYPE) : undefined;
    if (!layer || typeof layer.digest !== 'string') continue; // not a bundle
    found++;
    if (m.subject?.digest !== o.digest) {
      outcomes.push({ ok: false, rejected: { kind: 'digest-mismatch', source, reason: `its subject is ${String(m.subject?.digest)}, not ${o.digest}` } });
      continue;
    }
    const bundle = await o.registry.getBlobBytes(o.repo, layer.digest, 1024 * 1024);
    outcomes.push(
      await checkBundleWithTrust(bundle.toString('utf8'), o.digest, o.dockerReference, source, o.key ? { ...o, key: o.key } : { ...o, identity: o.identity! }),
    );
  }
  return verdict(image, found, outcomes);
}
