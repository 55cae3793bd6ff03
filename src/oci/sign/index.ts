/**
 * Signing a pushed image in-process, in the layouts cosign reads:
 * `legacy` (the `.sig` tag, cosign v2's default), `referrers` (a Sigstore
 * bundle attached as an OCI 1.1 referrer, cosign v3's default) or `both`.
 * The signature always names the manifest digest, never a tag.
 */
import { IN_TOTO_PAYLOAD_TYPE, makeDsseBundle, pae } from '../../sigstore/dsse.js';
import type { Signer } from '../../sigstore/signer.js';
import { PreparedPublicKey } from '../../sigstore/algorithms.js';
import { RelsignError } from '../../util/errors.js';
import { writeLegacySignature } from './legacy.js';
import { isSha256Digest, signStatement, simpleSigningPayload } from './payload.js';
import { writeReferrerBundle } from './referrers.js';
import type { Descriptor, RepoRef, SignatureRegistry } from './registry.js';

export type SignatureStorage = 'legacy' | 'referrers' | 'both';
export const SIGNATURE_STORAGES: readonly SignatureStorage[] = ['legacy', 'referrers', 'both'];

export interface SignImageOptions {
  registry: SignatureRegistry;
  repo: RepoRef;
  /** cosign's docker-reference: registry/repository, no tag (repositoryName()). */
  dockerReference: string;
  /** The signed manifest (image or index): digest, media type and size. */
  subject: Descriptor;
  signer: Signer;
  /** cosign's `-a key=value`: the payload's `optional`, the statement subject's annotations. */
  annotations?: Record<string, string>;
  storage?: SignatureStorage;
  /** `org.opencontainers.image.created` of a referrer manifest: the commit date, so re-runs are stable. */
  created: Date;
  signal?: AbortSignal;
}

export interface SignImageResult {
  legacy?: { tag: string; result: 'added' | 'present' };
  referrers?: { digest: string; result: 'added' | 'present'; index: 'api' | 'tag' };
}

export async function signImage(o: SignImageOptions): Promise<SignImageResult> {
  const digest = o.subject.digest;
  if (!isSha256Digest(digest)) throw new RelsignError(`sign ${o.dockerReference}: unsupported digest ${JSON.stringify(digest)} (want sha256:<64 hex>)`);
  const storage = o.storage ?? 'legacy';
  if (!SIGNATURE_STORAGES.includes(storage)) throw new RelsignError(`unknown signature storage ${JSON.stringify(storage)} (want legacy, referrers or both)`);
  const result: SignImageResult = {};
  if (storage === 'legacy' || storage === 'both') {
    const payload = simpleSigningPayload({ digest, dockerReference: o.dockerReference, annotations: o.annotations });
    const sig = await o.signer.signBytes(payload);
    const pub = new PreparedPublicKey(o.signer.publicKey, o.signer.algorithm);
    const payloadDigest = sig.digest;
    result.legacy = await writeLegacySignature(
      o.registry,
      o.repo,
      digest,
      {
        payload,
        signature: sig.signature.toString('base64'),
        verifiesWithKey: (b64) => {
          const bytes = Buffer.from(b64, 'base64');
          return bytes.length > 0 && o.signer.algorithm !== 'ed25519' && pub.verifyDigest(payloadDigest, sig.digestAlgorithm, bytes) === 'ok';
        },
      },
      { signal: o.signal },
    );
  }
  if (storage === 'referrers' || storage === 'both') {
    const statement = signStatement({ digest, annotations: o.annotations });
    const sig = await o.signer.signBytes(pae(IN_TOTO_PAYLOAD_TYPE, statement));
    const bundle = makeDsseBundle({ payload: statement, payloadType: IN_TOTO_PAYLOAD_TYPE, signature: sig.signature, keyHint: o.signer.keyHint });
    result.referrers = await writeReferrerBundle(o.registry, o.repo, o.subject, Buffer.from(JSON.stringify(bundle), 'utf8'), {
      created: o.created,
      signal: o.signal,
    });
  }
  return result;
}

export { SIMPLE_SIGNING_MEDIA_TYPE, SIGNATURE_ANNOTATION, writeLegacySignature, signatureConfig, signatureManifest } from './legacy.js';
export { simpleSigningPayload, signStatement, parseSimpleSigningPayload, parseStatement, COSIGN_SIGN_PREDICATE } from './payload.js';
export { writeReferrerBundle, listReferrers, EMPTY_DIGEST } from './referrers.js';
export { signatureTag, referrersTag, type SignatureRegistry } from './registry.js';
