/**
 * One blob signature with everything the Sigstore services add to it:
 * key-based (a cosign key, optionally recorded in Rekor) or keyless (an
 * ephemeral key certified by Fulcio, always recorded in Rekor), plus an
 * RFC 3161 timestamp where a TSA is configured. The file is streamed through
 * SHA-256 once; only its digest and signature travel to the services.
 */
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { RelsignError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { makeLegacyBundle, makeMessageSignatureBundle, rekorBundleOf, type LegacyBundle, type MessageSignatureBundleJson } from './bundle.js';
import type { SigstoreClient } from './services.js';
import type { BlobSignature, Signer } from './signer.js';

export type SigningIdentity =
  /** A cosign key; `tlog` records each signature in Rekor. */
  | { kind: 'key'; signer: Signer; tlog?: SigstoreClient }
  /** Keyless: Fulcio certificate + Rekor entry (+ TSA timestamp). */
  | { kind: 'keyless'; sigstore: SigstoreClient };

export interface SignedBlob {
  sig: BlobSignature;
  /** PEM put into Rekor and legacy bundles: the public key, or the certificate. */
  verifierPem: string;
  certificatePem?: string;
  chainPem?: string;
  certificateDer?: Buffer;
  keyHint?: string;
  tlogEntry?: TransparencyLogEntry;
  timestamp?: Buffer;
}

export async function signBlob(identity: SigningIdentity, input: { file: string; signal?: AbortSignal } | { stream: AsyncIterable<Uint8Array | string> },
): Promise<SignedBlob> {
  const sign = (s: Signer) => ('file' in input ? s.signFile(input.file, { signal: input.signal }) : s.signStream(input.stream));
  if (identity.kind === 'key') {
    const sig = await sign(identity.signer);
    const out: SignedBlob = { sig, verifierPem: identity.signer.publicKeyPem, keyHint: identity.signer.keyHint };
    if (identity.tlog) {
      if (identity.signer.algorithm === 'ed25519') {
        throw new RelsignError('an Ed25519 key signature cannot go to the transparency log (Rekor needs a pre-hashed signature); use --tlog-upload=false');
      }
      out.tlogEntry = await identity.tlog.logMessageSignature(sig, identity.signer.publicKeyPem);
      out.timestamp = await identity.tlog.timestamp(sig.signature);
    }
    return out;
  }
  const cert = await identity.sigstore.certifiedKey();
  const sig = await sign(cert.signer);
  const tlogEntry = await identity.sigstore.logMessageSignature(sig, cert.certificatePem);
  const timestamp = await identity.sigstore.timestamp(sig.signature);
  return {
    sig,
    verifierPem: cert.certificatePem,
    certificatePem: cert.certificatePem,
    chainPem: cert.chainPem,
    certificateDer: cert.certificateDer,
    tlogEntry,
    timestamp,
  };
}

/** Sigstore bundle v0.3 (`.sigstore.json`). */
export function bundleOf(s: SignedBlob): MessageSignatureBundleJson {
  return makeMessageSignatureBundle({
    signature: s.sig.signature,
    digest: s.sig.digest,
    digestAlgorithm: s.sig.digestAlgorithm,
    keyHint: s.keyHint,
    material: {
      certificateDer: s.certificateDer,
      tlogEntries: s.tlogEntry ? [s.tlogEntry] : [],
      timestamps: s.timestamp ? [s.timestamp] : [],
    },
  });
}

/** cosign's legacy bundle: signature, base64 PEM of the key or certificate, and the Rekor SET. */
export function legacyBundleOf(s: SignedBlob): LegacyBundle {
  return makeLegacyBundle(s.sig.signature, s.verifierPem, s.tlogEntry ? rekorBundleOf(s.tlogEntry) : undefined);
}

/** Signatures, certificates and bundles are public: mode 0644, written atomically. */
export async function writePublic(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, data, { mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RelsignError(`cannot write ${path}: ${code === 'ENOENT' ? 'no such directory' : (code ?? 'write error')}`, { cause: err });
  }
}

/** The privacy notice shown before anything is recorded in the public transparency log (cosign's wording, adapted). */
export function privacyNotice(keyless: boolean, rekorURL: string): string {
  const what = keyless
    ? 'your identity (the e-mail address or workflow identity in the OIDC token) will be bound to a certificate and, with the signature,'
    : 'the public key and the signature';
  return (
    `Note: ${what} will be recorded in the public transparency log ${rekorURL}. ` +
    'This information cannot be removed later. By uploading you agree to this (Sigstore terms: https://sigstore.dev/terms).'
  );
}
