import type { Context } from '../../pipeline/context.js';

/** Who made a signature, and so what it is verified against before publishing. */
export type SignatureVerifier =
  /** A key relsign signed with in-process; `publicKeyRef` is the entry's `public_key` (a template), when set. */
  | { kind: 'key'; where: string; publicKeyPem: string; publicKeyRef?: string }
  /** Keyless: the certificate must name this identity and issuer (the run's OIDC token). */
  | { kind: 'keyless'; where: string; identity: string; issuer: string }
  /** An external command (gpg, cosign on PATH, a script): relsign cannot check it. */
  | { kind: 'external'; where: string; cmd: string };

/** One signature file relsign produced, to be verified before the release is published. */
export interface SignatureCheck {
  /** Its release asset name. */
  asset: string;
  /** The signature, bundle or DSSE bundle file (absolute). */
  path: string;
  /** `signature`: base64 `.sig`; `bundle`: a message-signature bundle (either format); `dsse`: the manifest's DSSE bundle. */
  format: 'signature' | 'bundle' | 'dsse';
  /** What it signs: asset name and file (absolute). */
  signedName: string;
  signedPath: string;
  /** Keyless `.sig` written with a certificate: that certificate (absolute). */
  certificatePath?: string;
  verifier: SignatureVerifier;
}

const checksByRun = new WeakMap<Context, SignatureCheck[]>();

export function recordSignatureCheck(ctx: Context, check: SignatureCheck): void {
  let list = checksByRun.get(ctx);
  if (!list) checksByRun.set(ctx, (list = []));
  list.push(check);
}

/** Every signature recorded in this run, in the order made. */
export function signatureChecks(ctx: Context): readonly SignatureCheck[] {
  return checksByRun.get(ctx) ?? [];
}
