/**
 * The four commands, run as users run them: `node bin/relsign.js …` (the compiled
 * CLI; `npm test` builds first). Exit codes, one-line stderr without stack traces,
 * and passwords never shown.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, hasStackTrace, runCli } from '../helpers/cli.js';
import { decryptPrivateKeyPem, publicKeyPem } from '../../src/sigstore/index.js';
import { Scratch, vec } from './helpers.js';

const PASSWORD = 'Tr0ub4dor&3-unique-marker';
const scratch = new Scratch();
let dir: string;
let artifact: string;
beforeAll(async () => {
  dir = await scratch.dir();
  artifact = join(dir, 'app_1.0.0_linux_amd64.tar.gz');
  await writeFile(artifact, Buffer.alloc(2_000_000, 0x5a));
});
afterAll(() => scratch.cleanup());

const noPassword = { COSIGN_PASSWORD: undefined };
const withPassword = (pw = PASSWORD) => ({ COSIGN_PASSWORD: pw });

function expectOneLineError(r: { code: number; stdout: string; stderr: string }, code: number, message: string | RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  if (typeof message === 'string') expect(lines[0]).toBe(message);
  else expect(lines[0]).toMatch(message);
  expect(hasStackTrace(r.stderr)).toBe(false);
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
}

describe('start-up and help', () => {
  it('--version prints the package version with the signing commands registered', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.stderr).toBe('');
  });
  it.each(['generate-key-pair', 'import-key-pair', 'sign-blob', 'verify-blob'])('%s --help', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: relsign ${cmd}`);
  });
});

describe('generate-key-pair', () => {
  it('writes cosign.key (0600) and cosign.pub (0644) with COSIGN_PASSWORD; refuses to overwrite without --force', async () => {
    const cwd = await scratch.dir();
    const r = await runCli(['generate-key-pair'], { cwd, env: withPassword() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('Private key written to cosign.key\nPublic key written to cosign.pub');
    expect(r.stdout).toBe('');
    expect(((await stat(join(cwd, 'cosign.key'))).mode & 0o777).toString(8)).toBe('600');
    expect(((await stat(join(cwd, 'cosign.pub'))).mode & 0o777).toString(8)).toBe('644');
    const keyText = await readFile(join(cwd, 'cosign.key'), 'utf8');
    expect(keyText).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    expect(publicKeyPem(await decryptPrivateKeyPem(keyText, PASSWORD))).toBe(await readFile(join(cwd, 'cosign.pub'), 'utf8'));

    const again = await runCli(['generate-key-pair'], { cwd, env: withPassword() });
    expectOneLineError(again, 1, 'relsign: cosign.key already exists; pass --force to overwrite it');
    expect(await readFile(join(cwd, 'cosign.key'), 'utf8')).toBe(keyText);

    const forced = await runCli(['generate-key-pair', '--force'], { cwd, env: withPassword('') });
    expect(forced.code).toBe(0);
    await expect(decryptPrivateKeyPem(await readFile(join(cwd, 'cosign.key'), 'utf8'), '')).resolves.toBeDefined();
  });

  it('--output-key-prefix, and an existing .pub alone also blocks', async () => {
    const cwd = await scratch.dir();
    await writeFile(join(cwd, 'release.pub'), 'x');
    expectOneLineError(await runCli(['generate-key-pair', '--output-key-prefix', 'release'], { cwd, env: withPassword() }), 1, 'relsign: release.pub already exists; pass --force to overwrite it');
    const r = await runCli(['generate-key-pair', '--output-key-prefix', 'keys/release'], { cwd, env: withPassword() });
    expectOneLineError(r, 1, 'relsign: cannot write keys/release.key: no such directory');
  });

  it('no TTY and no COSIGN_PASSWORD: a clear error, no files', async () => {
    const cwd = await scratch.dir();
    const r = await runCli(['generate-key-pair'], { cwd, env: noPassword });
    expectOneLineError(r, 1, 'relsign: no password: set COSIGN_PASSWORD (it may be empty) or run in a terminal to be prompted');
    await expect(stat(join(cwd, 'cosign.key'))).rejects.toThrow();
  });
});

describe('import-key-pair', () => {
  it('imports a P-256 SEC1 key (import-cosign.key / .pub by default)', async () => {
    const cwd = await scratch.dir();
    const r = await runCli(['import-key-pair', '--key', vec('extended', 'keys', 'import', 'validecp256.key')], { cwd, env: withPassword() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('Private key written to import-cosign.key\nPublic key written to import-cosign.pub');
    // validecp256 is the same key as cosign's pemcosigneckey test key.
    expect(await readFile(join(cwd, 'import-cosign.pub'), 'utf8')).toBe(await readFile(vec('cosign-keys', 'pemcosigneckey.pub'), 'utf8'));
  });
  it.each([
    ['invalidecp224', 'relsign: invalidecp224.key: unsupported elliptic curve P-224 (want P-256, P-384 or P-521)'],
    ['invalidrsasmallkey', 'relsign: invalidrsasmallkey.key: unsupported RSA key size 1024 bits (want 2048, 3072 or 4096)'],
    ['invalidrsawithpubkey', /^relsign: invalidrsawithpubkey\.key: unsupported private key: PEM type "PUBLIC KEY"/],
  ])('refuses %s', async (name, msg) => {
    const cwd = await scratch.dir();
    expectOneLineError(await runCli(['import-key-pair', '--key', vec('extended', 'keys', 'import', `${name}.key`)], { cwd, env: withPassword() }), 1, msg);
  });
  it('--key is required', async () => {
    expectOneLineError(await runCli(['import-key-pair'], { env: withPassword() }), 2, "relsign: required option '-k, --key <file>' not specified");
  });
});

describe('sign-blob and verify-blob', () => {
  let keyDir: string;
  let key: string;
  let pub: string;
  beforeAll(async () => {
    keyDir = await scratch.dir();
    expect((await runCli(['generate-key-pair'], { cwd: keyDir, env: withPassword() })).code).toBe(0);
    key = join(keyDir, 'cosign.key');
    pub = join(keyDir, 'cosign.pub');
  });

  it('prints the base64 signature on stdout and a one-line tlog notice; openssl verifies it', async () => {
    const r = await runCli(['sign-blob', '--key', key, artifact], { env: withPassword() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ME[QUY]C[A-Za-z0-9+/]+=*$/);
    expect(r.stderr).toBe('relsign: note: not uploaded to a transparency log (Rekor upload is not implemented yet); pass --tlog-upload=false to silence this');
    const sig = join(dir, 'cli.der');
    await writeFile(sig, Buffer.from(r.stdout, 'base64'));
    const o = await execa('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sig, artifact]);
    expect(o.stdout).toBe('Verified OK');
    const v = await runCli(['verify-blob', '--key', pub, '--signature', r.stdout, '--insecure-ignore-tlog', artifact]);
    expect(v).toMatchObject({ code: 0, stdout: '', stderr: 'Verified OK' });
  });

  it('--output-signature, --bundle (legacy), --tlog-upload=false, --yes; verify each', async () => {
    const out = await scratch.dir();
    const r = await runCli(
      ['sign-blob', '--yes', '--key', key, '--tlog-upload=false', '--output-signature', join(out, 'a.sig'), '--bundle', join(out, 'a.bundle'), artifact],
      { env: withPassword() },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`Wrote bundle to file ${join(out, 'a.bundle')}\nWrote signature to file ${join(out, 'a.sig')}`);
    expect(await readFile(join(out, 'a.sig'), 'utf8')).toMatch(/^ME[QUY]C[A-Za-z0-9+/]+=*$/);
    const legacy = JSON.parse(await readFile(join(out, 'a.bundle'), 'utf8')) as Record<string, string>;
    expect(Object.keys(legacy)).toEqual(['base64Signature', 'cert']);
    expect(Buffer.from(legacy.cert!, 'base64').toString()).toBe(await readFile(pub, 'utf8'));
    for (const how of [['--signature', join(out, 'a.sig')], ['--bundle', join(out, 'a.bundle')]]) {
      expect(await runCli(['verify-blob', '--key', pub, ...how, '--insecure-ignore-tlog=true', artifact])).toMatchObject({ code: 0, stderr: 'Verified OK' });
    }
  });

  it('--new-bundle-format writes only the v0.3 bundle; env:// keys work for both sides', async () => {
    const out = await scratch.dir();
    const env = { ...withPassword(), SIGNING_KEY: await readFile(key, 'utf8'), VERIFY_KEY: await readFile(pub, 'utf8') };
    const r = await runCli(['sign-blob', '--key', 'env://SIGNING_KEY', '--new-bundle-format', '--bundle', join(out, 'b.json'), '--tlog-upload=false', artifact], { env });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: `Wrote bundle to file ${join(out, 'b.json')}` });
    const b = JSON.parse(await readFile(join(out, 'b.json'), 'utf8')) as { mediaType: string; messageSignature: { messageDigest: { algorithm: string } } };
    expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(b.messageSignature.messageDigest.algorithm).toBe('SHA2_256');
    expect(await runCli(['verify-blob', '--key', 'env://VERIFY_KEY', '--bundle', join(out, 'b.json'), '--insecure-ignore-tlog', artifact], { env })).toMatchObject({
      code: 0,
      stderr: 'Verified OK',
    });
    expectOneLineError(await runCli(['sign-blob', '--key', key, '--new-bundle-format', artifact], { env }), 2, 'relsign: must specify --bundle with --new-bundle-format');
  });

  it('wrong password: exactly one line naming the key file, exit 1, password not shown', async () => {
    const r = await runCli(['sign-blob', '--key', key, artifact], { env: withPassword(`${PASSWORD}-wrong`) });
    expectOneLineError(r, 1, 'relsign: incorrect password for cosign.key');
    expect(r.stderr).not.toContain('-wrong');
    const env = { COSIGN_PASSWORD: 'nope', K: await readFile(vec('cosign-keys', 'pemcosignkey.key'), 'utf8') };
    expectOneLineError(await runCli(['sign-blob', '--key', 'env://K', artifact], { env }), 1, 'relsign: incorrect password for env://K');
  });

  it('vector keys sign from the CLI (cosign-written key files)', async () => {
    const r = await runCli(['sign-blob', '--key', vec('cosign-keys', 'pemcosignkey.key'), '--tlog-upload=false', artifact], { env: withPassword('hello') });
    expect(r.code).toBe(0);
    const v = await runCli(['verify-blob', '--key', vec('cosign-keys', 'pemcosignkey.pub'), '--signature', r.stdout, '--insecure-ignore-tlog', artifact]);
    expect(v.code).toBe(0);
  });

  it('signs stdin ("-"), streamed', async () => {
    const r = await runCli(['sign-blob', '--key', key, '--tlog-upload=false', '-'], { env: withPassword(), input: 'release notes via stdin\n' });
    expect(r.code, r.stderr).toBe(0);
    const f = join(dir, 'stdin-copy.txt');
    await writeFile(f, 'release notes via stdin\n');
    expect(await runCli(['verify-blob', '--key', pub, '--signature', r.stdout, '--insecure-ignore-tlog', f])).toMatchObject({ code: 0, stderr: 'Verified OK' });
  });

  it('sign-blob errors: no key, missing file, no password, unreadable key, bad flag values', async () => {
    expectOneLineError(await runCli(['sign-blob', artifact], { env: withPassword() }), 2, 'relsign: sign-blob: --key is required (keyless signing is not supported yet)');
    expectOneLineError(await runCli(['sign-blob', '--key', key, join(dir, 'nope.bin')], { env: withPassword() }), 1, `relsign: cannot read ${join(dir, 'nope.bin')}: no such file`);
    expectOneLineError(await runCli(['sign-blob', '--key', key, artifact], { env: noPassword }), 1, /^relsign: no password: set COSIGN_PASSWORD/);
    expectOneLineError(await runCli(['sign-blob', '--key', pub, artifact], { env: withPassword() }), 1, /^relsign: cosign\.pub: unsupported PEM type "PUBLIC KEY".*this is a public key/);
    expectOneLineError(await runCli(['sign-blob', '--key', key, '--tlog-upload=maybe', artifact], { env: withPassword() }), 2, /^relsign: --tlog-upload: invalid boolean "maybe"/);
    expectOneLineError(await runCli(['sign-blob', '--key', key, dir], { env: withPassword() }), 1, `relsign: cannot read ${dir}: is a directory`);
  });

  it('verify-blob failures: tampered file, another key, malformed signature, digest mismatch, no tlog', async () => {
    const out = await scratch.dir();
    const sign = await runCli(['sign-blob', '--key', key, '--tlog-upload=false', '--bundle', join(out, 'n.json'), '--new-bundle-format', '--output-signature', join(out, 'n.sig'), artifact], { env: withPassword() });
    expect(sign.code, sign.stderr).toBe(0);
    const tampered = join(out, 'tampered.tar.gz');
    const data = await readFile(artifact);
    data[1000]! ^= 0x01;
    await writeFile(tampered, data);
    const otherKeyDir = await scratch.dir();
    await runCli(['generate-key-pair'], { cwd: otherKeyDir, env: withPassword() });
    const otherPub = join(otherKeyDir, 'cosign.pub');
    await writeFile(join(out, 'bad.sig'), 'MEUCIQDnotreallyasignature==');

    const v = (args: string[]) => runCli(['verify-blob', ...args, '--insecure-ignore-tlog']);
    expectOneLineError(await v(['--key', pub, '--signature', join(out, 'n.sig'), tampered]), 1, `relsign: invalid signature: ${tampered} was not signed by cosign.pub, or was modified after signing`);
    expectOneLineError(await v(['--key', otherPub, '--signature', join(out, 'n.sig'), artifact]), 1, `relsign: invalid signature: ${artifact} was not signed by cosign.pub, or was modified after signing`);
    expectOneLineError(await v(['--key', pub, '--signature', join(out, 'bad.sig'), artifact]), 1, /^relsign: malformed signature: /);
    expectOneLineError(await v(['--key', pub, '--bundle', join(out, 'n.json'), tampered]), 1, /^relsign: bundle digest mismatch: .* has sha256 [0-9a-f]{64}, the bundle signed [0-9a-f]{64}$/);
    expectOneLineError(await v(['--key', otherPub, '--bundle', join(out, 'n.json'), artifact]), 1, "relsign: invalid signature: the bundle's signature does not verify with cosign.pub (its key hint names another key)");
    expectOneLineError(await v(['--key', pub, '--signature', join(out, 'missing.sig'), artifact]), 1, `relsign: cannot read ${join(out, 'missing.sig')}: no such file`);
    expectOneLineError(await v(['--key', pub, '--signature', 'x', '--bundle', 'y', artifact]), 2, 'relsign: verify-blob: use either --signature or --bundle, not both');
    expectOneLineError(await v(['--key', pub, artifact]), 2, 'relsign: verify-blob: --signature or --bundle is required');
    expectOneLineError(await v(['--key', key, '--signature', join(out, 'n.sig'), artifact]), 1, 'relsign: cosign.key: this is a private key; verify with the public key (e.g. cosign.pub)');
    expectOneLineError(
      await runCli(['verify-blob', '--key', pub, '--signature', join(out, 'n.sig'), artifact]),
      1,
      'relsign: no transparency-log entry to verify (relsign does not upload to Rekor yet); pass --insecure-ignore-tlog to check the signature against the key only',
    );
  });
});

describe('password prompt on a terminal (python3 pty)', () => {
  const tty = async (args: string[], answers: string[], cwd: string, env: Record<string, string> = {}) => {
    const { stdout } = await execa('python3', [fileURLToPath(new URL('./tty-driver.py', import.meta.url)), JSON.stringify([process.execPath, CLI, ...args]), JSON.stringify(answers), JSON.stringify(env)], { cwd });
    return JSON.parse(stdout) as { status: number; output: string };
  };

  it('generate-key-pair asks twice without echo; sign-blob asks once', async () => {
    const cwd = await scratch.dir();
    const g = await tty(['generate-key-pair'], [`${PASSWORD}\r`, `${PASSWORD}\r`], cwd);
    expect(g.status, g.output).toBe(0);
    expect(g.output).toContain('Enter password for private key: ');
    expect(g.output).toContain('Enter password for private key again: ');
    expect(g.output).not.toContain(PASSWORD);
    expect(publicKeyPem(await decryptPrivateKeyPem(await readFile(join(cwd, 'cosign.key'), 'utf8'), PASSWORD))).toBe(await readFile(join(cwd, 'cosign.pub'), 'utf8'));

    const s = await tty(['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', '--output-signature', 'x.sig', artifact], [`${PASSWORD}\r`], cwd);
    expect(s.status, s.output).toBe(0);
    expect(s.output.match(/Enter password for private key/g)).toHaveLength(1);
    expect(s.output).not.toContain(PASSWORD);

    const wrong = await tty(['sign-blob', '--key', 'cosign.key', artifact], ['not-it\r'], cwd);
    expect(wrong.status).toBe(1);
    expect(wrong.output).toContain('relsign: incorrect password for cosign.key');
    expect(wrong.output).not.toContain('not-it');
  });

  it('mismatched confirmation and backspace editing', async () => {
    const cwd = await scratch.dir();
    const m = await tty(['generate-key-pair'], ['one\r', 'two\r'], cwd);
    expect(m.status).toBe(1);
    expect(m.output).toContain('relsign: passwords do not match');
    // "abX<DEL>c" is "abc"
    const b = await tty(['generate-key-pair'], ['abX\x7fc\r', 'abc\r'], cwd);
    expect(b.status, b.output).toBe(0);
    await expect(decryptPrivateKeyPem(await readFile(join(cwd, 'cosign.key'), 'utf8'), 'abc')).resolves.toBeDefined();
  });
});
