/**
 * Key files made by cosign, sigstore-rs and go-securesystemslib decrypt to exactly
 * the public keys recorded beside them; wrong passwords fail with one clear line.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  decryptEnvelope,
  decryptPrivateKeyPem,
  IncorrectPasswordError,
  openEnvelope,
  parseEncryptedKeyPem,
  parseEnvelope,
  parseImportablePrivateKey,
  publicKeyDer,
  publicKeyHint,
  publicKeyPem,
  Signer,
} from '../../src/sigstore/index.js';
import { parseEd25519Pkcs8V2 } from '../../src/sigstore/der.js';
import { decodePem } from '../../src/sigstore/pem.js';
import { vec } from './helpers.js';

const read = (...p: string[]): Promise<string> => readFile(vec(...p), 'utf8');

describe('cosign-keys/ (password "hello")', async () => {
  const names = (await readdir(vec('cosign-keys'))).filter((f) => f.endsWith('.key')).map((f) => f.slice(0, -4));

  it('has the three documented keys', () => {
    expect(names.sort()).toEqual(['pemcosigneckey', 'pemcosignkey', 'pemsigstorekey']);
  });

  it.each(names)('%s decrypts to exactly its .pub', async (name) => {
    const key = await decryptPrivateKeyPem(await read('cosign-keys', `${name}.key`), 'hello', `${name}.key`);
    expect(publicKeyPem(key)).toBe(await read('cosign-keys', `${name}.pub`));
  });

  it.each(names)('%s: a wrong password fails with "incorrect password for %s.key"', async (name) => {
    const text = await read('cosign-keys', `${name}.key`);
    for (const pw of ['Hello', '', 'hello\n', 'hello ']) {
      const err = await decryptPrivateKeyPem(text, pw, `${name}.key`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IncorrectPasswordError);
      expect((err as Error).message).toBe(`incorrect password for ${name}.key`);
    }
  });

  it('pemcosigneckey (SEC1 plaintext, refused by cosign) is accepted by relsign and signs with its .pub key', async () => {
    const file = parseEncryptedKeyPem(await read('cosign-keys', 'pemcosigneckey.key'), 'pemcosigneckey.key');
    expect(file.label).toBe('ENCRYPTED COSIGN PRIVATE KEY');
    expect(file.envelope.params).toEqual({ N: 65536, r: 8, p: 1 });
    // The plaintext really is SEC1 (RFC 5915: SEQUENCE { INTEGER 1, OCTET STRING … }), not PKCS#8.
    const plain = await openEnvelope(file.envelope, 'hello', 'pemcosigneckey.key');
    expect(plain.subarray(0, 5).toString('hex')).toBe('3077020101');
    const signer = await Signer.loadPem(await read('cosign-keys', 'pemcosigneckey.key'), 'hello', 'pemcosigneckey.key');
    expect(signer.publicKeyPem).toBe(await read('cosign-keys', 'pemcosigneckey.pub'));
  });
});

interface Expected {
  pem_label?: string;
  password: string;
  kdf_params: { N: number; r: number; p: number };
  plaintext_len?: number;
  plaintext_sha256?: string;
  plaintext?: string;
  public_key_pem?: string;
  spki_sha256_b64_hint?: string;
}

describe('extended/expected-key-decryption.json', async () => {
  const expected = JSON.parse(await read('extended', 'expected-key-decryption.json')) as Record<string, Expected>;
  const keyEntries = Object.entries(expected).filter(([f]) => f.endsWith('.key'));
  const envelopeEntries = Object.entries(expected).filter(([f]) => f.endsWith('.json'));

  it('covers keys and raw envelopes, including N=131072 and an empty password', () => {
    expect(keyEntries.length).toBeGreaterThanOrEqual(7);
    expect(envelopeEntries.map(([, e]) => e.kdf_params.N)).toContain(131072);
    expect(keyEntries.some(([, e]) => e.password === '')).toBe(true);
  });

  it.each(keyEntries)('%s: label, params, plaintext and public key as recorded', async (file, e) => {
    const text = await read('extended', file);
    const parsed = parseEncryptedKeyPem(text, file);
    expect(parsed.label).toBe(e.pem_label);
    expect(parsed.envelope.params).toEqual(e.kdf_params);
    const plain = await openEnvelope(parsed.envelope, e.password, file);
    expect(plain.length).toBe(e.plaintext_len);
    expect(createHash('sha256').update(plain).digest('hex')).toBe(e.plaintext_sha256);
    const key = await decryptPrivateKeyPem(text, e.password, file);
    if (e.public_key_pem) {
      expect(publicKeyPem(key)).toBe(e.public_key_pem);
      expect(publicKeyHint(key)).toBe(e.spki_sha256_b64_hint);
    } else {
      // sigstore-rs's Ed25519 key: PKCS#8 v2, which OpenSSL refuses; relsign re-encodes it.
      expect(key.asymmetricKeyType).toBe('ed25519');
    }
  });

  it.each(keyEntries)('%s: a wrong password fails', async (file, e) => {
    const err = await decryptPrivateKeyPem(await read('extended', file), `${e.password}x`, file.split('/').pop()).catch((x: unknown) => x);
    expect((err as Error).message).toBe(`incorrect password for ${file.split('/').pop()}`);
  });

  it.each(envelopeEntries)('%s (go-securesystemslib) decrypts with "supersecret"', async (file, e) => {
    const json = await read('extended', file);
    expect(parseEnvelope(json, file).params).toEqual(e.kdf_params);
    expect((await decryptEnvelope(json, e.password, file)).toString('utf8')).toBe(e.plaintext);
    await expect(decryptEnvelope(json, 'supersecreT', file)).rejects.toThrow(`incorrect password for ${file}`);
  });

  it('derived/*.pub match the decrypted keys', async () => {
    const pairs: [string, string, string][] = [
      ['keys/cosign-keys_test-pemcosignkey.key', 'hello', 'derived/cosign-keys_test-pemcosignkey.pub'],
      ['keys/cosign-keys_test-pemsigstorekey.key', 'hello', 'derived/cosign-keys_test-pemsigstorekey.pub'],
      ['keys/cosign-keys_test-pemcosigneckey-sec1.key', 'hello', 'derived/cosign-keys_test-pemcosigneckey-sec1.pub'],
      ['sigstore-rs/cosign_generated_encrypted_empty_private.key', '', 'derived/cosign_generated_encrypted_empty_private.pub'],
      ['sigstore-rs/ecdsa_encrypted_private.key', '123', 'derived/ecdsa_encrypted_private.pub'],
      ['sigstore-rs/rsa_encrypted_private.key', '123', 'derived/rsa_encrypted_private.pub'],
    ];
    for (const [key, pw, pub] of pairs) {
      expect(publicKeyPem(await decryptPrivateKeyPem(await read('extended', key), pw, key))).toBe(await read('extended', pub));
    }
  });

  it('the Ed25519 PKCS#8 v2 keys (sigstore-rs) give the public key embedded in their [1] field', async () => {
    const text = await read('extended', 'sigstore-rs/ed25519_encrypted_private.key');
    const parsed = parseEncryptedKeyPem(text, 'ed25519');
    const v2 = parseEd25519Pkcs8V2(await openEnvelope(parsed.envelope, '123', 'ed25519'));
    expect(v2?.publicKey).toHaveLength(32);
    const enc = await decryptPrivateKeyPem(text, '123', 'ed25519');
    expect(publicKeyDer(enc).subarray(-32)).toEqual(v2!.publicKey);
    // The unencrypted twin file is a different key, but the same v2 form.
    const plainText = await read('extended', 'sigstore-rs/ed25519_private.key');
    const plainV2 = parseEd25519Pkcs8V2(decodePem(plainText, 'x').bytes);
    const plain = parseImportablePrivateKey(plainText, 'ed25519_private.key');
    expect(publicKeyDer(plain).subarray(-32)).toEqual(plainV2!.publicKey);
  });

  it("cosign's CI key (unknown password) parses, and the empty password is refused", async () => {
    const text = await read('extended', 'keys/cosign-github-workflows-cosign-test.key');
    expect(parseEncryptedKeyPem(text, 'cosign-test.key').envelope.params.N).toBe(32768);
    await expect(decryptPrivateKeyPem(text, '', 'cosign-test.key')).rejects.toThrow(/^incorrect password for cosign-test\.key$/);
  });
});

describe('extended/keys/import (cosign TestImportPrivateKey inputs)', () => {
  const ok = ['validrsa', 'validrsapkcs1', 'validrsapkcs8', 'validecp256', 'validecp384', 'validecp521', 'validecpkcs8', 'ed25519key'];
  const bad: [string, RegExp][] = [
    ['invalidrsawithpubkey', /unsupported private key: PEM type "PUBLIC KEY"/],
    ['invalidrsasmallkey', /unsupported RSA key size 1024 bits/],
    ['invalidrsalargekey', /unsupported RSA key size 5120 bits/],
    ['invalidecp224', /unsupported elliptic curve P-224/],
    ['invalidecunsupported', /unsupported elliptic curve secp256k1/],
    ['invalidkey', /invalidkey\.key: (malformed PEM|unsupported private key)/],
  ];
  it.each(ok)('%s is accepted, and its public key is preserved', async (name) => {
    const text = await read('extended', 'keys', 'import', `${name}.key`);
    const key = parseImportablePrivateKey(text, `${name}.key`);
    const block = decodePem(text, name);
    const reference = createPublicKey(
      createPrivateKey({
        key: block.bytes,
        format: 'der',
        type: block.type === 'RSA PRIVATE KEY' ? 'pkcs1' : block.type === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8',
      }),
    );
    expect(publicKeyPem(key)).toBe(publicKeyPem(reference));
  });
  it.each(bad)('%s is refused: %s', async (name, message) => {
    const text = await read('extended', 'keys', 'import', `${name}.key`);
    expect(() => parseImportablePrivateKey(text, `${name}.key`)).toThrow(message);
  });
});
