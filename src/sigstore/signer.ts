import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { RelsignError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { PreparedPrivateKey, signingHash, type HashAlgorithm } from './algorithms.js';
import { makeLegacyBundle, makeMessageSignatureBundle, type LegacyBundle, type MessageSignatureBundleJson } from './bundle.js';
import { hashFileInto, hashStreamInto } from './digest.js';
import { decryptKeyFile, keyAlgorithmOf, parseEncryptedKeyPem, parsePrivateKeyDer, publicKeyDer, publicKeyHint, publicKeyPem, readKeyRef, type KeyAlgorithm } from './keys.js';
import { decodePem } from './pem.js';

/** A password, or a function asked for it only once the key file has been read and validated. */
export type PasswordInput = string | Uint8Array | (() => Promise<string | Uint8Array>);

/** One blob signature. */
export interface BlobSignature {
  /** ECDSA: ASN.1 DER; RSA: PKCS#1 v1.5; Ed25519: 64 bytes. */
  signature: Buffer;
  /** Digest of the blob (what a Sigstore bundle's messageDigest holds). */
  digest: Buffer;
  digestAlgorithm: HashAlgorithm;
  /** Bytes signed. */
  size: number;
}

/**
 * Signs blobs with one private key. The key is decrypted once (scrypt runs once)
 * and then any number of files can be signed, concurrently: each `signFile`
 * streams its file through SHA-256 and signs the digest.
 *
 *   const signer = await Signer.load('cosign.key', process.env.COSIGN_PASSWORD ?? '');
 *   const sigs = await Promise.all(files.map((f) => signer.signFile(f)));
 */
export class Signer {
  readonly algorithm: KeyAlgorithm;
  /** The digest algorithm used with this key (SHA-256 for P-256, RSA and Ed25519 digests). */
  readonly hashAlgorithm: HashAlgorithm;
  readonly publicKey: KeyObject;
  /** `PUBLIC KEY` PEM, byte-identical to cosign.pub. */
  readonly publicKeyPem: string;
  /** PKIX SubjectPublicKeyInfo DER. */
  readonly publicKeyDer: Buffer;
  /** base64(SHA-256(SPKI DER)): the v0.3 bundle's `publicKey.hint`. */
  readonly keyHint: string;
  readonly #key: PreparedPrivateKey;

  private constructor(privateKey: KeyObject, algorithm: KeyAlgorithm) {
    this.algorithm = algorithm;
    this.hashAlgorithm = signingHash(algorithm);
    this.#key = new PreparedPrivateKey(privateKey, algorithm);
    this.publicKeyDer = publicKeyDer(privateKey);
    this.publicKey = createPublicKey({ key: this.publicKeyDer, format: 'der', type: 'spki' });
    this.publicKeyPem = publicKeyPem(privateKey);
    this.keyHint = publicKeyHint(privateKey);
  }

  /**
   * Loads an encrypted cosign key from a reference: a file path or `env://VAR`.
   * The file is read and checked before the password is asked for.
   */
  static async load(keyRef: string, password: PasswordInput, options: { env?: NodeJS.ProcessEnv } = {}): Promise<Signer> {
    const src = await readKeyRef(keyRef, options.env);
    return Signer.loadPem(src.text, password, src.name);
  }

  /** Like `load`, from the PEM text; `source` names it in messages (never the content). */
  static async loadPem(pem: string, password: PasswordInput, source = 'private key'): Promise<Signer> {
    const file = parseEncryptedKeyPem(pem, source);
    const pw = typeof password === 'function' ? await password() : password;
    const key = await decryptKeyFile(file, pw);
    return new Signer(key, keyAlgorithmOf(key, source));
  }

  /** From an unencrypted key: a KeyObject, a PEM (`PRIVATE KEY`, `EC PRIVATE KEY`…) or PKCS#8/SEC1 DER. */
  static fromPrivateKey(key: KeyObject | string | Uint8Array, source = 'private key'): Signer {
    let obj: KeyObject;
    if (typeof key === 'string') {
      const block = decodePem(key, source);
      if (block.type.startsWith('ENCRYPTED')) throw new RelsignError(`${source}: encrypted key; use Signer.load / Signer.loadPem with its password`);
      obj = parsePrivateKeyDer(block.bytes, source);
    } else if (key instanceof Uint8Array) {
      obj = parsePrivateKeyDer(Buffer.from(key), source);
    } else {
      if (key.type !== 'private') throw new RelsignError(`${source}: not a private key`);
      obj = key;
    }
    return new Signer(obj, keyAlgorithmOf(obj, source));
  }

  /** A fresh in-memory ECDSA P-256 key (for ephemeral/snapshot signing); never written anywhere. */
  static generate(): Signer {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return new Signer(privateKey, 'ecdsa-p256');
  }

  /** Signs a file, streamed: it is never held in memory. Safe to call concurrently. `signal` stops hashing between chunks. */
  async signFile(path: string, options: { signal?: AbortSignal } = {}): Promise<BlobSignature> {
    if (this.algorithm === 'ed25519') {
      const r = await this.#key.ed25519SignStreamed((hashes) => hashFileInto(path, hashes, options.signal));
      return { ...r, digestAlgorithm: 'sha256' };
    }
    const h = createHash(this.hashAlgorithm);
    const size = await hashFileInto(path, [h], options.signal);
    return this.#finish(h.digest(), size);
  }

  /** Signs a byte stream (e.g. stdin). Ed25519 needs two passes, so it cannot sign a one-shot stream. */
  async signStream(stream: AsyncIterable<Uint8Array | string>): Promise<BlobSignature> {
    if (this.algorithm === 'ed25519') throw new RelsignError('an Ed25519 key cannot sign a stream (it needs to read the input twice); sign a file');
    const h = createHash(this.hashAlgorithm);
    const size = await hashStreamInto(stream, [h]);
    return this.#finish(h.digest(), size);
  }

  /** Signs bytes already in memory. */
  async signBytes(data: Uint8Array): Promise<BlobSignature> {
    if (this.algorithm === 'ed25519') {
      const r = await this.#key.ed25519SignStreamed(async (hashes) => {
        for (const h of hashes) h.update(data);
        return data.length;
      });
      return { ...r, digestAlgorithm: 'sha256' };
    }
    return this.#finish(createHash(this.hashAlgorithm).update(data).digest(), data.length);
  }

  /** Signs a digest computed elsewhere with `hashAlgorithm` (ECDSA and RSA keys only). */
  signDigest(digest: Uint8Array): Buffer {
    return this.#key.signDigest(digest, this.hashAlgorithm);
  }

  #finish(digest: Buffer, size: number): BlobSignature {
    return { signature: this.#key.signDigest(digest, this.hashAlgorithm), digest, digestAlgorithm: this.hashAlgorithm, size };
  }

  /** cosign's legacy `--bundle` JSON (no `rekorBundle`: nothing is uploaded to a transparency log). */
  legacyBundle(sig: BlobSignature): LegacyBundle {
    return makeLegacyBundle(sig.signature, this.publicKeyPem);
  }

  /** Sigstore bundle v0.3 (`--new-bundle-format`) with a `publicKey.hint`; no tlog entry. */
  bundle(sig: BlobSignature): MessageSignatureBundleJson {
    return makeMessageSignatureBundle({ signature: sig.signature, digest: sig.digest, digestAlgorithm: sig.digestAlgorithm, keyHint: this.keyHint });
  }

  /** Writes a `.sig` atomically: base64 without a trailing newline (as cosign), or raw bytes. */
  async writeSignature(path: string, sig: BlobSignature, options: { base64?: boolean } = {}): Promise<void> {
    await writeOutput(path, options.base64 === false ? sig.signature : sig.signature.toString('base64'));
  }

  /** Writes cosign's legacy bundle JSON atomically. */
  async writeLegacyBundle(path: string, sig: BlobSignature): Promise<void> {
    await writeOutput(path, JSON.stringify(this.legacyBundle(sig)));
  }

  /** Writes the Sigstore v0.3 bundle atomically. */
  async writeBundle(path: string, sig: BlobSignature): Promise<void> {
    await writeOutput(path, JSON.stringify(this.bundle(sig)));
  }

  /** Drops this object's copy of the raw private scalar. The signer cannot sign afterwards. */
  destroy(): void {
    this.#key.destroy();
  }
}

/** Signatures and bundles are public: mode 0644, written atomically. */
async function writeOutput(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(path, data, { mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RelsignError(`cannot write ${path}: ${code === 'ENOENT' ? 'no such directory' : (code ?? 'write error')}`, { cause: err });
  }
}
