/** Just enough DER to pick apart the few key structures OpenSSL will not read by itself. */

export interface Tlv {
  tag: number;
  /** The content octets. */
  value: Buffer;
  /** Offset just past this element. */
  end: number;
}

/** Reads one definite-length DER element at `offset`; returns undefined on anything malformed. */
export function readTlv(buf: Buffer, offset = 0): Tlv | undefined {
  if (offset + 2 > buf.length) return undefined;
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) return undefined; // multi-byte tags: not used by key structures
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + n > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i]!;
    pos += n;
  }
  if (pos + len > buf.length) return undefined;
  return { tag, value: buf.subarray(pos, pos + len), end: pos + len };
}

/** The children of a constructed element, or undefined if they do not parse exactly. */
export function readChildren(value: Buffer): Tlv[] | undefined {
  const out: Tlv[] = [];
  let off = 0;
  while (off < value.length) {
    const t = readTlv(value, off);
    if (!t) return undefined;
    out.push(t);
    off = t.end;
  }
  return out;
}

const ED25519_OID = Buffer.from('06032b6570', 'hex');
/** PKCS#8 v1 prefix for an Ed25519 seed (RFC 8410 §10.3): SEQ{INT 0, SEQ{OID 1.3.101.112}, OCTET{OCTET(32)}}. */
const ED25519_PKCS8_V1_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * PKCS#8 v2 (OneAsymmetricKey, RFC 5958, version 1 with a `[1] publicKey`) holding
 * an Ed25519 key, as sigstore-rs writes it. OpenSSL 3.0 refuses that form, so
 * this returns the 32-byte seed and the embedded public key (if any) for the caller
 * to re-encode as v1; undefined when `der` is something else.
 */
export function parseEd25519Pkcs8V2(der: Buffer): { seed: Buffer; publicKey?: Buffer } | undefined {
  const outer = readTlv(der);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) return undefined;
  const kids = readChildren(outer.value);
  if (!kids || kids.length < 3) return undefined;
  const [version, alg, priv, ...rest] = kids as [Tlv, Tlv, Tlv, ...Tlv[]];
  if (version.tag !== 0x02 || version.value.length !== 1 || version.value[0] !== 1) return undefined;
  if (alg.tag !== 0x30 || !alg.value.equals(ED25519_OID)) return undefined;
  if (priv.tag !== 0x04) return undefined;
  const inner = readTlv(priv.value);
  if (!inner || inner.tag !== 0x04 || inner.value.length !== 32 || inner.end !== priv.value.length) return undefined;
  let publicKey: Buffer | undefined;
  for (const t of rest) {
    // [1] IMPLICIT BIT STRING: first content octet is the unused-bits count (0).
    if (t.tag === 0x81 && t.value.length === 33 && t.value[0] === 0) publicKey = Buffer.from(t.value.subarray(1));
    else if (t.tag !== 0xa0) return undefined; // [0] attributes are allowed and ignored
  }
  return { seed: Buffer.from(inner.value), publicKey };
}

export function ed25519Pkcs8V1(seed: Buffer): Buffer {
  return Buffer.concat([ED25519_PKCS8_V1_PREFIX, seed]);
}
