import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStage } from '../../src/stages/sign/index.js';
import { writeArtifactsJson } from '../../src/stages/metadata.js';
import type { Context } from '../../src/pipeline/context.js';
import { testContext } from '../helpers/context.js';

let gnupgHome: string;
let work: string;
/** Every work folder made, removed after the file (each test makes its own). */
const works: string[] = [];

beforeAll(async () => {
  gnupgHome = await mkdtemp(join(tmpdir(), 'relsign-gpg-'));
  await execa('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'relsign test <test@example.com>', 'ed25519', 'sign', 'never'], {
    env: { GNUPGHOME: gnupgHome },
  });
});
afterAll(async () => {
  await execa('gpgconf', ['--kill', 'all'], { env: { GNUPGHOME: gnupgHome }, reject: false });
  await rm(gnupgHome, { recursive: true, force: true });
  for (const dir of works) await rm(dir, { recursive: true, force: true });
});

/** A dist with two archives and a checksum file registered, as the earlier stages leave it. */
async function releaseDir(signs: unknown[], env: Record<string, string> = {}): Promise<Context> {
  work = await mkdtemp(join(tmpdir(), 'relsign-sign-'));
  works.push(work);
  const { ctx } = await testContext(work, { signs }, { env: { GNUPGHOME: gnupgHome, ...env } });
  for (const [name, os] of [['demo_1.0.0_linux_amd64.tar.gz', 'linux'], ['demo_1.0.0_windows_amd64.zip', 'windows']] as const) {
    await writeFile(join(ctx.distDir, name), `archive ${name}\n`);
    ctx.artifacts.add({ type: 'archive', name, path: join(ctx.distDir, name), id: 'default', os, arch: 'amd64' });
  }
  await writeFile(join(ctx.distDir, 'demo_1.0.0_checksums.txt'), 'abc  x\n');
  ctx.artifacts.add({ type: 'checksum', name: 'demo_1.0.0_checksums.txt', path: join(ctx.distDir, 'demo_1.0.0_checksums.txt') });
  return ctx;
}

describe('signs with cmd: GoReleaser configs work unmodified', () => {
  it("GoReleaser's default (cmd gpg, default args) signs the checksum file; gpg --verify accepts it", async () => {
    const ctx = await releaseDir([{ artifacts: 'checksum' }]);
    await signStage.run(ctx);
    const sig = join(ctx.distDir, 'demo_1.0.0_checksums.txt.sig');
    const v = await execa('gpg', ['--verify', sig, join(ctx.distDir, 'demo_1.0.0_checksums.txt')], { env: { GNUPGHOME: gnupgHome }, reject: false });
    expect(v.exitCode, v.stderr).toBe(0);
    expect(v.stderr).toContain('Good signature from "relsign test <test@example.com>"');
    const sigs = ctx.artifacts.filter({ types: ['signature'] });
    expect(sigs).toEqual([
      expect.objectContaining({ name: 'demo_1.0.0_checksums.txt.sig', path: 'dist/demo_1.0.0_checksums.txt.sig', id: 'default' }),
    ]);
  });

  it('the documented gpg form with $<…> variables signs every archive; a tampered file fails gpg --verify', async () => {
    const ctx = await releaseDir([
      { artifacts: 'archive', args: ['--batch', '--output', '$<signature>', '--detach-sign', '$<artifact>'], signature: '$<artifact>.asc' },
    ]);
    await signStage.run(ctx);
    for (const a of ctx.artifacts.filter({ types: ['archive'] })) {
      const ok = await execa('gpg', ['--verify', `${a.path}.asc`, a.path], { cwd: work, env: { GNUPGHOME: gnupgHome }, reject: false });
      expect(ok.exitCode, ok.stderr).toBe(0);
    }
    await writeFile(join(ctx.distDir, 'demo_1.0.0_linux_amd64.tar.gz'), 'tampered\n');
    const bad = await execa('gpg', ['--verify', 'dist/demo_1.0.0_linux_amd64.tar.gz.asc', 'dist/demo_1.0.0_linux_amd64.tar.gz'], { cwd: work, env: { GNUPGHOME: gnupgHome }, reject: false });
    expect(bad.exitCode).not.toBe(0);
    expect(ctx.artifacts.filter({ types: ['signature'] }).map((a) => a.name)).toEqual([
      'demo_1.0.0_linux_amd64.tar.gz.asc',
      'demo_1.0.0_windows_amd64.zip.asc',
    ]);
  });

  it('all: signs archives and checksums but never signatures; artifacts.json lists them', async () => {
    const ctx = await releaseDir([{ id: 'gpg', artifacts: 'all', args: ['--batch', '-o', '${signature}', '--detach-sig', '${artifact}'] }]);
    // A signature registered earlier must not be picked up by `all`.
    await writeFile(join(ctx.distDir, 'earlier.sig'), 'x');
    ctx.artifacts.add({ type: 'signature', name: 'earlier.sig', path: join(ctx.distDir, 'earlier.sig') });
    await signStage.run(ctx);
    await writeArtifactsJson(ctx);
    const json = JSON.parse(await readFile(join(ctx.distDir, 'artifacts.json'), 'utf8'));
    const sigNames = json.filter((a: { type: string }) => a.type === 'signature').map((a: { name: string }) => a.name).sort();
    expect(sigNames).toEqual([
      'demo_1.0.0_checksums.txt.sig',
      'demo_1.0.0_linux_amd64.tar.gz.sig',
      'demo_1.0.0_windows_amd64.zip.sig',
      'earlier.sig',
    ]);
    expect(json.find((a: { name: string }) => a.name === 'demo_1.0.0_checksums.txt.sig')).toMatchObject({ id: 'gpg', type: 'signature' });
  });

  it('stdin carries the passphrase and never reaches logs or errors', async () => {
    const pass = 'correct-horse-battery';
    const ctx = await releaseDir(
      [{ artifacts: 'checksum', cmd: 'sh', args: ['-c', 'printf "got " >&2; cat >&2; exit 7'], stdin: '{{ .Env.GPG_PASS }}', output: true }],
      { GPG_PASS: pass },
    );
    const err = await signStage.run(ctx).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^signs\[0\]: signing dist\/demo_1\.0\.0_checksums\.txt failed \(exit code 7\): sh -c/);
    const logText = (ctx.log as unknown as { stream: { text: string } }).stream.text;
    expect(logText).toContain('got [REDACTED]');
    expect(logText + (err as Error).message).not.toContain(pass);
  });
});

describe('signs with cmd: failures are clear', () => {
  it('a signer that exits 0 but writes no signature', async () => {
    const ctx = await releaseDir([{ artifacts: 'checksum', cmd: 'true', args: [] }]);
    await expect(signStage.run(ctx)).rejects.toThrow(
      /^signs\[0\]: true exited 0 but wrote no signature at dist\/demo_1\.0\.0_checksums\.txt\.sig \(for dist\/demo_1\.0\.0_checksums\.txt\); set signature: to the file your signer writes$/,
    );
  });

  it('a signer that writes an empty signature', async () => {
    const ctx = await releaseDir([{ artifacts: 'checksum', cmd: 'touch', args: ['$<signature>'] }]);
    await expect(signStage.run(ctx)).rejects.toThrow(/wrote an empty signature at dist\/demo_1\.0\.0_checksums\.txt\.sig/);
  });

  it('a certificate that was promised but not written', async () => {
    const ctx = await releaseDir([{ artifacts: 'checksum', cmd: 'cp', args: ['$<artifact>', '$<signature>'], certificate: '$<artifact>.pem' }]);
    await expect(signStage.run(ctx)).rejects.toThrow(/wrote no certificate at dist\/demo_1\.0\.0_checksums\.txt\.pem/);
  });

  it('a missing command', async () => {
    const ctx = await releaseDir([{ artifacts: 'checksum', cmd: 'no-such-signer-xyz' }]);
    await expect(signStage.run(ctx)).rejects.toThrow(/failed \(command not found: no-such-signer-xyz\)/);
  });

  it('a signature path outside dist', async () => {
    const ctx = await releaseDir([{ artifacts: 'checksum', cmd: 'true', signature: '../escape.sig' }]);
    await expect(signStage.run(ctx)).rejects.toThrow('signs[0].signature: "../escape.sig" is outside the dist folder');
  });

  it('if: false skips an artifact; ids filter by build id', async () => {
    const ctx = await releaseDir([
      { id: 'linux-only', artifacts: 'archive', cmd: 'cp', args: ['$<artifact>', '$<signature>'], if: '{{ eq .Os "linux" }}' },
    ]);
    await signStage.run(ctx);
    expect(ctx.artifacts.filter({ types: ['signature'] }).map((a) => a.name)).toEqual(['demo_1.0.0_linux_amd64.tar.gz.sig']);
    const files = await readdir(ctx.distDir);
    expect(files).not.toContain('demo_1.0.0_windows_amd64.zip.sig');
  });

  it('stdin_file feeds the signer; a missing stdin_file is named', async () => {
    const ctx = await releaseDir([{ artifacts: 'checksum', cmd: 'sh', args: ['-c', 'cat > "$signature"'], stdin_file: 'pass.txt' }]);
    await writeFile(join(work, 'pass.txt'), 'from-stdin-file\n');
    await signStage.run(ctx);
    expect(await readFile(join(ctx.distDir, 'demo_1.0.0_checksums.txt.sig'), 'utf8')).toBe('from-stdin-file\n');
    const missing = await releaseDir([{ artifacts: 'checksum', cmd: 'sh', args: ['-c', 'cat > "$signature"'], stdin_file: 'nope.txt' }]);
    await expect(signStage.run(missing)).rejects.toThrow('signs[0].stdin_file: cannot open nope.txt');
  });

  it('artifact variables are also in the signer environment', async () => {
    const ctx = await releaseDir([
      { artifacts: 'checksum', cmd: 'sh', args: ['-c', 'echo "$artifact|$artifactName|$signature" > "$signature"'] },
    ]);
    await signStage.run(ctx);
    const content = await readFile(join(ctx.distDir, 'demo_1.0.0_checksums.txt.sig'), 'utf8');
    expect(content.trim()).toBe('dist/demo_1.0.0_checksums.txt|demo_1.0.0_checksums.txt|dist/demo_1.0.0_checksums.txt.sig');
  });
});
