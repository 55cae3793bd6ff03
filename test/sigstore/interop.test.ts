/**
 * relsign's keys and signatures checked by independent implementations:
 * python3 hashlib.scrypt + libsodium (secretbox) + openssl for keys, openssl for
 * signatures, @sigstore/verify for the v0.3 bundle.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { execa } from 'execa';
import sodium from 'libsodium-wrappers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, importKeyPair, Signer, verifyBlob } from '../../src/sigstore/index.js';
import { Scratch, vec } from './helpers.js';

const scratch = new Scratch();
let dir: string;
beforeAll(async () => {
  dir = await scratch.dir();
  await sodium.ready;
});
afterAll(() => scratch.cleanup());

const PY_SCRYPT = `
import base64, hashlib, json, sys
pem = open(sys.argv[1]).read().strip().splitlines()
env = json.loads(base64.b64decode(''.join(pem[1:-1])))
p = env['kdf']['params']
key = hashlib.scrypt(sys.argv[2].encode(), salt=base64.b64decode(env['kdf']['salt']), n=p['N'], r=p['r'], p=p['p'], maxmem=512*1024*1024, dklen=32)
print(json.dumps({'key': key.hex(), 'nonce': env['cipher']['nonce'], 'ciphertext': env['ciphertext']}))
`;

/** Decrypts a cosign key without relsign: scrypt in Python, secretbox in libsodium; returns the PKCS#8 DER. */
async function independentDecrypt(keyFile: string, password: string): Promise<Buffer> {
  const { stdout } = await execa('python3', ['-c', PY_SCRYPT, keyFile, password]);
  const { key, nonce, ciphertext } = JSON.parse(stdout) as { key: string; nonce: string; ciphertext: string };
  const plain = sodium.crypto_secretbox_open_easy(Buffer.from(ciphertext, 'base64'), Buffer.from(nonce, 'base64'), Buffer.from(key, 'hex'));
  return Buffer.from(plain);
}

async function opensslPubFromPkcs8(der: Buffer, name: string): Promise<string> {
  const f = join(dir, `${name}.p8.der`);
  await writeFile(f, der, { mode: 0o600 });
  const { stdout } = await execa('openssl', ['pkey', '-inform', 'DER', '-in', f, '-pubout']);
  return `${stdout}\n`;
}

describe('relsign-written keys decrypt with python scrypt + libsodium, and openssl reads the PKCS#8', () => {
  it('generate-key-pair output', async () => {
    const pems = await generateKeyPair('correct horse');
    const keyFile = join(dir, 'gen.key');
    await writeFile(keyFile, pems.privateKeyPem);
    const der = await independentDecrypt(keyFile, 'correct horse');
    expect(der).toHaveLength(138);
    expect(await opensslPubFromPkcs8(der, 'gen')).toBe(pems.publicKeyPem);
    await expect(independentDecrypt(keyFile, 'wrong horse')).rejects.toThrow();
  });

  it('empty password', async () => {
    const pems = await generateKeyPair('');
    const keyFile = join(dir, 'empty.key');
    await writeFile(keyFile, pems.privateKeyPem);
    expect(await opensslPubFromPkcs8(await independentDecrypt(keyFile, ''), 'empty')).toBe(pems.publicKeyPem);
  });

  it.each(['validecp384', 'validrsapkcs1', 'ed25519key'])('import-key-pair output (%s)', async (name) => {
    const text = await readFile(vec('extended', 'keys', 'import', `${name}.key`), 'utf8');
    const pems = await importKeyPair(text, 'hello', name);
    const keyFile = join(dir, `${name}.key`);
    await writeFile(keyFile, pems.privateKeyPem);
    expect(await opensslPubFromPkcs8(await independentDecrypt(keyFile, 'hello'), name)).toBe(pems.publicKeyPem);
  });
});

async function opensslVerify(pubPem: string, sig: Buffer, file: string, args: string[]): Promise<string> {
  const pub = join(dir, `v-${Math.random().toString(36).slice(2)}.pub`);
  const sigFile = `${pub}.sig`;
  await writeFile(pub, pubPem);
  await writeFile(sigFile, sig);
  const r = await execa('openssl', [...args.map((a) => a.replace('PUB', pub).replace('SIG', sigFile)), file], { reject: false, all: true });
  return `${r.exitCode}:${String(r.all).trim()}`;
}
const dgst = (hash: string): string[] => ['dgst', `-${hash}`, '-verify', 'PUB', '-signature', 'SIG'];

describe('relsign signatures verify with openssl', () => {
  let artifact: string;
  let tampered: string;
  beforeAll(async () => {
    artifact = join(dir, 'artifact.bin');
    tampered = join(dir, 'tampered.bin');
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    await writeFile(artifact, data);
    data[12345]! ^= 1;
    await writeFile(tampered, data);
  });

  it.each([
    ['cosign-keys/pemsigstorekey.key', 'hello', 'cosign-keys/pemsigstorekey.pub'],
    ['cosign-keys/pemcosignkey.key', 'hello', 'cosign-keys/pemcosignkey.pub'],
    ['extended/sigstore-rs/cosign_generated_encrypted_empty_private.key', '', 'extended/derived/cosign_generated_encrypted_empty_private.pub'],
  ])('P-256 vector key %s: openssl dgst -sha256 -verify', async (key, pw, pubFile) => {
    const signer = await Signer.load(vec(key), pw);
    const sig = await signer.signFile(artifact);
    expect(sig.signature.toString('base64')).toMatch(/^ME[QUY]C/);
    expect(await opensslVerify(signer.publicKeyPem, sig.signature, artifact, dgst('sha256'))).toBe('0:Verified OK');
    expect(await opensslVerify(signer.publicKeyPem, sig.signature, tampered, dgst('sha256'))).toMatch(/^1:Verification failure/);
    // and with the .pub recorded next to the vector
    const pub = await readFile(vec(pubFile), 'utf8');
    expect(pub).toBe(signer.publicKeyPem);
    expect(await opensslVerify(pub, sig.signature, artifact, dgst('sha256'))).toBe('0:Verified OK');
  });

  it('RSA-4096 (sigstore-rs key): PKCS#1 v1.5 SHA-256', async () => {
    const signer = await Signer.load(vec('extended/sigstore-rs/rsa_encrypted_private.key'), '123');
    const sig = await signer.signFile(artifact);
    expect(sig.signature).toHaveLength(512);
    expect(await opensslVerify(signer.publicKeyPem, sig.signature, artifact, dgst('sha256'))).toBe('0:Verified OK');
    await verifyBlob(artifact, { publicKey: signer.publicKeyPem, signature: sig.signature, ignoreTlog: true });
  });

  it('P-384 and P-521 (imported): SHA-384 / SHA-512, as cosign ≥ 2.6', async () => {
    for (const [name, hash] of [['validecp384', 'sha384'], ['validecp521', 'sha512']] as const) {
      const signer = Signer.fromPrivateKey(await readFile(vec('extended', 'keys', 'import', `${name}.key`), 'utf8'));
      const sig = await signer.signFile(artifact);
      expect(sig.digestAlgorithm).toBe(hash);
      expect(await opensslVerify(signer.publicKeyPem, sig.signature, artifact, dgst(hash))).toBe('0:Verified OK');
    }
  });

  it('Ed25519: pure Ed25519 over the file (two streamed passes), checked by openssl pkeyutl -rawin', async () => {
    const signer = Signer.fromPrivateKey(await readFile(vec('extended', 'keys', 'import', 'ed25519key.key'), 'utf8'));
    const sig = await signer.signFile(artifact);
    expect(sig.signature).toHaveLength(64);
    const verify = ['pkeyutl', '-verify', '-pubin', '-inkey', 'PUB', '-rawin', '-sigfile', 'SIG', '-in'];
    expect(await opensslVerify(signer.publicKeyPem, sig.signature, artifact, verify)).toBe('0:Signature Verified Successfully');
    expect(await opensslVerify(signer.publicKeyPem, sig.signature, tampered, verify)).toMatch(/^1:Signature Verification Failure/);
    // Deterministic: matches node's own one-shot Ed25519 over the same bytes.
    const { sign } = await import('node:crypto');
    const key = createPrivateKey(await readFile(vec('extended', 'keys', 'import', 'ed25519key.key'), 'utf8'));
    expect(sig.signature.equals(sign(null, await readFile(artifact), key))).toBe(true);
    await verifyBlob(artifact, { publicKey: signer.publicKeyPem, signature: sig.signature, ignoreTlog: true });
    await expect(verifyBlob(tampered, { publicKey: signer.publicKeyPem, signature: sig.signature, ignoreTlog: true })).rejects.toThrow(/invalid signature/);
  });

  it('openssl-made signatures verify with relsign (both directions)', async () => {
    const keyPem = join(dir, 'openssl-p256.pem');
    await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPem]);
    const sigFile = join(dir, 'openssl.sig');
    await execa('openssl', ['dgst', '-sha256', '-sign', keyPem, '-out', sigFile, artifact]);
    const { stdout: pub } = await execa('openssl', ['pkey', '-in', keyPem, '-pubout']);
    await verifyBlob(artifact, { publicKey: pub, signature: await readFile(sigFile), ignoreTlog: true });
    await expect(verifyBlob(tampered, { publicKey: pub, signature: await readFile(sigFile), ignoreTlog: true })).rejects.toThrow(/invalid signature/);
  });
});

describe('the v0.3 bundle verifies with @sigstore/verify', () => {
  it('public-key trust material keyed by the hint', async () => {
    const artifact = join(dir, 'bundle-artifact.txt');
    await writeFile(artifact, 'hello sigstore\n');
    const signer = await Signer.load(vec('cosign-keys/pemsigstorekey.key'), 'hello');
    const sig = await signer.signFile(artifact);
    const bundlePath = join(dir, 'a.sigstore.json');
    await signer.writeBundle(bundlePath, sig);
    const json = JSON.parse(await readFile(bundlePath, 'utf8')) as Record<string, unknown>;
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');

    const bundle = bundleFromJSON(json);
    const root = TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
    const material = toTrustMaterial(root, {
      [signer.keyHint]: { rawBytes: signer.publicKeyDer, keyDetails: 5 /* PKIX_ECDSA_P256_SHA_256 */, validFor: { start: new Date(0) } },
    });
    const verifier = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    const result = verifier.verify(toSignedEntity(bundle, await readFile(artifact)));
    expect(result.key.export({ type: 'spki', format: 'der' })).toEqual(signer.publicKeyDer);
    expect(() => verifier.verify(toSignedEntity(bundle, Buffer.from('hello sigstore!\n')))).toThrow();
  });
});
