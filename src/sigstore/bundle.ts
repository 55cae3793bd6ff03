/**
 * The two bundle formats `cosign sign-blob --bundle` writes:
 *
 * - legacy (cosign v1/v2 default): `{"base64Signature":…,"cert":…,"rekorBundle":…}`
 * - Sigstore bundle v0.3 (`--new-bundle-format`, cosign v3 default), protojson.
 */
import type { HashAlgorithm } from './algorithms.js';
import { BlobVerificationError, shownJsonValue } from './errors.js';
import { MAX_BUNDLE_BYTES, tooLargeMessage } from './limits.js';
import { decodeBase64Strict } from './pem.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Media types accepted on input (v0.1–v0.3, both v0.3 spellings). */
export const SIGSTORE_BUNDLE_MEDIA_TYPES = [
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  BUNDLE_V03_MEDIA_TYPE,
] as const;

const PROTO_HASH: Record<HashAlgorithm, string> = { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' };
const HASH_FROM_PROTO: Record<string, HashAlgorithm> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' };

/** Rekor's signed entry timestamp as cosign stores it (capitalised: Go structs without JSON tags). */
export interface RekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

/** cosign's `LocalSignedPayload`. */
export interface LegacyBundle {
  base64Signature: string;
  /** base64 of the PEM public key (cosign v1 and v3) or certificate. */
  cert?: string;
  rekorBundle?: RekorBundle;
}

/** A Sigstore bundle v0.3 carrying a message signature made with a plain key (no tlog yet). */
export interface MessageSignatureBundleJson {
  mediaType: typeof BUNDLE_V03_MEDIA_TYPE;
  verificationMaterial: { publicKey: { hint: string } };
  messageSignature: { messageDigest: { algorithm: string; digest: string }; signature: string };
}

/** cosign v3's legacy bundle for a key signature: the signature and base64 of the public key PEM. */
export function makeLegacyBundle(signature: Uint8Array, publicKeyPem: string): LegacyBundle {
  return { base64Signature: Buffer.from(signature).toString('base64'), cert: Buffer.from(publicKeyPem, 'utf8').toString('base64') };
}

export function makeMessageSignatureBundle(options: {
  signature: Uint8Array;
  digest: Uint8Array;
  digestAlgorithm: HashAlgorithm;
  keyHint: string;
}): MessageSignatureBundleJson {
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: options.keyHint } },
    messageSignature: {
      messageDigest: { algorithm: PROTO_HASH[options.digestAlgorithm], digest: Buffer.from(options.digest).toString('base64') },
      signature: Buffer.from(options.signature).toString('base64'),
    },
  };
}

export type ParsedBundle =
  | {
      format: 'legacy';
      signature: Buffer;
      /** The PEM in `cert` (a public key or a certificate), if any. */
      certPem?: string;
      rekorBundle?: RekorBundle;
    }
  | {
      format: 'sigstore';
      mediaType: string;
      /** The JSON object, for @sigstore/bundle when the transparency log is checked. */
      json: Record<string, unknown>;
      signature: Buffer;
      digest: Buffer;
      digestAlgorithm: HashAlgorithm;
      keyHint?: string;
      hasCertificate: boolean;
      tlogEntries: number;
      timestamps: number;
    };

/** Parses either bundle format (at most 4 MiB of JSON); `source` names the file in errors. */
export function parseBundle(text: string, source: string): ParsedBundle {
  const malformed = (why: string): never => {
    throw new BlobVerificationError('malformed-bundle', `malformed bundle ${source}: ${why}`);
  };
  if (text.length > MAX_BUNDLE_BYTES) {
    throw new BlobVerificationError('malformed-bundle', tooLargeMessage(`malformed bundle ${source}`, 'a bundle', text.length, MAX_BUNDLE_BYTES));
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return malformed('not JSON');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return malformed('not a JSON object');
  const obj = data as Record<string, unknown>;
  const b64 = (v: unknown, what: string): Buffer => {
    if (typeof v !== 'string' || v === '') return malformed(`${what} is missing`);
    return decodeBase64Strict(v) ?? malformed(`${what} is not valid base64`);
  };

  if ('mediaType' in obj) {
    const mediaType = obj.mediaType;
    if (typeof mediaType !== 'string' || !(SIGSTORE_BUNDLE_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
      throw new BlobVerificationError('unsupported-bundle', `unsupported bundle ${source}: unknown media type ${shownJsonValue(mediaType)}`);
    }
    if ('dsseEnvelope' in obj) {
      throw new BlobVerificationError('unsupported-bundle', `unsupported bundle ${source}: it holds a DSSE envelope (an attestation), not a blob signature`);
    }
    const ms = obj.messageSignature as Record<string, unknown> | undefined;
    if (!ms || typeof ms !== 'object') return malformed('messageSignature is missing');
    const md = ms.messageDigest as Record<string, unknown> | undefined;
    if (!md || typeof md !== 'object') return malformed('messageSignature.messageDigest is missing');
    const digestAlgorithm = typeof md.algorithm === 'string' && Object.hasOwn(HASH_FROM_PROTO, md.algorithm) ? HASH_FROM_PROTO[md.algorithm] : undefined;
    if (!digestAlgorithm) {
      throw new BlobVerificationError('unsupported-bundle', `unsupported bundle ${source}: digest algorithm ${shownJsonValue(md.algorithm)}`);
    }
    const digest = b64(md.digest, 'messageSignature.messageDigest.digest');
    const expectedLen = { sha256: 32, sha384: 48, sha512: 64 }[digestAlgorithm];
    if (digest.length !== expectedLen) malformed(`the ${digestAlgorithm} digest is ${digest.length} bytes, want ${expectedLen}`);
    const signature = b64(ms.signature, 'messageSignature.signature');
    const vm = obj.verificationMaterial as Record<string, unknown> | undefined;
    if (!vm || typeof vm !== 'object') return malformed('verificationMaterial is missing');
    const pk = vm.publicKey as Record<string, unknown> | undefined;
    const hasCertificate = 'certificate' in vm || 'x509CertificateChain' in vm;
    if (!pk && !hasCertificate) return malformed('verificationMaterial has no publicKey, certificate or x509CertificateChain');
    const tlog = Array.isArray(vm.tlogEntries) ? vm.tlogEntries.length : 0;
    const tvd = vm.timestampVerificationData as { rfc3161Timestamps?: unknown[] } | undefined;
    const timestamps = Array.isArray(tvd?.rfc3161Timestamps) ? tvd.rfc3161Timestamps.length : 0;
    return {
      format: 'sigstore',
      mediaType,
      json: obj,
      signature,
      digest,
      digestAlgorithm,
      keyHint: typeof pk?.hint === 'string' && pk.hint !== '' ? pk.hint : undefined,
      hasCertificate,
      tlogEntries: tlog,
      timestamps,
    };
  }

  if ('base64Signature' in obj) {
    const signature = b64(obj.base64Signature, 'base64Signature');
    let certPem: string | undefined;
    if (obj.cert !== undefined && obj.cert !== null && obj.cert !== '') {
      if (typeof obj.cert !== 'string') return malformed('cert is not a string');
      certPem = obj.cert.includes('-----BEGIN') ? obj.cert : (decodeBase64Strict(obj.cert) ?? malformed('cert is not valid base64')).toString('utf8');
    }
    let rekorBundle: RekorBundle | undefined;
    if (obj.rekorBundle !== undefined && obj.rekorBundle !== null) {
      const rb = obj.rekorBundle as Record<string, unknown>;
      const p = rb.Payload as Record<string, unknown> | undefined;
      if (
        typeof rb.SignedEntryTimestamp !== 'string' ||
        !p ||
        typeof p.body !== 'string' ||
        typeof p.integratedTime !== 'number' ||
        typeof p.logIndex !== 'number' ||
        typeof p.logID !== 'string'
      ) {
        return malformed('rekorBundle needs SignedEntryTimestamp and Payload {body, integratedTime, logIndex, logID}');
      }
      rekorBundle = rb as unknown as RekorBundle;
    }
    return { format: 'legacy', signature, certPem, rekorBundle };
  }
  return malformed('neither a Sigstore bundle ("mediaType") nor a cosign bundle ("base64Signature")');
}

/**
 * A cosign legacy bundle's Rekor entry, re-expressed as a Sigstore v0.1 bundle
 * (the SET becomes the inclusion promise), so @sigstore/verify can check it.
 */
export function legacyToV01Bundle(
  rekor: RekorBundle,
  signature: Buffer,
  digest: Buffer,
  digestAlgorithm: HashAlgorithm,
): Record<string, unknown> {
  let kind = 'hashedrekord';
  let version = '0.0.1';
  try {
    const body = JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString('utf8')) as { kind?: string; apiVersion?: string };
    kind = body.kind ?? kind;
    version = body.apiVersion ?? version;
  } catch {
    /* @sigstore/verify reports the bad body */
  }
  return {
    mediaType: SIGSTORE_BUNDLE_MEDIA_TYPES[0],
    verificationMaterial: {
      publicKey: { hint: '' },
      tlogEntries: [
        {
          logIndex: String(rekor.Payload.logIndex),
          logId: { keyId: Buffer.from(rekor.Payload.logID, 'hex').toString('base64') },
          kindVersion: { kind, version },
          integratedTime: String(rekor.Payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
          canonicalizedBody: rekor.Payload.body,
        },
      ],
    },
    messageSignature: {
      messageDigest: { algorithm: PROTO_HASH[digestAlgorithm], digest: digest.toString('base64') },
      signature: signature.toString('base64'),
    },
  };
}
