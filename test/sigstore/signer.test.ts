/** The library API: Signer (decrypt once, sign many files concurrently) and verifyBlob's verdicts. */
import { createHash, createPrivateKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { link, lstat, open, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { p256 } from '@noble/curves/nist.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobVerificationError, decodeSignature, generateKeyPair, Signer, verifyBlob } from '../../src/sigstore/index.js';
import { RelsignError } from '../../src/util/errors.js';
import { Scratch, vec } from './helpers.js';

const scratch = new Scratch();
let dir: string;
let signer: Signer;
let other: Signer;
let file: string;
const KEY = vec('cosign-keys', 'pemsigstorekey.key');

beforeAll(async () => {
  dir = await scratch.dir();
  signer = await Signer.load(KEY, 'hello');
  other = Signer.generate();
  file = join(dir, 'release.tar.gz');
  await writeFile(file, 'pretend this is a release archive\n'.repeat(1000));
});
afterAll(() => scratch.cleanup());

describe('Signer.load', () => {
  it('reads env://VAR (the PEM itself), and the password callback runs once, after the key is validated', async () => {
    let asked = 0;
    const ask = async (): Promise<string> => {
      asked++;
      return 'hello';
    };
    const s = await Signer.load('env://MY_KEY', ask, { env: { MY_KEY: await readFile(KEY, 'utf8') } });
    expect(asked).toBe(1);
    expect(s.publicKeyPem).toBe(signer.publicKeyPem);
    await expect(Signer.load('env://MY_KEY', ask, { env: { MY_KEY: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' } })).rejects.toThrow(
      /^env:\/\/MY_KEY: unsupported PEM type "PUBLIC KEY"/,
    );
    expect(asked).toBe(1); // not asked for a file that cannot be a key
    await expect(Signer.load('env://MY_KEY', 'nope', { env: { MY_KEY: await readFile(KEY, 'utf8') } })).rejects.toThrow(/^incorrect password for env:\/\/MY_KEY$/);
  });

  it('clear errors for missing keys and unsupported references', async () => {
    await expect(Signer.load('env://NOPE', 'x', { env: {} })).rejects.toThrow('env://NOPE: environment variable NOPE is not set');
    await expect(Signer.load(join(dir, 'missing.key'), 'x')).rejects.toThrow(`cannot read ${join(dir, 'missing.key')}: no such file`);
    await expect(Signer.load('k8s://ns/secret', 'x')).rejects.toThrow('key reference "k8s://…" is not supported yet (use a file path or env://VAR)');
    await expect(Signer.load('awskms:///alias/x', 'x')).rejects.toThrow(/not supported yet/);
  });

  it('fromPrivateKey / generate; refuses an encrypted PEM without its password', async () => {
    const pem = createPrivateKey(await readFile(vec('extended', 'keys', 'import', 'validecpkcs8.key'), 'utf8')).export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(Signer.fromPrivateKey(pem).algorithm).toBe('ecdsa-p256');
    expect(Signer.generate().publicKeyPem).not.toBe(Signer.generate().publicKeyPem);
    const encrypted = await readFile(KEY, 'utf8');
    expect(() => Signer.fromPrivateKey(encrypted)).toThrow(/encrypted key; use Signer\.load/);
  });
});

describe('Signer.signFile', () => {
  it('signs many files concurrently with one decrypted key; each digest is the file SHA-256 and each verifies', async () => {
    const files = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const f = join(dir, `artifact-${i}.bin`);
        await writeFile(f, Buffer.alloc(100_000 + i * 4099, i));
        return f;
      }),
    );
    const sigs = await Promise.all(files.map((f) => signer.signFile(f)));
    for (const [i, f] of files.entries()) {
      const sig = sigs[i]!;
      expect(sig.digest.toString('hex')).toBe(createHash('sha256').update(await readFile(f)).digest('hex'));
      expect(sig.size).toBe(100_000 + i * 4099);
      await verifyBlob(f, { publicKey: signer.publicKey, signature: sig.signature, ignoreTlog: true });
    }
    const { stdout } = await execa('sha256sum', [files[3]!]);
    expect(stdout.split(' ')[0]).toBe(sigs[3]!.digest.toString('hex'));
  });

  it('signFile, signBytes and signStream agree on the digest; an empty file can be signed', async () => {
    const data = await readFile(file);
    const a = await signer.signFile(file);
    const b = await signer.signBytes(data);
    const c = await signer.signStream(Readable.from([data.subarray(0, 7), data.subarray(7)]));
    expect(b.digest).toEqual(a.digest);
    expect(c.digest).toEqual(a.digest);
    const empty = join(dir, 'empty');
    await writeFile(empty, '');
    const e = await signer.signFile(empty);
    expect(e.digest.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    await verifyBlob(empty, { publicKey: signer.publicKeyPem, signature: e.signature, ignoreTlog: true });
  });

  it('an aborted signal stops hashing mid-file with the signal\'s reason (a pipe that never ends)', async () => {
    const fifo = join(await scratch.dir(), 'endless');
    await execa('mkfifo', [fifo]);
    const ac = new AbortController();
    const reason = new RelsignError('interrupted (Ctrl-C)', { exitCode: 130 });
    const signing = signer.signFile(fifo, { signal: ac.signal });
    signing.catch(() => undefined);
    // The writer keeps the pipe open: without the abort check, hashing would wait forever.
    const writer = await open(fifo, 'w');
    try {
      await writer.write(Buffer.alloc(4096, 1));
      await new Promise((r) => setTimeout(r, 50));
      ac.abort(reason);
      await writer.write(Buffer.alloc(4096, 2));
      await expect(signing).rejects.toBe(reason);
    } finally {
      await writer.close();
    }
  });

  it('a directory or missing file is a one-line error', async () => {
    await expect(signer.signFile(dir)).rejects.toThrow(`cannot read ${dir}: is a directory`);
    await expect(signer.signFile(join(dir, 'nope'))).rejects.toThrow('no such file');
  });

  it('writes .sig (base64, no newline, 0644), the legacy bundle and the v0.3 bundle atomically', async () => {
    const sig = await signer.signFile(file);
    const out = await scratch.dir();
    await signer.writeSignature(join(out, 'a.sig'), sig);
    await signer.writeSignature(join(out, 'a.der'), sig, { base64: false });
    await signer.writeLegacyBundle(join(out, 'a.bundle'), sig);
    await signer.writeBundle(join(out, 'a.sigstore.json'), sig);
    expect(await readFile(join(out, 'a.sig'), 'utf8')).toBe(sig.signature.toString('base64'));
    expect(await readFile(join(out, 'a.der'))).toEqual(sig.signature);
    expect(((await stat(join(out, 'a.sig'))).mode & 0o777).toString(8)).toBe('644');
    expect(JSON.parse(await readFile(join(out, 'a.bundle'), 'utf8'))).toEqual({
      base64Signature: sig.signature.toString('base64'),
      cert: Buffer.from(signer.publicKeyPem).toString('base64'),
    });
    const v3 = JSON.parse(await readFile(join(out, 'a.sigstore.json'), 'utf8')) as Record<string, unknown>;
    expect(v3).toEqual({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: '8QV788EU1UhvC9s8cCWW1hVBWCSJgNS+SfbGH9xixZE=' } },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: sig.digest.toString('base64') }, signature: sig.signature.toString('base64') },
    });
    expect((await readdir(out)).sort()).toEqual(['a.bundle', 'a.der', 'a.sig', 'a.sigstore.json']);
  });

  it('replaces an output by rename: never writes through a symlink or into a shared inode at the final name', async () => {
    const sig = await signer.signFile(file);
    const out = await scratch.dir();
    const outside = await scratch.dir();
    // A symlink planted at the signature's name must be replaced, not followed.
    await writeFile(join(outside, 'victim.txt'), 'not a signature\n');
    await symlink(join(outside, 'victim.txt'), join(out, 'b.sig'));
    await signer.writeSignature(join(out, 'b.sig'), sig);
    expect(await readFile(join(outside, 'victim.txt'), 'utf8')).toBe('not a signature\n');
    expect((await lstat(join(out, 'b.sig'))).isSymbolicLink()).toBe(false);
    expect(await readFile(join(out, 'b.sig'), 'utf8')).toBe(sig.signature.toString('base64'));
    // An old signature that another name still links to keeps its bytes (readers never see a half-written file).
    await writeFile(join(out, 'c.sigstore.json'), 'old bundle');
    await link(join(out, 'c.sigstore.json'), join(out, 'c.previous'));
    await signer.writeBundle(join(out, 'c.sigstore.json'), sig);
    expect(await readFile(join(out, 'c.previous'), 'utf8')).toBe('old bundle');
    expect(JSON.parse(await readFile(join(out, 'c.sigstore.json'), 'utf8'))).toMatchObject({ messageSignature: { signature: sig.signature.toString('base64') } });
    expect((await readdir(out)).sort()).toEqual(['b.sig', 'c.previous', 'c.sigstore.json']);
  });
});

describe('verifyBlob', () => {
  const opts = { ignoreTlog: true } as const;

  it('accepts every form of the signature: DER bytes, base64 text with a newline, raw r||s, high-S', async () => {
    const sig = await signer.signFile(file);
    const pub = signer.publicKeyPem;
    const parsed = p256.Signature.fromBytes(sig.signature, 'der');
    const highS = new p256.Signature(parsed.r, p256.Point.Fn.ORDER - parsed.s);
    const forms = [
      sig.signature,
      Buffer.from(`${sig.signature.toString('base64')}\n`),
      sig.signature.toString('base64'),
      Buffer.from(parsed.toBytes('compact')),
      Buffer.from(highS.toBytes('der')),
    ];
    const expected = { format: 'signature', digestAlgorithm: 'sha256', digest: sig.digest, tlogVerified: false };
    const tampered = join(dir, 'tampered-forms');
    await writeFile(tampered, Buffer.concat([await readFile(file), Buffer.from('x')]));
    for (const signature of forms) {
      expect(await verifyBlob(file, { ...opts, publicKey: pub, signature })).toEqual(expected);
      // The same form is refused for a file it does not sign.
      await expect(verifyBlob(tampered, { ...opts, publicKey: pub, signature })).rejects.toThrow(/^invalid signature/);
    }
  });

  it('names each failure', async () => {
    const sig = await signer.signFile(file);
    const tampered = join(dir, 'tampered');
    await writeFile(tampered, Buffer.concat([await readFile(file), Buffer.from('x')]));
    const byOther = await other.signFile(file);
    const fail = async (p: Promise<unknown>, reason: string, msg: RegExp) => {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlobVerificationError);
      expect((err as BlobVerificationError).reason).toBe(reason);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
    };
    const pub = signer.publicKeyPem;
    await fail(verifyBlob(tampered, { ...opts, publicKey: pub, signature: sig.signature, keySource: 'cosign.pub' }), 'invalid-signature', /^invalid signature: .*tampered was not signed by cosign\.pub, or was modified after signing$/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, signature: byOther.signature }), 'invalid-signature', /^invalid signature/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, signature: Buffer.from('garbage that is not DER at all') }), 'malformed-signature', /^malformed signature: not an ASN\.1 DER ECDSA signature/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, signature: sig.signature.subarray(0, 40) }), 'malformed-signature', /^malformed signature/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, signature: 'MEUC!!!' }), 'malformed-signature', /^malformed signature: not valid base64$/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, signature: '' }), 'malformed-signature', /empty/);

    const v3 = signer.bundle(sig);
    await fail(verifyBlob(tampered, { ...opts, publicKey: pub, bundle: v3 }), 'digest-mismatch', /^bundle digest mismatch: .*tampered has sha256 [0-9a-f]{64}, the bundle signed [0-9a-f]{64}$/);
    await fail(verifyBlob(file, { ...opts, publicKey: other.publicKeyPem, bundle: v3 }), 'invalid-signature', /does not verify with the public key \(its key hint names another key\)$/);
    const forged = { ...v3, messageSignature: { ...v3.messageSignature, signature: byOther.signature.toString('base64') } };
    await fail(verifyBlob(file, { ...opts, publicKey: pub, bundle: forged }), 'invalid-signature', /^invalid signature: the bundle's signature does not verify/);
    await fail(verifyBlob(file, { ...opts, publicKey: other.publicKeyPem, bundle: signer.legacyBundle(sig) }), 'invalid-signature', /signed by another key/);
    await fail(verifyBlob(tampered, { ...opts, publicKey: pub, bundle: signer.legacyBundle(sig) }), 'invalid-signature', /does not match the bundle's signature \(modified after signing\?\)$/);

    await fail(verifyBlob(file, { ...opts, publicKey: pub, bundle: '{not json', bundleSource: 'b.json' }), 'malformed-bundle', /^malformed bundle b\.json: not JSON$/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, bundle: { hello: 1 } }), 'malformed-bundle', /neither a Sigstore bundle/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, bundle: { ...v3, mediaType: 'application/vnd.dev.sigstore.bundle.v9+json' } }), 'unsupported-bundle', /unknown media type/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, bundle: { mediaType: v3.mediaType, verificationMaterial: v3.verificationMaterial } }), 'malformed-bundle', /messageSignature is missing/);
    await fail(verifyBlob(file, { ...opts, publicKey: pub, bundle: { base64Signature: 'not base64!' } }), 'malformed-bundle', /base64Signature is not valid base64/);
    const dsse = await readFile(vec('extended', 'sigstore-go', 'examples-bundle-publish.json'), 'utf8');
    await fail(verifyBlob(file, { ...opts, publicKey: pub, bundle: dsse }), 'unsupported-bundle', /DSSE envelope/);
  });

  it('without ignoreTlog, a key-only signature is refused (nothing in a transparency log yet)', async () => {
    const sig = await signer.signFile(file);
    await expect(verifyBlob(file, { publicKey: signer.publicKey, signature: sig.signature })).rejects.toThrow(
      /^no transparency-log entry to verify \(relsign does not upload to Rekor yet\); pass --insecure-ignore-tlog/,
    );
  });

  it("sigstore-go's public-key v0.3 bundle (with an RFC 3161 timestamp) verifies with its key", async () => {
    const dirGo = vec('extended', 'sigstore-go');
    const r = await verifyBlob(join(dirGo, 'public-key-validity.artifact.txt'), {
      publicKey: await readFile(join(dirGo, 'public-key-validity.pem'), 'utf8'),
      bundle: await readFile(join(dirGo, 'public-key-validity.sigstore.json'), 'utf8'),
      ignoreTlog: true,
    });
    expect(r).toMatchObject({ format: 'sigstore-bundle', digestAlgorithm: 'sha256' });
  });

  it('RSA keys: signatures made by openssl/node verify; the other key does not', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const data = await readFile(file);
    const sig = nodeSign('sha256', data, privateKey);
    await verifyBlob(file, { ...opts, publicKey, signature: sig });
    await expect(verifyBlob(file, { ...opts, publicKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, signature: sig })).rejects.toThrow(/invalid signature/);
  });

  it('decodeSignature: base64 text vs raw bytes', () => {
    expect(decodeSignature(Buffer.from('AAEC\n'))).toEqual(Buffer.from([0, 1, 2]));
    expect(decodeSignature(Buffer.from([0x30, 0x45, 0x02]))).toEqual(Buffer.from([0x30, 0x45, 0x02]));
  });

  it('generateKeyPair output signs and verifies end to end', async () => {
    const pems = await generateKeyPair('pw');
    expect(pems.privateKeyPem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const s = await Signer.loadPem(pems.privateKeyPem, 'pw', 'cosign.key');
    expect(s.publicKeyPem).toBe(pems.publicKeyPem);
    const sig = await s.signFile(file);
    expect(await verifyBlob(file, { ...opts, publicKey: pems.publicKeyPem, bundle: s.bundle(sig) })).toMatchObject({
      format: 'sigstore-bundle',
      digestAlgorithm: 'sha256',
      digest: createHash('sha256').update(await readFile(file)).digest(),
    });
    await expect(verifyBlob(file, { ...opts, publicKey: Signer.generate().publicKeyPem, bundle: s.bundle(sig) })).rejects.toThrow(/invalid signature/);
    await expect(Signer.loadPem(pems.privateKeyPem, 'wrong', 'cosign.key')).rejects.toThrow(/incorrect password/);
  });
});
