/** The encrypted key format relsign writes, and how malformed key files are refused. */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  checkScryptParams,
  decryptPrivateKeyPem,
  encodePem,
  encryptEnvelope,
  generateKeyPair,
  parseEncryptedKeyPem,
  parsePublicKeyPem,
  publicKeyPem,
  SCRYPT_LIMITS,
} from '../../src/sigstore/index.js';
import { vec } from './helpers.js';

const KEY = (): Promise<string> => readFile(vec('cosign-keys', 'pemsigstorekey.key'), 'utf8');
const bodyOf = (pem: string): Buffer => Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
const envelopePem = (env: unknown, label = 'ENCRYPTED SIGSTORE PRIVATE KEY'): string => encodePem(label, Buffer.from(JSON.stringify(env)));

describe('generateKeyPair writes what cosign writes', () => {
  it('PEM framing, compact envelope JSON in Go field order, N=65536, 32-byte salt, 24-byte nonce, 138-byte PKCS#8', async () => {
    const { privateKeyPem, publicKeyPem: pub } = await generateKeyPair('pw');
    const lines = privateKeyPem.split('\n');
    expect(lines[0]).toBe('-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----');
    expect(lines.at(-2)).toBe('-----END ENCRYPTED SIGSTORE PRIVATE KEY-----');
    expect(lines.at(-1)).toBe('');
    for (const l of lines.slice(1, -3)) expect(l).toHaveLength(64);
    const json = bodyOf(privateKeyPem).toString('utf8');
    expect(json).toMatch(
      /^\{"kdf":\{"name":"scrypt","params":\{"N":65536,"r":8,"p":1\},"salt":"[A-Za-z0-9+/]{43}="\},"cipher":\{"name":"nacl\/secretbox","nonce":"[A-Za-z0-9+/]{32}"\},"ciphertext":"[A-Za-z0-9+/]+={0,2}"\}$/,
    );
    const env = JSON.parse(json) as { ciphertext: string };
    expect(Buffer.from(env.ciphertext, 'base64')).toHaveLength(154);
    expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/]{64}\n[A-Za-z0-9+/]{58}==\n-----END PUBLIC KEY-----\n$/);
    const key = await decryptPrivateKeyPem(privateKeyPem, 'pw', 'cosign.key');
    expect(key.export({ type: 'pkcs8', format: 'der' }).subarray(0, 30).toString('base64')).toMatch(/^MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0w/);
    expect(publicKeyPem(key)).toBe(pub);
  });

  it('an empty password is a password', async () => {
    const { privateKeyPem } = await generateKeyPair('');
    await expect(decryptPrivateKeyPem(privateKeyPem, '', 'k')).resolves.toBeDefined();
    await expect(decryptPrivateKeyPem(privateKeyPem, ' ', 'k')).rejects.toThrow('incorrect password for k');
  });

  it('non-ASCII passwords are UTF-8, as in Go', async () => {
    const { privateKeyPem } = await generateKeyPair('pässwörd✓');
    await expect(decryptPrivateKeyPem(privateKeyPem, Buffer.from('pässwörd✓', 'utf8'), 'k')).resolves.toBeDefined();
  });

  it('two keys never share salt or nonce', async () => {
    const [a, b] = await Promise.all([generateKeyPair('x'), generateKeyPair('x')]);
    const ea = JSON.parse(bodyOf(a.privateKeyPem).toString()) as { kdf: { salt: string }; cipher: { nonce: string } };
    const eb = JSON.parse(bodyOf(b.privateKeyPem).toString()) as { kdf: { salt: string }; cipher: { nonce: string } };
    expect(ea.kdf.salt).not.toBe(eb.kdf.salt);
    expect(ea.cipher.nonce).not.toBe(eb.cipher.nonce);
  });
});

describe('malformed key files fail with one clear line', () => {
  it('truncated PEM (no END line)', async () => {
    const text = await KEY();
    const cut = text.slice(0, text.indexOf('-----END'));
    expect(() => parseEncryptedKeyPem(cut, 'cosign.key')).toThrow('cosign.key: truncated PEM: no "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----" line');
  });

  it('truncated body (lines missing) is not a wrong password', async () => {
    const lines = (await KEY()).split('\n');
    const cut = [...lines.slice(0, 3), ...lines.slice(-2)].join('\n');
    expect(() => parseEncryptedKeyPem(cut, 'cosign.key')).toThrow(/^cosign\.key: (malformed PEM|malformed encrypted key)/);
  });

  it('bad base64 in the PEM body', async () => {
    const text = (await KEY()).replace(/\n([A-Za-z0-9+/]{10})/, '\n$1*!');
    expect(() => parseEncryptedKeyPem(text, 'cosign.key')).toThrow('cosign.key: malformed PEM: the "ENCRYPTED SIGSTORE PRIVATE KEY" block is not valid base64');
  });

  it('wrong PEM label', async () => {
    const text = (await KEY()).replaceAll('ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED PRIVATE KEY');
    expect(() => parseEncryptedKeyPem(text, 'cosign.key')).toThrow('cosign.key: unsupported PEM type "ENCRYPTED PRIVATE KEY", want "ENCRYPTED SIGSTORE PRIVATE KEY"');
    const pub = await readFile(vec('cosign-keys', 'pemsigstorekey.pub'), 'utf8');
    expect(() => parseEncryptedKeyPem(pub, 'cosign.pub')).toThrow(/this is a public key/);
  });

  it('not PEM at all', () => {
    expect(() => parseEncryptedKeyPem('hello', 'x.key')).toThrow('x.key: not a PEM file (no "-----BEGIN" line)');
  });

  const base = {
    kdf: { name: 'scrypt', params: { N: 32768, r: 8, p: 1 }, salt: Buffer.alloc(32, 1).toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: Buffer.alloc(24, 2).toString('base64') },
    ciphertext: Buffer.alloc(154, 3).toString('base64'),
  };
  const withParams = (N: number, r = 8, p = 1) => ({ ...base, kdf: { ...base.kdf, params: { N, r, p } } });

  it.each([
    [2 ** 21, 8, 1, /N above 2\^20 is refused/],
    [2 ** 30, 8, 1, /N above 2\^20 is refused/],
    [65535, 8, 1, /N must be a power of two/],
    [100000, 8, 1, /N must be a power of two/],
    [0, 8, 1, /positive integers/],
    [65536, 64, 1, /r must be/],
    [65536, 8, 1000, /p must be|r must be/],
    [2 ** 20, 16, 1, /more than 256 MiB/],
    [2 ** 20, 8, 16, /more than 256 MiB/],
    [2 ** 16, 8, 16, /too long/],
    [2 ** 20, 1, 16, /N must be below 2\^16 when r=1 \(RFC 7914\)/],
  ])('refuses scrypt N=%d r=%d p=%d instead of hanging', (N, r, p, msg) => {
    const started = Date.now();
    expect(() => parseEncryptedKeyPem(envelopePem(withParams(N, r, p)), 'evil.key')).toThrow(msg);
    expect(() => parseEncryptedKeyPem(envelopePem(withParams(N, r, p)), 'evil.key')).toThrow(/^evil\.key: unsupported scrypt parameters N=/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('accepts every parameter set cosign has written', () => {
    for (const N of [32768, 65536, 131072]) expect(() => checkScryptParams({ N, r: 8, p: 1 }, 'k')).not.toThrow();
    expect(SCRYPT_LIMITS.maxN).toBe(2 ** 20);
  });

  it.each([
    [{ ...base, kdf: { ...base.kdf, name: 'argon2id' } }, /unsupported kdf "argon2id"/],
    [{ ...base, cipher: { ...base.cipher, name: 'aes-gcm' } }, /unsupported cipher "aes-gcm"/],
    [{ ...base, cipher: { ...base.cipher, nonce: Buffer.alloc(12).toString('base64') } }, /"cipher.nonce" must be 24 bytes, got 12/],
    [{ ...base, ciphertext: 'not base64!' }, /"ciphertext" is not valid base64/],
    [{ ...base, ciphertext: undefined }, /"ciphertext" is missing/],
    [{ ...base, kdf: { ...base.kdf, params: { N: '32768', r: 8, p: 1 } } }, /numeric N, r and p/],
    [{ cipher: base.cipher, ciphertext: base.ciphertext }, /"kdf" is missing/],
  ])('malformed envelope %#', (env, msg) => {
    expect(() => parseEncryptedKeyPem(envelopePem(env), 'k.key')).toThrow(msg);
  });

  it('a PEM body that is not JSON', () => {
    expect(() => parseEncryptedKeyPem(encodePem('ENCRYPTED COSIGN PRIVATE KEY', Buffer.from('\x00\x01binary')), 'k.key')).toThrow('k.key: malformed encrypted key: the PEM body is not JSON');
  });

  it('a corrupted ciphertext reads as a wrong password (the authenticator fails)', async () => {
    const text = await KEY();
    const env = JSON.parse(bodyOf(text).toString()) as { ciphertext: string };
    const ct = Buffer.from(env.ciphertext, 'base64');
    ct[20]! ^= 1;
    const bad = envelopePem({ ...env, ciphertext: ct.toString('base64') });
    await expect(decryptPrivateKeyPem(bad, 'hello', 'cosign.key')).rejects.toThrow(/^incorrect password for cosign\.key$/);
  });

  it('an envelope around something that is not a key', async () => {
    const pem = encodePem('ENCRYPTED SIGSTORE PRIVATE KEY', await encryptEnvelope(Buffer.from('not a key'), 'pw', { N: 1024, r: 8, p: 1 }));
    await expect(decryptPrivateKeyPem(pem, 'pw', 'k.key')).rejects.toThrow('k.key: the decrypted key is not a PKCS#8 or SEC1 private key');
  });

  it('an envelope around a secp256k1 key is refused after decryption', async () => {
    const key = createPrivateKey({
      key: (await readFile(vec('extended', 'keys', 'import', 'invalidecunsupported.key'), 'utf8')),
    });
    const der = key.export({ type: 'pkcs8', format: 'der' });
    const pem = encodePem('ENCRYPTED SIGSTORE PRIVATE KEY', await encryptEnvelope(der, 'pw', { N: 1024, r: 8, p: 1 }));
    await expect(decryptPrivateKeyPem(pem, 'pw', 'k.key')).rejects.toThrow('k.key: unsupported elliptic curve secp256k1 (want P-256, P-384 or P-521)');
  });
});

describe('public keys', () => {
  it('PUBLIC KEY and RSA PUBLIC KEY PEMs', async () => {
    const rsa = createPrivateKey(await readFile(vec('extended', 'keys', 'import', 'validrsa.key'), 'utf8'));
    const pkcs1 = rsa.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(pkcs1).toMatch(/RSA PRIVATE KEY/);
    const pubPkcs1 = createPublicKey(rsa).export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(publicKeyPem(parsePublicKeyPem(pubPkcs1, 'rsa.pub'))).toBe(publicKeyPem(rsa));
  });
  it('refuses a private key, a certificate label, and garbage', async () => {
    const privateText = await KEY();
    expect(() => parsePublicKeyPem(privateText, 'cosign.key')).toThrow('cosign.key: this is a private key; verify with the public key (e.g. cosign.pub)');
    expect(() => parsePublicKeyPem(encodePem('CERTIFICATE', Buffer.from('x')), 'c.pem')).toThrow(/unsupported PEM type "CERTIFICATE" for a public key/);
    expect(() => parsePublicKeyPem(encodePem('PUBLIC KEY', Buffer.from('garbage')), 'k.pub')).toThrow('k.pub: invalid public key: the "PUBLIC KEY" block does not parse');
  });
});
