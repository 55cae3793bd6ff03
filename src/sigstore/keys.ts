/**
 * cosign-compatible key files: the encrypted private key (`cosign.key`), the
 * PKIX public key (`cosign.pub`), key references (a path or `env://VAR`),
 * generation and import.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCb,
  type KeyObject,
} from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { RelsignError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { ed25519Pkcs8V1, parseEd25519Pkcs8V2 } from './der.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  encryptEnvelope,
  openEnvelope,
  parseEnvelope,
  type ParsedEnvelope,
  type ScryptParams,
} from './envelope.js';
import { checkTextSize, MAX_KEY_BYTES, readFileBounded } from './limits.js';
import { decodePem, encodePem, type PemBlock } from './pem.js';

/** The PEM label cosign ≥ v2.0.1 writes. */
export const SIGSTORE_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED SIGSTORE PRIVATE KEY';
/** The PEM label cosign v1.x / v2.0.0 and skopeo write. Read, never written. */
export const COSIGN_PRIVATE_KEY_PEM_TYPE = 'ENCRYPTED COSIGN PRIVATE KEY';

export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa' | 'ed25519';

/** A key's bytes and a name that is safe to show: a file basename or `env://VAR`. */
export interface KeySource {
  text: string;
  name: string;
}

const CURVES: Record<string, KeyAlgorithm> = {
  prime256v1: 'ecdsa-p256',
  secp384r1: 'ecdsa-p384',
  secp521r1: 'ecdsa-p521',
};
const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
  secp224r1: 'P-224',
  secp256k1: 'secp256k1',
};
const RSA_SIZES = [2048, 3072, 4096];

/**
 * The algorithm of a key, or a one-line error for anything cosign would not use
 * (other curves, DSA, X25519, RSA-PSS keys…). `checkRsaSize` applies cosign's
 * import rule (exactly 2048, 3072 or 4096 bits).
 */
export function keyAlgorithmOf(key: KeyObject, source: string, options: { checkRsaSize?: boolean } = {}): KeyAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    const alg = CURVES[curve];
    if (!alg) {
      throw new RelsignError(
        `${source}: unsupported elliptic curve ${CURVE_NAMES[curve] ?? curve} (want P-256, P-384 or P-521)`,
      );
    }
    return alg;
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (options.checkRsaSize && !RSA_SIZES.includes(bits)) {
      throw new RelsignError(`${source}: unsupported RSA key size ${bits} bits (want 2048, 3072 or 4096)`);
    }
    if (bits < 2048) throw new RelsignError(`${source}: RSA key of ${bits} bits is too small (want at least 2048)`);
    return 'rsa';
  }
  if (type === 'ed25519') return 'ed25519';
  throw new RelsignError(`${source}: unsupported key type ${type ?? 'unknown'} (want ECDSA, RSA or Ed25519)`);
}

/** PKIX SubjectPublicKeyInfo DER. */
export function publicKeyDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

/** `PUBLIC KEY` PEM exactly as cosign writes `cosign.pub`. */
export function publicKeyPem(key: KeyObject): string {
  return encodePem('PUBLIC KEY', publicKeyDer(key));
}

/** base64(SHA-256(SPKI DER)): the `verificationMaterial.publicKey.hint` cosign writes. */
export function publicKeyHint(key: KeyObject): string {
  return createHash('sha256').update(publicKeyDer(key)).digest('base64');
}

/** PKCS#8 DER, the plaintext cosign encrypts (`x509.MarshalPKCS8PrivateKey`). */
export function privateKeyPkcs8(key: KeyObject): Buffer {
  return key.export({ type: 'pkcs8', format: 'der' });
}

// ---------------------------------------------------------------------------
// Key references

const ENV_SCHEME = 'env://';

/** Reads a key reference: a file path, or `env://VAR` holding the PEM itself; at most 64 KiB either way. */
export async function readKeyRef(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<KeySource> {
  if (ref.startsWith(ENV_SCHEME)) {
    const name = ref.slice(ENV_SCHEME.length);
    if (!name) throw new RelsignError(`${ref}: missing environment variable name (use env://VAR)`);
    // Own properties only: `env://constructor` must not find Object.prototype's.
    const text = Object.hasOwn(env, name) ? env[name] : undefined;
    if (typeof text !== 'string') throw new RelsignError(`${ref}: environment variable ${name} is not set`);
    if (text.trim() === '') throw new RelsignError(`${ref}: environment variable ${name} is empty`);
    checkTextSize(text, MAX_KEY_BYTES, ref, 'a PEM key');
    return { text, name: ref };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(ref) ?? /^(pkcs11):/i.exec(ref);
  if (scheme) {
    throw new RelsignError(`key reference "${scheme[0]}…" is not supported yet (use a file path or env://VAR)`);
  }
  const bytes = await readFileBounded(ref, MAX_KEY_BYTES, 'a key file');
  return { text: bytes.toString('utf8'), name: basename(ref) };
}

// ---------------------------------------------------------------------------
// Private keys

/**
 * Turns the decrypted plaintext into a key. cosign itself accepts only PKCS#8;
 * relsign also accepts a SEC1 `EC PRIVATE KEY` body (cosign's `pemcosigneckey`
 * test key) and the PKCS#8 v2 Ed25519 form sigstore-rs writes, since both are
 * unambiguous. The plaintext buffer is wiped.
 */
export function parsePrivateKeyDer(der: Buffer, source: string): KeyObject {
  try {
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      /* not PKCS#8 v1 */
    }
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'sec1' });
    } catch {
      /* not SEC1 */
    }
    const v2 = parseEd25519Pkcs8V2(der);
    if (v2) {
      const v1 = ed25519Pkcs8V1(v2.seed);
      try {
        const key = createPrivateKey({ key: v1, format: 'der', type: 'pkcs8' });
        if (v2.publicKey && !Buffer.from(ed25519.getPublicKey(v2.seed)).equals(v2.publicKey)) {
          throw new RelsignError(`${source}: the Ed25519 key's embedded public key does not match its private key`);
        }
        return key;
      } finally {
        v1.fill(0);
        v2.seed.fill(0);
      }
    }
    throw new RelsignError(`${source}: the decrypted key is not a PKCS#8 or SEC1 private key`);
  } finally {
    der.fill(0);
  }
}

/** The parsed outside of an encrypted key file; nothing decrypted yet. */
export interface EncryptedKeyFile {
  source: string;
  label: string;
  envelope: ParsedEnvelope;
}

/** Parses (and validates) an encrypted cosign key PEM without running scrypt. */
export function parseEncryptedKeyPem(text: string, source: string): EncryptedKeyFile {
  const block = decodePem(text, source);
  if (block.type !== SIGSTORE_PRIVATE_KEY_PEM_TYPE && block.type !== COSIGN_PRIVATE_KEY_PEM_TYPE) {
    const hint =
      block.type === 'PUBLIC KEY'
        ? ' (this is a public key; signing needs the private cosign.key)'
        : /PRIVATE KEY$/.test(block.type)
          ? ' (an unencrypted key: convert it with `relsign import-key-pair`)'
          : '';
    throw new RelsignError(`${source}: unsupported PEM type "${block.type}", want "${SIGSTORE_PRIVATE_KEY_PEM_TYPE}"${hint}`);
  }
  return { source, label: block.type, envelope: parseEnvelope(block.bytes, source) };
}

/** Decrypts a parsed key file. A wrong password throws `incorrect password for <source>`. */
export async function decryptKeyFile(file: EncryptedKeyFile, password: string | Uint8Array): Promise<KeyObject> {
  const plaintext = await openEnvelope(file.envelope, password, file.source);
  const key = parsePrivateKeyDer(plaintext, file.source);
  keyAlgorithmOf(key, file.source);
  return key;
}

/** Decrypts an encrypted cosign key PEM (either label, any accepted scrypt parameters). */
export async function decryptPrivateKeyPem(text: string, password: string | Uint8Array, source = 'private key'): Promise<KeyObject> {
  return decryptKeyFile(parseEncryptedKeyPem(text, source), password);
}

/** Encrypts a private key into the cosign PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt N=65536 by default). */
export async function encryptPrivateKey(
  key: KeyObject,
  password: string | Uint8Array,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const der = privateKeyPkcs8(key);
  try {
    return encodePem(SIGSTORE_PRIVATE_KEY_PEM_TYPE, await encryptEnvelope(der, password, params));
  } finally {
    der.fill(0);
  }
}

/** The two PEM files of a key pair. */
export interface KeyPairPems {
  /** `ENCRYPTED SIGSTORE PRIVATE KEY` PEM (cosign.key). */
  privateKeyPem: string;
  /** `PUBLIC KEY` PEM (cosign.pub). */
  publicKeyPem: string;
}

/**
 * Makes a new ECDSA P-256 key pair and returns both files' contents. This is the
 * seam for other destinations (e.g. `github://OWNER/REPO` secrets): callers
 * decide where the PEMs go; `writeKeyPair` puts them in files.
 */
export async function generateKeyPair(password: string | Uint8Array, options: { scrypt?: ScryptParams } = {}): Promise<KeyPairPems> {
  const { privateKey } = await new Promise<{ privateKey: KeyObject }>((resolve, reject) =>
    generateKeyPairCb('ec', { namedCurve: 'P-256' }, (err, _pub, priv) => (err ? reject(err) : resolve({ privateKey: priv }))),
  );
  return {
    privateKeyPem: await encryptPrivateKey(privateKey, password, options.scrypt),
    publicKeyPem: publicKeyPem(privateKey),
  };
}

/**
 * Parses an unencrypted private key PEM the way `cosign import-key-pair` does:
 * `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1) or `PRIVATE KEY` (PKCS#8:
 * RSA, ECDSA or Ed25519); RSA 2048/3072/4096 bits, ECDSA P-256/P-384/P-521.
 */
export function parseImportablePrivateKey(text: string, source: string): KeyObject {
  const block: PemBlock = decodePem(text, source);
  if (block.headers['Proc-Type']?.includes('ENCRYPTED')) {
    throw new RelsignError(`${source}: unsupported private key: encrypted legacy PEM (decrypt it first, e.g. with openssl)`);
  }
  const types: Record<string, 'pkcs1' | 'sec1' | 'pkcs8'> = { 'RSA PRIVATE KEY': 'pkcs1', 'EC PRIVATE KEY': 'sec1', 'PRIVATE KEY': 'pkcs8' };
  const type = Object.hasOwn(types, block.type) ? types[block.type] : undefined;
  if (!type) {
    const why =
      block.type === 'ENCRYPTED PRIVATE KEY'
        ? 'encrypted PKCS#8 (decrypt it first: openssl pkcs8 -in KEY -out plain.pem)'
        : block.type === SIGSTORE_PRIVATE_KEY_PEM_TYPE || block.type === COSIGN_PRIVATE_KEY_PEM_TYPE
          ? 'it is already a cosign key'
          : `PEM type "${block.type}" (want RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)`;
    throw new RelsignError(`${source}: unsupported private key: ${why}`);
  }
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey({ key: block.bytes, format: 'der', type });
  } catch {
    if (type === 'pkcs8') {
      const v2 = parseEd25519Pkcs8V2(block.bytes);
      if (v2) {
        const v1 = ed25519Pkcs8V1(v2.seed);
        key = createPrivateKey({ key: v1, format: 'der', type: 'pkcs8' });
        v1.fill(0);
        v2.seed.fill(0);
      }
    }
  } finally {
    block.bytes.fill(0);
  }
  if (!key) throw new RelsignError(`${source}: error parsing ${block.type.toLowerCase()}: not a valid ${type.toUpperCase()} key`);
  keyAlgorithmOf(key, source, { checkRsaSize: true });
  return key;
}

/** `cosign import-key-pair`: an unencrypted key PEM → the encrypted key PEM and its public key. */
export async function importKeyPair(
  text: string,
  password: string | Uint8Array,
  source = 'key',
  options: { scrypt?: ScryptParams } = {},
): Promise<KeyPairPems> {
  const key = parseImportablePrivateKey(text, source);
  return { privateKeyPem: await encryptPrivateKey(key, password, options.scrypt), publicKeyPem: publicKeyPem(key) };
}

/** Paths `writeKeyPair` writes for a prefix. */
export function keyPairPaths(prefix: string): { keyPath: string; pubPath: string } {
  return { keyPath: `${prefix}.key`, pubPath: `${prefix}.pub` };
}

/** Throws if either file of the pair exists (unless `force`); call before asking for a password. */
export async function assertKeyPairWritable(prefix: string, force: boolean): Promise<void> {
  if (force) return;
  for (const path of Object.values(keyPairPaths(prefix))) {
    const exists = await lstat(path).then(
      () => true,
      () => false,
    );
    if (exists) throw new RelsignError(`${path} already exists; pass --force to overwrite it`);
  }
}

/** Writes `<prefix>.key` (mode 0600) and `<prefix>.pub` (0644), each atomically. */
export async function writeKeyPair(prefix: string, pems: KeyPairPems, options: { force?: boolean } = {}): Promise<{ keyPath: string; pubPath: string }> {
  await assertKeyPairWritable(prefix, options.force ?? false);
  const paths = keyPairPaths(prefix);
  for (const [path, data, mode] of [
    [paths.keyPath, pems.privateKeyPem, 0o600],
    [paths.pubPath, pems.publicKeyPem, 0o644],
  ] as const) {
    try {
      await writeFileAtomic(path, data, { mode });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RelsignError(`cannot write ${path}: ${code === 'ENOENT' ? 'no such directory' : (code ?? 'write error')}`, { cause: err });
    }
  }
  return paths;
}

// ---------------------------------------------------------------------------
// Public keys

/** Parses a `PUBLIC KEY` (PKIX) or `RSA PUBLIC KEY` (PKCS#1) PEM, as cosign's UnmarshalPEMToPublicKey. */
export function parsePublicKeyPem(text: string, source: string): KeyObject {
  const block = decodePem(text, source);
  let key: KeyObject;
  if (block.type === 'PUBLIC KEY' || block.type === 'RSA PUBLIC KEY') {
    try {
      key = createPublicKey({ key: block.bytes, format: 'der', type: block.type === 'PUBLIC KEY' ? 'spki' : 'pkcs1' });
    } catch {
      throw new RelsignError(`${source}: invalid public key: the "${block.type}" block does not parse`);
    }
  } else if (block.type === SIGSTORE_PRIVATE_KEY_PEM_TYPE || block.type === COSIGN_PRIVATE_KEY_PEM_TYPE) {
    throw new RelsignError(`${source}: this is a private key; verify with the public key (e.g. cosign.pub)`);
  } else {
    throw new RelsignError(`${source}: unsupported PEM type "${block.type}" for a public key (want "PUBLIC KEY")`);
  }
  keyAlgorithmOf(key, source);
  return key;
}

/** Loads a public key from a file path or `env://VAR`. */
export async function loadPublicKey(ref: string, env: NodeJS.ProcessEnv = process.env): Promise<{ key: KeyObject; source: string }> {
  const src = await readKeyRef(ref, env);
  return { key: parsePublicKeyPem(src.text, src.name), source: src.name };
}
