/**
 * Signing and verifying a *precomputed digest* (so files are hashed once, streamed),
 * for each key type cosign uses with `--key`:
 *
 * - ECDSA P-256 / P-384 / P-521: SHA-256 / SHA-384 / SHA-512 (cosign ≥ 2.6 rule;
 *   P-256 + SHA-256 is the only combination older cosign writes), ASN.1 DER.
 *   node:crypto cannot sign a prehash for EC, so @noble/curves does the ECDSA.
 * - RSA: PKCS#1 v1.5 with SHA-256 (node:crypto, on the DigestInfo).
 * - Ed25519: pure Ed25519 (what cosign sign-blob uses when nothing goes to a
 *   transparency log). Pure Ed25519 hashes the message itself, twice; it is done
 *   here as two streamed passes so files still never sit in memory.
 */
import { constants, createHash, privateEncrypt, publicDecrypt, timingSafeEqual, type Hash, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { RelsignError } from '../util/errors.js';
import type { KeyAlgorithm } from './keys.js';

export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** The hash cosign uses for a key when signing a blob. */
export function signingHash(alg: KeyAlgorithm): HashAlgorithm {
  if (alg === 'ecdsa-p384') return 'sha384';
  if (alg === 'ecdsa-p521') return 'sha512';
  return 'sha256';
}

const CURVES = { 'ecdsa-p256': p256, 'ecdsa-p384': p384, 'ecdsa-p521': p521 } as const;
type EcAlgorithm = keyof typeof CURVES;
const isEc = (alg: KeyAlgorithm): alg is EcAlgorithm => alg in CURVES;

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<HashAlgorithm, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};
const DIGEST_LEN: Record<HashAlgorithm, number> = { sha256: 32, sha384: 48, sha512: 64 };

function jwkBytes(key: KeyObject, field: 'd' | 'x' | 'y'): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const v = jwk[field];
  if (typeof v !== 'string') throw new Error(`key has no JWK "${field}"`);
  return Buffer.from(v, 'base64url');
}

/** A private key ready to sign digests; the raw scalar/seed is held only here. */
export class PreparedPrivateKey {
  readonly algorithm: KeyAlgorithm;
  readonly keyObject: KeyObject;
  readonly #secret: Uint8Array | undefined;

  constructor(key: KeyObject, algorithm: KeyAlgorithm) {
    this.algorithm = algorithm;
    this.keyObject = key;
    this.#secret = isEc(algorithm) || algorithm === 'ed25519' ? jwkBytes(key, 'd') : undefined;
  }

  /** Signs a digest (ECDSA: DER; RSA: PKCS#1 v1.5). Not for Ed25519, which signs the message. */
  signDigest(digest: Uint8Array, hash: HashAlgorithm): Buffer {
    if (digest.length !== DIGEST_LEN[hash]) throw new Error(`digest must be ${DIGEST_LEN[hash]} bytes for ${hash}`);
    const alg = this.algorithm;
    if (isEc(alg)) {
      // Deterministic RFC 6979 nonces, low-S; DER as Go's ecdsa.SignASN1. Deterministic
      // on purpose: a re-run of a failed release re-signs byte-identical archives to
      // byte-identical .sig files, so the publisher keeps the assets already uploaded
      // instead of failing on a changed signature.
      return Buffer.from(CURVES[alg].sign(digest, this.#secret!, { prehash: false, format: 'der', extraEntropy: false }));
    }
    if (alg === 'rsa') {
      return privateEncrypt({ key: this.keyObject, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[hash], digest]));
    }
    throw new Error('Ed25519 signs the whole message, not a digest; use ed25519SignStreamed');
  }

  /**
   * Pure Ed25519 (RFC 8032) over a message that `feed` streams into the given
   * hashes; `feed` is called twice and must deliver the same bytes both times
   * (checked with SHA-256, which is also returned as the message digest).
   */
  async ed25519SignStreamed(feed: (hashes: Hash[]) => Promise<number>): Promise<{ signature: Buffer; digest: Buffer; size: number }> {
    if (this.algorithm !== 'ed25519') throw new Error('not an Ed25519 key');
    const { scalar, prefix, pointBytes } = ed25519.utils.getExtendedPublicKey(this.#secret!);
    const L = ed25519.Point.Fn.ORDER;
    const h1 = createHash('sha512').update(prefix);
    const d1 = createHash('sha256');
    const size1 = await feed([h1, d1]);
    const r = leToBigint(h1.digest()) % L;
    const R = ed25519.Point.BASE.multiply(r === 0n ? 1n : r).toBytes();
    const h2 = createHash('sha512').update(R).update(pointBytes);
    const d2 = createHash('sha256');
    const size2 = await feed([h2, d2]);
    const digest = d1.digest();
    if (size1 !== size2 || !digest.equals(d2.digest())) throw new RelsignError('the input changed while it was being signed');
    const k = leToBigint(h2.digest()) % L;
    const S = (r + k * scalar) % L;
    return { signature: Buffer.concat([R, bigintToLe(S, 32)]), digest, size: size1 };
  }

  /** Overwrites the raw secret copy (the KeyObject itself is managed by OpenSSL). */
  destroy(): void {
    this.#secret?.fill(0);
  }
}

function leToBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}
function bigintToLe(n: bigint, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

export type DigestCheck = 'ok' | 'invalid' | 'malformed';

/** A public key ready to check signatures over digests. */
export class PreparedPublicKey {
  readonly algorithm: KeyAlgorithm;
  readonly keyObject: KeyObject;
  readonly #raw: Uint8Array | undefined;

  constructor(key: KeyObject, algorithm: KeyAlgorithm) {
    this.algorithm = algorithm;
    this.keyObject = key;
    if (isEc(algorithm)) this.#raw = Buffer.concat([Buffer.from([4]), jwkBytes(key, 'x'), jwkBytes(key, 'y')]);
    else if (algorithm === 'ed25519') this.#raw = jwkBytes(key, 'x');
  }

  /**
   * Checks a signature over a digest. ECDSA accepts ASN.1 DER and, as sigstore's
   * verifier does, raw r‖s when the bytes are not DER; high-S is accepted (as Go).
   */
  verifyDigest(digest: Uint8Array, hash: HashAlgorithm, signature: Uint8Array): DigestCheck {
    const alg = this.algorithm;
    if (isEc(alg)) {
      const curve = CURVES[alg];
      let format: 'der' | 'compact' | undefined;
      try {
        curve.Signature.fromBytes(signature, 'der');
        format = 'der';
      } catch {
        if (signature.length === curve.lengths.signature) {
          try {
            curve.Signature.fromBytes(signature, 'compact');
            format = 'compact';
          } catch {
            /* not r||s either */
          }
        }
      }
      if (!format) return 'malformed';
      try {
        return curve.verify(signature, digest, this.#raw!, { prehash: false, lowS: false, format }) ? 'ok' : 'invalid';
      } catch {
        return 'invalid';
      }
    }
    if (alg === 'rsa') {
      let decoded: Buffer;
      try {
        decoded = publicDecrypt({ key: this.keyObject, padding: constants.RSA_PKCS1_PADDING }, signature);
      } catch {
        return 'invalid';
      }
      const expected = Buffer.concat([DIGEST_INFO[hash], digest]);
      return decoded.length === expected.length && timingSafeEqual(decoded, expected) ? 'ok' : 'invalid';
    }
    throw new Error('Ed25519 verifies the whole message, not a digest; use ed25519VerifyStreamed');
  }

  /**
   * Starts a pure Ed25519 check (Go's ed25519.Verify rules: canonical S,
   * cofactorless, R compared by encoding). Feed the message into `hash`, then
   * call `finish()`.
   */
  ed25519VerifyStart(signature: Uint8Array): { hash: Hash; finish(): DigestCheck } | 'malformed' {
    if (this.algorithm !== 'ed25519') throw new Error('not an Ed25519 key');
    if (signature.length !== 64) return 'malformed';
    const Rbytes = signature.subarray(0, 32);
    const S = leToBigint(signature.subarray(32));
    const L = ed25519.Point.Fn.ORDER;
    const hash = createHash('sha512').update(Rbytes).update(this.#raw!);
    const raw = this.#raw!;
    return {
      hash,
      finish(): DigestCheck {
        if (S >= L) return 'invalid';
        try {
          const A = ed25519.Point.fromBytes(raw);
          const k = leToBigint(hash.digest()) % L;
          const check = ed25519.Point.BASE.multiplyUnsafe(S).subtract(A.multiplyUnsafe(k));
          return Buffer.from(check.toBytes()).equals(Buffer.from(Rbytes)) ? 'ok' : 'invalid';
        } catch {
          return 'invalid';
        }
      },
    };
  }
}
