/**
 * Key, signature, bundle and trusted-root inputs that are far too big, or scrypt
 * parameters that would need absurd memory or time: each is refused up front with
 * one line naming the input, through the API and the CLI (`relsign sign-blob`,
 * `verify-blob`, `import-key-pair`), and quickly (a loose bound: these must not
 * even start the expensive work). Real keys and signatures from cosign still load.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import {
  BlobVerificationError,
  checkScryptParams,
  decodeSignature,
  encodePem,
  loadPublicKey,
  openEnvelope,
  parseBundle,
  parseEncryptedKeyPem,
  parseEnvelope,
  parseImportablePrivateKey,
  parsePublicKeyPem,
  readKeyRef,
  Signer,
  verifyBlob,
} from '../../src/sigstore/index.js';
import { MAX_BUNDLE_BYTES, MAX_KEY_BYTES, MAX_SIGNATURE_BYTES, readFileBounded } from '../../src/sigstore/limits.js';
import { RelsignError } from '../../src/util/errors.js';
import { Scratch, vec } from './helpers.js';

const scratch = new Scratch();
let dir: string;
let artifact: string;
let pub: string;
let key: string;
let goodSig: string;
const PASSWORD = 'hostile-inputs-pw';
const env = { COSIGN_PASSWORD: PASSWORD };

/** The loose "refused before any real work" bound for one hostile input. */
const QUICK_MS = 1500;

function envelope(N: number, r: number, p: number): string {
  return JSON.stringify({
    kdf: { name: 'scrypt', params: { N, r, p }, salt: Buffer.alloc(32, 1).toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: Buffer.alloc(24, 2).toString('base64') },
    ciphertext: Buffer.alloc(154, 3).toString('base64'),
  });
}
const hostileKeyPem = (N: number, r: number, p: number): string => encodePem('ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from(envelope(N, r, p)));

/** A PEM-looking public key of about `bytes` bytes: valid base64, so only the size can stop it. */
const hugePublicKey = (bytes: number): string => `-----BEGIN PUBLIC KEY-----\n${'QUFB'.repeat(bytes / 4)}\n-----END PUBLIC KEY-----\n`;

function expectOneLine(r: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(hasStackTrace(r.stderr)).toBe(false);
  expect(r.stderr).not.toMatch(/internal error|RangeError|call stack/);
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t };
}

beforeAll(async () => {
  dir = await scratch.dir();
  artifact = join(dir, 'app.tar.gz');
  await writeFile(artifact, Buffer.alloc(100_000, 0x41));
  const gen = await runCli(['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], { env });
  expect(gen.code, gen.stderr).toBe(0);
  key = join(dir, 'cosign.key');
  pub = join(dir, 'cosign.pub');
  goodSig = join(dir, 'app.tar.gz.sig');
  const signed = await runCli(['sign-blob', '--key', key, '--output-signature', goodSig, '--tlog-upload=false', artifact], { env });
  expect(signed.code, signed.stderr).toBe(0);
});
afterAll(() => scratch.cleanup());

describe('scrypt parameters of an encrypted key', () => {
  // N=2^20, r=1, p=16 used to reach OpenSSL and fail as "internal error: … memory limit exceeded".
  it.each([
    [2 ** 20, 1, 16, /N must be below 2\^16 when r=1 \(RFC 7914\)/],
    [2 ** 20, 8, 1, /more than 256 MiB of memory/],
    [2 ** 17, 8, 16, /too long to compute/],
    [2 ** 40, 8, 1, /N above 2\^20 is refused/],
    [3, 8, 1, /N must be a power of two/],
  ])('N=%d r=%d p=%d: refused by parseEncryptedKeyPem, naming the key', (N, r, p, why) => {
    const run = (): unknown => parseEncryptedKeyPem(hostileKeyPem(N, r, p), 'evil.key');
    expect(run).toThrow(RelsignError);
    expect(run).toThrow(/^evil\.key: unsupported scrypt parameters N=\d+, r=\d+, p=\d+: /);
    expect(run).toThrow(why);
  });

  it('every set that is within the limits actually runs in node:crypto (no OpenSSL surprise)', async () => {
    // The corners of the accepted region: the checks and OpenSSL agree.
    for (const params of [
      { N: 2 ** 15, r: 1, p: 16 },
      { N: 2 ** 20, r: 2, p: 2 },
      { N: 2, r: 1, p: 1 },
    ]) {
      expect(() => checkScryptParams(params, 'k')).not.toThrow();
      const env = parseEnvelope(envelope(params.N, params.r, params.p), 'corner.key');
      // The fake ciphertext does not open: the failure must be the password, i.e. scrypt ran.
      await expect(openEnvelope(env, 'pw', 'corner.key')).rejects.toThrow(/^incorrect password for corner\.key$/);
    }
  });

  it('openEnvelope re-checks parameters handed to it directly, before scrypt', async () => {
    const parsed = parseEnvelope(envelope(32768, 8, 1), 'k.key');
    const { ms } = await timed(async () => {
      await expect(openEnvelope({ ...parsed, params: { N: 2 ** 20, r: 1, p: 16 } }, 'pw', 'k.key')).rejects.toThrow(
        /^k\.key: unsupported scrypt parameters N=1048576, r=1, p=16: /,
      );
    });
    expect(ms).toBeLessThan(QUICK_MS);
  });

  it('Signer.load on a key file with N=2^20, r=1, p=16: one line naming the file, quickly, before the password', async () => {
    const file = join(dir, 'evil-scrypt.key');
    await writeFile(file, hostileKeyPem(2 ** 20, 1, 16));
    let asked = false;
    const { ms } = await timed(async () => {
      await expect(
        Signer.load(file, async () => {
          asked = true;
          return 'pw';
        }),
      ).rejects.toThrow(/^evil-scrypt\.key: unsupported scrypt parameters N=1048576, r=1, p=16: /);
    });
    expect(asked).toBe(false);
    expect(ms).toBeLessThan(QUICK_MS);
  });

  it('relsign sign-blob with that key: exit 1, one line naming the key file', async () => {
    const file = join(dir, 'evil-scrypt-cli.key');
    await writeFile(file, hostileKeyPem(2 ** 20, 1, 16));
    const r = await runCli(['sign-blob', '--key', file, '--tlog-upload=false', artifact], { env });
    expectOneLine(r, /^relsign: evil-scrypt-cli\.key: unsupported scrypt parameters N=1048576, r=1, p=16: /);
  });
});

describe('oversized key files', () => {
  it('a 5 MB public key: parsePublicKeyPem and loadPublicKey refuse it by size, naming it', async () => {
    const text = hugePublicKey(5 * 1024 * 1024);
    expect(() => parsePublicKeyPem(text, 'big.pub')).toThrow(/^big\.pub: too large for a PEM key \(5 MiB; at most 64 KiB\)$/);
    const file = join(dir, 'big.pub');
    await writeFile(file, text);
    const { ms } = await timed(async () => {
      await expect(loadPublicKey(file)).rejects.toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: too large for a key file \\(5 MiB; at most 64 KiB\\)$`));
    });
    expect(ms).toBeLessThan(QUICK_MS);
    await expect(loadPublicKey('env://BIG_PUB', { BIG_PUB: text })).rejects.toThrow(/^env:\/\/BIG_PUB: too large for a PEM key \(5 MiB; at most 64 KiB\)$/);
  });

  it('relsign verify-blob --key <5 MB file>: exit 1, one line naming the file', async () => {
    const file = join(dir, 'big-cli.pub');
    await writeFile(file, hugePublicKey(5 * 1024 * 1024));
    const r = await runCli(['verify-blob', '--key', file, '--signature', goodSig, '--insecure-ignore-tlog', artifact]);
    expectOneLine(r, /^relsign: .*big-cli\.pub: too large for a key file \(5 MiB; at most 64 KiB\)$/);
  });

  it('relsign verify-blob --key env://VAR with 100 KiB (as big as one environment string may be)', async () => {
    const r = await runCli(['verify-blob', '--key', 'env://BIG_PUB', '--signature', goodSig, '--insecure-ignore-tlog', artifact], {
      env: { BIG_PUB: hugePublicKey(100 * 1024) },
    });
    expectOneLine(r, /^relsign: env:\/\/BIG_PUB: too large for a PEM key \(100\.1 KiB; at most 64 KiB\)$/);
  });

  it('relsign sign-blob --key <5 MB file> and import-key-pair --key <5 MB file>', async () => {
    const file = join(dir, 'big.key');
    await writeFile(file, hostileKeyPem(32768, 8, 1).replace('\n', `\n${'QUFB'.repeat(1_310_720)}\n`));
    expectOneLine(await runCli(['sign-blob', '--key', file, artifact], { env }), /^relsign: .*big\.key: too large for a key file \(5 MiB; at most 64 KiB\)$/);
    expectOneLine(
      await runCli(['import-key-pair', '--key', file, '--output-key-prefix', join(dir, 'imported')], { env }),
      /^relsign: .*big\.key: too large for a key file \(5 MiB; at most 64 KiB\)$/,
    );
  });

  it('a key "file" that is an endless device or a pipe is read no further than the limit', async () => {
    await expect(readKeyRef('/dev/zero')).rejects.toThrow(/^\/dev\/zero: too large for a key file \(over 64 KiB; at most 64 KiB\)$/);
    const fifo = join(dir, 'key.fifo');
    await execa('mkfifo', [fifo]);
    const writer = writeFile(fifo, Buffer.alloc(MAX_KEY_BYTES * 4, 0x41)).catch(() => undefined);
    await expect(readKeyRef(fifo)).rejects.toThrow(/too large for a key file \(over 64 KiB; at most 64 KiB\)$/);
    await writer;
    const r = await runCli(['verify-blob', '--key', '/dev/zero', '--signature', goodSig, '--insecure-ignore-tlog', artifact]);
    expectOneLine(r, /^relsign: \/dev\/zero: too large for a key file \(over 64 KiB; at most 64 KiB\)$/);
  });

  it('a key exactly at the limit is read (and then judged on its content)', async () => {
    const file = join(dir, 'limit.pub');
    const body = hugePublicKey(MAX_KEY_BYTES - 64);
    await writeFile(file, body + ' '.repeat(MAX_KEY_BYTES - Buffer.byteLength(body)));
    expect((await readFile(file)).length).toBe(MAX_KEY_BYTES);
    await expect(loadPublicKey(file)).rejects.toThrow(/^limit\.pub: invalid public key: the "PUBLIC KEY" block does not parse$/);
  });
});

describe('oversized signatures', () => {
  const tenMiB = 'A'.repeat(10 * 1024 * 1024);

  it('decodeSignature: a 10 MB base64 string or buffer is a malformed-signature error, not a stack overflow', () => {
    for (const input of [tenMiB, Buffer.from(tenMiB)]) {
      let caught: unknown;
      try {
        decodeSignature(input, 'app.sig');
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(BlobVerificationError);
      expect((caught as BlobVerificationError).reason).toBe('malformed-signature');
      expect((caught as Error).message).toBe('malformed signature app.sig: too large for a signature (10 MiB; at most 64 KiB)');
    }
  });

  it('verifyBlob with a 10 MB signature', async () => {
    await expect(verifyBlob(artifact, { publicKey: await readFile(pub, 'utf8'), signature: tenMiB, ignoreTlog: true })).rejects.toThrow(
      /^malformed signature: too large for a signature \(10 MiB; at most 64 KiB\)$/,
    );
  });

  it('relsign verify-blob --signature <10 MB file>: exit 1, one line naming the file, quickly', async () => {
    const file = join(dir, 'huge.sig');
    await writeFile(file, tenMiB);
    const r = await runCli(['verify-blob', '--key', pub, '--signature', file, '--insecure-ignore-tlog', artifact]);
    expectOneLine(r, /^relsign: .*huge\.sig: too large for a signature \(10 MiB; at most 64 KiB\)$/);
  });

  it('relsign verify-blob --signature <100 KiB of literal base64>', async () => {
    const r = await runCli(['verify-blob', '--key', pub, '--signature', 'QUFB'.repeat(25_600), '--insecure-ignore-tlog', artifact]);
    expectOneLine(r, /^relsign: --signature: too large for a signature \(100 KiB; at most 64 KiB\)$/);
  });

  it('a base64 signature just under the limit decodes (no stack growth with length)', () => {
    const text = 'QUFB'.repeat(MAX_SIGNATURE_BYTES / 4);
    expect(decodeSignature(text)).toHaveLength((MAX_SIGNATURE_BYTES / 4) * 3);
  });

  it('the signature the real CLI made still verifies (literal and file)', async () => {
    const sig = await readFile(goodSig, 'utf8');
    expect((await runCli(['verify-blob', '--key', pub, '--signature', goodSig, '--insecure-ignore-tlog', artifact])).code).toBe(0);
    expect((await runCli(['verify-blob', '--key', pub, '--signature', sig, '--insecure-ignore-tlog', artifact])).code).toBe(0);
  });
});

describe('oversized bundles and trusted roots', () => {
  it('parseBundle refuses a 5 MB bundle by size', () => {
    const text = JSON.stringify({ base64Signature: 'QUFB'.repeat(1_310_720) });
    expect(() => parseBundle(text, 'big.json')).toThrow(/^malformed bundle big\.json: too large for a bundle \(5 MiB; at most 4 MiB\)$/);
  });

  it('verifyBlob with a bundle object that cannot be serialised', async () => {
    const cyclic: Record<string, unknown> = { base64Signature: 'QUFB' };
    cyclic.self = cyclic;
    await expect(verifyBlob(artifact, { publicKey: await readFile(pub, 'utf8'), bundle: cyclic, ignoreTlog: true })).rejects.toThrow(
      /^malformed bundle bundle: not serialisable as JSON/,
    );
  });

  it('relsign verify-blob --bundle <5 MB> and --trusted-root <5 MB>: one line each, naming the file', async () => {
    const big = join(dir, 'big.bundle.json');
    await writeFile(big, Buffer.alloc(MAX_BUNDLE_BYTES + 1024 * 1024, 0x20));
    expectOneLine(
      await runCli(['verify-blob', '--key', pub, '--bundle', big, '--insecure-ignore-tlog', artifact]),
      /^relsign: .*big\.bundle\.json: too large for a bundle \(5 MiB; at most 4 MiB\)$/,
    );
    const bundle = join(dir, 'ok.bundle.json');
    const signed = await runCli(['sign-blob', '--key', key, '--bundle', bundle, '--tlog-upload=false', artifact], { env });
    expect(signed.code, signed.stderr).toBe(0);
    expectOneLine(
      await runCli(['verify-blob', '--key', pub, '--bundle', bundle, '--trusted-root', big, artifact]),
      /^relsign: .*big\.bundle\.json: too large for a trusted root \(5 MiB; at most 4 MiB\)$/,
    );
  });
});

describe("cosign's and Sigstore's real files are well inside the limits", () => {
  it('every key vector reads through the bounded key reader', async () => {
    const files: string[] = [];
    for (const sub of [['cosign-keys'], ['extended', 'keys'], ['extended', 'keys', 'import'], ['extended', 'sigstore-rs'], ['extended', 'derived']]) {
      for (const f of await readdir(vec(...sub))) if (/\.(key|pub)$/.test(f)) files.push(vec(...sub, f));
    }
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const src = await readKeyRef(f);
      expect(src.text.length).toBeGreaterThan(100);
      expect(src.text.length).toBeLessThan(MAX_KEY_BYTES / 8);
    }
  });

  it('every conformance bundle and trusted root reads through the bounded reader and parses or fails on content', async () => {
    const root = vec('sigstore-conformance', 'bundle-verify');
    let bundles = 0;
    for (const name of await readdir(root, { withFileTypes: true })) {
      if (!name.isDirectory()) continue;
      const bundleFile = join(root, name.name, 'bundle.sigstore.json');
      const text = await readFileBounded(bundleFile, MAX_BUNDLE_BYTES, 'a bundle').catch(() => undefined);
      if (!text) continue;
      bundles++;
      try {
        parseBundle(text.toString('utf8'), bundleFile);
      } catch (err) {
        expect(err).toBeInstanceOf(BlobVerificationError);
        expect((err as Error).message).not.toMatch(/too large/);
      }
    }
    expect(bundles).toBeGreaterThan(40);
  });
});

describe('hostile JSON values in bundles and key envelopes are named, never serialised', () => {
  const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  it('a media type nested 100,000 levels deep: unsupported bundle, one short line (it overflowed the stack)', () => {
    const run = (): unknown => parseBundle(`{"mediaType":${nested(100_000)}}`, 'deep.json');
    expect(run).toThrow(BlobVerificationError);
    expect(run).toThrow(/^unsupported bundle deep\.json: unknown media type a object$/);
  });

  it('a 3 MB media type string is cut in the message', () => {
    let message = '';
    try {
      parseBundle(JSON.stringify({ mediaType: 'x'.repeat(3_000_000) }), 'long.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^unsupported bundle long\.json: unknown media type "x{60}…"$/);
  });

  it.each([
    ['constructor', /digest algorithm "constructor"/],
    ['__proto__', /digest algorithm "__proto__"/],
    [[[[['SHA2_256']]]], /digest algorithm an array/],
  ])('messageDigest.algorithm %j is an unsupported digest algorithm, not a crash or an inherited property', (algorithm, msg) => {
    const bundle = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'x' } },
      messageSignature: { messageDigest: { algorithm, digest: Buffer.alloc(32).toString('base64') }, signature: 'QUFB' },
    };
    expect(() => parseBundle(JSON.stringify(bundle), 'b.json')).toThrow(msg);
  });

  it('a key envelope whose kdf name is nested deep: a malformed-key line naming the file', () => {
    const env = `{"kdf":{"name":${nested(10_000)}},"cipher":{"name":"nacl/secretbox"}}`;
    expect(() => parseEnvelope(env, 'deep.key')).toThrow(/^deep\.key: malformed encrypted key: unsupported kdf a object \(want "scrypt"\)$/);
  });
});

describe('names that are also Object.prototype properties', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('a PEM labelled "%s" is an unsupported private key, not a TypeError', async (label) => {
    const body = (await readFile(vec('extended', 'keys', 'import', 'validecp256.key'), 'utf8')).replace(/EC PRIVATE KEY/g, label);
    const run = (): unknown => parseImportablePrivateKey(body, 'odd.key');
    expect(run).toThrow(RelsignError);
    expect(run).toThrow(new RegExp(`^odd\\.key: unsupported private key: PEM type "${label}"`));
  });

  it.each(['constructor', 'toString', '__proto__'])('env://%s is "not set" when no such variable exists', async (name) => {
    await expect(readKeyRef(`env://${name}`, {})).rejects.toThrow(`env://${name}: environment variable ${name} is not set`);
    await expect(readKeyRef(`env://${name}`, process.env)).rejects.toThrow(`env://${name}: environment variable ${name} is not set`);
  });
});
