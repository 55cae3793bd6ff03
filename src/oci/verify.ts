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
 * Fails closed. Exit codes as cosign's: 10 no signature at all, 12 signatures
 * but none verified, 11 the image itself not found; anything else 1.
 * Signatures carrying a certificate (keyless, private PKI) are reported as
 * needing certificate verification, which relsign does not do; a Rekor bundle
 * annotation on a key signature is not checked (as with --insecure-ignore-tlog).
 */
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
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

/** Why one signature did not count. `keyless`: it carries a certificate, which relsign does not verify. */
export interface Rejection {
  kind: 'keyless' | 'invalid-signature' | 'digest-mismatch' | 'annotations' | 'malformed';
  source: string;
  reason: string;
}

export type Outcome = { ok: true; verified: VerifiedSignature } | { ok: false; rejected: Rejection };

export interface CheckOptions {
  key: VerificationKey;
  /** `-a k=v`: each must be in the signed annotations with an equal string value. */
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
      return reject('keyless', `signed with a certificate (keyless or private PKI), not with ${options.key.source}; relsign verifies key signatures only (use cosign verify --certificate-identity … --certificate-oidc-issuer …)`);
    }
    return reject('invalid-signature', `the signature does not verify with ${options.key.source}`);
  }
  const parsed = parseSimpleSigningPayload(layer.payload);
  if (typeof parsed === 'string') return reject('malformed', parsed);
  if (parsed.digest !== digest) return reject('digest-mismatch', `the payload signs ${parsed.digest}, not ${digest}`);
  const mismatch = annotationMismatch(parsed.optional, options.annotations ?? {});
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
      return reject('keyless', `signed with a certificate (keyless), not with ${options.key.source}; relsign verifies key signatures only`);
    }
    return reject('invalid-signature', `the bundle's signature does not verify with ${options.key.source}`);
  }
  const st = parseStatement(bundle.payload);
  if (typeof st === 'string') return reject('malformed', st);
  if (st.predicateType !== COSIGN_SIGN_PREDICATE) return reject('malformed', `predicate type ${st.predicateType} is not a cosign signature`);
  const hex = digest.slice('sha256:'.length);
  const subject = st.subjects.find((s) => s.sha256 === hex);
  if (!subject) return reject('digest-mismatch', `the statement's subject is not ${digest}`);
  const mismatch = annotationMismatch(subject.annotations, options.annotations ?? {});
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

export interface VerifyImageOptions extends CheckOptions {
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
      outcomes.push(checkLegacyLayer({ mediaType: l.mediaType, payload, annotations }, o.digest, source, o));
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
    outcomes.push(checkBundle(bundle.toString('utf8'), o.digest, o.dockerReference, source, o));
  }
  return verdict(image, found, outcomes);
}
