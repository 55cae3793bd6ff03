import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { RelsignError } from '../util/errors.js';
import { type Clock, DEFAULT_API_URL, DEFAULT_RETRY, createGitHubClient, describeHttpError, realClock, withRetry } from './client.js';

/** "expand 32-byte k" as little-endian words: the Salsa20 sigma constant. */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function u32le(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

function bytesLe(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w, true));
  return out;
}

/** libsodium crypto_box_beforenm: HSalsa20 of the X25519 shared secret with a zero nonce. */
function boxBeforeNm(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const shared = x25519.getSharedSecret(secretKey, publicKey);
  const out = new Uint32Array(8);
  hsalsa(SIGMA, u32le(shared), new Uint32Array(4), out);
  return bytesLe(out);
}

/**
 * libsodium's crypto_box_seal: an anonymous sealed box for `recipientPublicKey`
 * (32-byte X25519). Output: ephemeral public key (32) ‖ Poly1305 tag (16) ‖
 * ciphertext, with nonce = BLAKE2b-192(epk ‖ pk). This is what GitHub's
 * Actions secrets API expects, base64-encoded.
 */
export function sealedBox(message: Uint8Array | string, recipientPublicKey: Uint8Array): Uint8Array {
  if (recipientPublicKey.length !== 32) throw new Error('sealedBox: recipient public key must be 32 bytes');
  const msg = typeof message === 'string' ? new TextEncoder().encode(message) : message;
  const { secretKey: esk, publicKey: epk } = x25519.keygen();
  const nonce = blake2b(new Uint8Array([...epk, ...recipientPublicKey]), { dkLen: 24 });
  const key = boxBeforeNm(recipientPublicKey, esk);
  try {
    const boxed = xsalsa20poly1305(key, nonce).encrypt(msg);
    const out = new Uint8Array(32 + boxed.length);
    out.set(epk, 0);
    out.set(boxed, 32);
    return out;
  } finally {
    key.fill(0);
    esk.fill(0);
  }
}

export interface CosignSecrets {
  COSIGN_PASSWORD?: string;
  COSIGN_PRIVATE_KEY?: string;
  COSIGN_PUBLIC_KEY?: string;
}

export interface StoreSecretsOptions {
  owner: string;
  repo: string;
  token: string;
  apiUrl?: string;
  /** Name → value; undefined values are skipped. */
  secrets: CosignSecrets & Record<string, string | undefined>;
  fetch?: typeof fetch;
  clock?: Clock;
  signal?: AbortSignal;
}

/**
 * Stores repository Actions secrets: GET the repository's public key, then
 * PUT each value sealed to it with the key's id. Returns the names stored.
 * Needs a token with `secrets: write` (fine-grained) or `repo` (classic).
 */
export async function storeActionsSecrets(options: StoreSecretsOptions): Promise<string[]> {
  if (!options.token) throw new RelsignError('missing GITHUB_TOKEN: storing Actions secrets needs a token with secrets: write');
  const clock = options.clock ?? realClock;
  const client = createGitHubClient({
    token: options.token,
    apiUrl: options.apiUrl ?? DEFAULT_API_URL,
    fetch: options.fetch,
    signal: options.signal,
  });
  const retry = { retry: DEFAULT_RETRY, clock, signal: options.signal };
  const slug = `${options.owner}/${options.repo}`;
  let key: { key_id: string; key: string };
  try {
    key = (
      await withRetry(() => client.rest.actions.getRepoPublicKey({ owner: options.owner, repo: options.repo }), retry)
    ).data;
  } catch (err) {
    throw new RelsignError(`cannot read the Actions public key of ${slug}: ${describeHttpError(err)} (the token needs secrets: write)`, {
      cause: err,
    });
  }
  const recipient = new Uint8Array(Buffer.from(key.key, 'base64'));
  const stored: string[] = [];
  for (const [name, value] of Object.entries(options.secrets)) {
    if (value === undefined) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /^GITHUB_/i.test(name)) {
      throw new RelsignError(`invalid Actions secret name ${name}`);
    }
    const encrypted_value = Buffer.from(sealedBox(value, recipient)).toString('base64');
    try {
      await withRetry(
        () =>
          client.rest.actions.createOrUpdateRepoSecret({
            owner: options.owner,
            repo: options.repo,
            secret_name: name,
            encrypted_value,
            key_id: key.key_id,
          }),
        retry,
      );
    } catch (err) {
      throw new RelsignError(`storing Actions secret ${name} on ${slug} failed: ${describeHttpError(err)}`, { cause: err });
    }
    stored.push(name);
  }
  return stored;
}
