/**
 * The password envelope cosign puts around private keys (go-securesystemslib
 * `encrypted`): scrypt derives a 32-byte key from the password, NaCl secretbox
 * (XSalsa20-Poly1305) seals the plaintext. The envelope is compact JSON:
 *
 *   {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<b64>"},
 *    "cipher":{"name":"nacl/secretbox","nonce":"<b64>"},"ciphertext":"<b64>"}
 */
import { randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { RelsignError } from '../util/errors.js';
import { shownJsonValue } from './errors.js';
import { checkTextSize, MAX_KEY_BYTES } from './limits.js';
import { decodeBase64Strict } from './pem.js';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** What cosign ≥ v2.2 writes (go-securesystemslib "standard"). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 65536, r: 8, p: 1 });
/** The parameter sets cosign / go-securesystemslib themselves accept. */
export const COSIGN_SCRYPT_PARAMS: readonly Readonly<ScryptParams>[] = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];

/**
 * What relsign reads beyond cosign's three sets: any parameters scrypt itself
 * allows (RFC 7914) whose cost stays sane, so a hostile key file can neither
 * exhaust memory nor keep the process busy. cosign's largest set (N=131072,
 * r=8, p=1) needs 128 MiB and 2^20 units of work (about 0.4 s here); these limits
 * allow twice that memory and four times that work, and nothing more.
 */
export const SCRYPT_LIMITS = Object.freeze({
  /** N at most 2^20. */
  maxN: 2 ** 20,
  maxR: 32,
  maxP: 16,
  /** 128·N·r bytes: the memory scrypt needs. */
  maxMemory: 256 * 1024 * 1024,
  /** N·r·p: proportional to the time scrypt takes. */
  maxWork: 2 ** 22,
});

const SALT_LEN = 32;
const NONCE_LEN = 24;
const KEY_LEN = 32;

/** Thrown when the secretbox does not open: the password (or the file) is wrong. */
export class IncorrectPasswordError extends RelsignError {
  constructor(source: string) {
    super(`incorrect password for ${source}`);
    this.name = 'IncorrectPasswordError';
  }
}

/** Throws a clear error for parameters scrypt refuses or that would take too long or too much memory. */
export function checkScryptParams(params: ScryptParams, source: string): void {
  const { N, r, p } = params;
  const shown = `N=${String(N)}, r=${String(r)}, p=${String(p)}`;
  const bad = (why: string): never => {
    throw new RelsignError(`${source}: unsupported scrypt parameters ${shown}: ${why} (cosign writes N=32768 or 65536, r=8, p=1)`);
  };
  if (![N, r, p].every((v) => Number.isSafeInteger(v) && v > 0)) bad('they must be positive integers');
  if (N < 2 || N > SCRYPT_LIMITS.maxN || Math.log2(N) % 1 !== 0) {
    bad(N > SCRYPT_LIMITS.maxN && Math.log2(N) % 1 === 0 ? 'N above 2^20 is refused' : 'N must be a power of two from 2 to 2^20');
  }
  if (r > SCRYPT_LIMITS.maxR || p > SCRYPT_LIMITS.maxP) bad(`r must be ≤ ${SCRYPT_LIMITS.maxR} and p ≤ ${SCRYPT_LIMITS.maxP}`);
  // RFC 7914 §2: N < 2^(128·r/8). OpenSSL refuses anything else (with a misleading "memory limit exceeded").
  if (16 * r < 53 && N >= 2 ** (16 * r)) bad(`N must be below 2^${16 * r} when r=${r} (RFC 7914)`);
  if (128 * N * r > SCRYPT_LIMITS.maxMemory) bad('they would need more than 256 MiB of memory (128·N·r)');
  if (N * r * p > SCRYPT_LIMITS.maxWork) bad('they would take too long to compute (N·r·p above 2^22)');
}

/**
 * scrypt via OpenSSL (node:crypto), off the main thread, with enough `maxmem` for the parameters.
 * Checks the parameters first; `source` names the key in errors.
 */
export async function deriveKey(password: Uint8Array, salt: Uint8Array, params: ScryptParams, source = 'encrypted key'): Promise<Buffer> {
  checkScryptParams(params, source);
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    // OpenSSL needs 128·N·r for V plus 128·r·p for B; leave slack.
    maxmem: 128 * params.N * params.r + 128 * params.r * params.p + 16 * 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, KEY_LEN, options, (err, key) =>
      err ? reject(new RelsignError(`${source}: scrypt failed for N=${params.N}, r=${params.r}, p=${params.p}: ${err.message.split('\n')[0]}`, { cause: err })) : resolve(key),
    );
  });
}

function toBytes(password: string | Uint8Array): Uint8Array {
  return typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
}

/** Seals `plaintext`; returns the envelope JSON (exact field order and compact form Go writes). */
export async function encryptEnvelope(
  plaintext: Uint8Array,
  password: string | Uint8Array,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<Buffer> {
  const salt = randomBytes(SALT_LEN);
  const nonce = randomBytes(NONCE_LEN);
  const key = await deriveKey(toBytes(password), salt, params, 'new key');
  try {
    const ciphertext = xsalsa20poly1305(key, nonce).encrypt(plaintext);
    const envelope = {
      kdf: { name: 'scrypt', params: { N: params.N, r: params.r, p: params.p }, salt: salt.toString('base64') },
      cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
      ciphertext: Buffer.from(ciphertext).toString('base64'),
    };
    return Buffer.from(JSON.stringify(envelope), 'utf8');
  } finally {
    key.fill(0);
  }
}

/** A parsed, validated envelope (nothing decrypted yet). */
export interface ParsedEnvelope {
  params: ScryptParams;
  salt: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

/** Parses and validates the envelope JSON; no scrypt is run, so bad files fail fast before any prompt. */
export function parseEnvelope(json: Uint8Array | string, source: string): ParsedEnvelope {
  const malformed = (why: string): never => {
    throw new RelsignError(`${source}: malformed encrypted key: ${why}`);
  };
  checkTextSize(json, MAX_KEY_BYTES, source, 'an encrypted key');
  let data: unknown;
  try {
    data = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
  } catch {
    return malformed('the PEM body is not JSON');
  }
  const obj = (v: unknown, what: string): Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : malformed(`"${what}" is missing or not an object`);
  const b64 = (v: unknown, what: string): Buffer => {
    if (typeof v !== 'string') return malformed(`"${what}" is missing or not a string`);
    return decodeBase64Strict(v) ?? malformed(`"${what}" is not valid base64`);
  };
  const root = obj(data, 'envelope');
  const kdf = obj(root.kdf, 'kdf');
  const cipher = obj(root.cipher, 'cipher');
  if (kdf.name !== 'scrypt') malformed(`unsupported kdf ${shownJsonValue(kdf.name)} (want "scrypt")`);
  if (cipher.name !== 'nacl/secretbox') malformed(`unsupported cipher ${shownJsonValue(cipher.name)} (want "nacl/secretbox")`);
  const p = obj(kdf.params, 'kdf.params');
  const params = { N: p.N, r: p.r, p: p.p };
  if (![params.N, params.r, params.p].every((v) => typeof v === 'number')) malformed('"kdf.params" must have numeric N, r and p');
  const checked = params as ScryptParams;
  checkScryptParams(checked, source);
  const salt = b64(kdf.salt, 'kdf.salt');
  if (salt.length === 0) malformed('"kdf.salt" is empty');
  const nonce = b64(cipher.nonce, 'cipher.nonce');
  if (nonce.length !== NONCE_LEN) malformed(`"cipher.nonce" must be ${NONCE_LEN} bytes, got ${nonce.length}`);
  const ciphertext = b64(root.ciphertext, 'ciphertext');
  if (ciphertext.length < 16) malformed('"ciphertext" is shorter than the 16-byte authenticator');
  return { params: checked, salt, nonce, ciphertext };
}

/** Opens a parsed envelope. A wrong password (or a corrupted ciphertext) gives `incorrect password for <source>`. */
export async function openEnvelope(env: ParsedEnvelope, password: string | Uint8Array, source: string): Promise<Buffer> {
  const key = await deriveKey(toBytes(password), env.salt, env.params, source);
  try {
    return Buffer.from(xsalsa20poly1305(key, env.nonce).decrypt(env.ciphertext));
  } catch {
    throw new IncorrectPasswordError(source);
  } finally {
    key.fill(0);
  }
}

/** parseEnvelope + openEnvelope. */
export async function decryptEnvelope(json: Uint8Array | string, password: string | Uint8Array, source = 'encrypted key'): Promise<Buffer> {
  return openEnvelope(parseEnvelope(json, source), password, source);
}
