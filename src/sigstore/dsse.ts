/**
 * DSSE (Dead Simple Signing Envelope) as Sigstore bundles carry it: the
 * signature is over PAE(payloadType, payload), never over the bare payload.
 */
import { BUNDLE_V03_MEDIA_TYPE } from './bundle.js';
import { decodeBase64Strict } from './pem.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** Pre-Authentication Encoding: `DSSEv1 <len(type)> <type> <len(body)> <body>` (lengths in bytes, decimal). */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

export interface DsseEnvelopeJson {
  payload: string;
  payloadType: string;
  signatures: Array<{ sig: string; keyid?: string }>;
}

/** A Sigstore bundle v0.3 holding a DSSE envelope, signed with a plain key (protojson field order). */
export interface DsseBundleJson {
  mediaType: typeof BUNDLE_V03_MEDIA_TYPE;
  verificationMaterial: { publicKey: { hint: string } };
  dsseEnvelope: DsseEnvelopeJson;
}

export function makeDsseBundle(options: { payload: Uint8Array; payloadType: string; signature: Uint8Array; keyHint: string }): DsseBundleJson {
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: options.keyHint } },
    dsseEnvelope: {
      payload: Buffer.from(options.payload).toString('base64'),
      payloadType: options.payloadType,
      signatures: [{ sig: Buffer.from(options.signature).toString('base64') }],
    },
  };
}

export interface ParsedDsseBundle {
  mediaType: string;
  payload: Buffer;
  payloadType: string;
  signatures: Buffer[];
  keyHint?: string;
  /** The bundle carries a certificate (keyless or --certificate) rather than a key hint. */
  hasCertificate: boolean;
  tlogEntries: number;
}

/** Parses a bundle that must hold a DSSE envelope; returns a reason string instead of throwing. */
export function parseDsseBundle(text: string): ParsedDsseBundle | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return 'the bundle is not JSON';
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'the bundle is not a JSON object';
  const obj = data as Record<string, unknown>;
  if (typeof obj.mediaType !== 'string' || !obj.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) {
    return `unknown bundle media type ${JSON.stringify(obj.mediaType)}`;
  }
  const env = obj.dsseEnvelope as Record<string, unknown> | undefined;
  if (!env || typeof env !== 'object') return 'the bundle holds no DSSE envelope';
  if (typeof env.payloadType !== 'string') return 'dsseEnvelope.payloadType is missing';
  const payload = typeof env.payload === 'string' ? decodeBase64Strict(env.payload) : undefined;
  if (!payload) return 'dsseEnvelope.payload is missing or not base64';
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) return 'dsseEnvelope has no signatures';
  if (env.signatures.length > 16) return 'dsseEnvelope has too many signatures';
  const signatures: Buffer[] = [];
  for (const s of env.signatures as unknown[]) {
    const sig = s && typeof s === 'object' && typeof (s as { sig?: unknown }).sig === 'string' ? decodeBase64Strict((s as { sig: string }).sig) : undefined;
    if (!sig || sig.length === 0) return 'a DSSE signature is missing or not base64';
    signatures.push(sig);
  }
  const vm = (obj.verificationMaterial ?? {}) as Record<string, unknown>;
  const pk = vm.publicKey as { hint?: unknown } | undefined;
  return {
    mediaType: obj.mediaType,
    payload,
    payloadType: env.payloadType,
    signatures,
    keyHint: typeof pk?.hint === 'string' && pk.hint !== '' ? pk.hint : undefined,
    hasCertificate: 'certificate' in vm || 'x509CertificateChain' in vm,
    tlogEntries: Array.isArray(vm.tlogEntries) ? vm.tlogEntries.length : 0,
  };
}
