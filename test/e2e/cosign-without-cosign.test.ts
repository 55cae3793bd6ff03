import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * A `.goreleaser.yaml` `signs:` section that runs cosign, pasted unchanged:
 * with no cosign on PATH relsign runs it in-process and writes the same
 * `.sig` files; with a cosign on PATH that program runs, with the exact argv
 * and stdin.
 */
const PASTED_SIGNS = `
signs:
  - cmd: cosign
    stdin: "{{ .Env.COSIGN_PASSWORD }}"
    args: ["sign-blob", "--key=env://COSIGN_PRIVATE_KEY", "--output-signature=\${signature}", "\${artifact}", "--yes"]
    artifacts: all
`;
const CONFIG = `version: 2
project_name: hello
builds:
  - id: hello
    dir: fixtures/example
    cmd: [node, scripts/build.mjs]
    targets: [linux_amd64, windows_amd64]
    binary: hello
archives:
  - id: hello
    formats: [tar.gz]
checksum:
  name_template: "checksums.txt"
${PASTED_SIGNS}`;

const PASSWORD = 'pasted-config-pass-77';
let keyDir: string;
let repo: TempRepo;
let bin: string;

beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'relsign-cosign-key-'));
  const gen = await runCli(['generate-key-pair'], { cwd: keyDir, env: { COSIGN_PASSWORD: PASSWORD } });
  expect(gen.code, gen.stderr).toBe(0);
  await execa('openssl', ['pkey', '-pubin', '-in', join(keyDir, 'cosign.pub'), '-out', join(keyDir, 'openssl.pub')]);
  repo = await TempRepo.create({ 'relsign.config.yaml': CONFIG, '.gitignore': 'dist/\n' });
  await cp(join(REPO_ROOT, 'fixtures/example'), join(repo.dir, 'fixtures/example'), { recursive: true });
  await repo.commit('initial');
  bin = await mkdtemp(join(tmpdir(), 'relsign-cosign-bin-'));
});
afterAll(async () => {
  await repo?.remove();
  for (const d of [keyDir, bin]) if (d) await rm(d, { recursive: true, force: true });
});

/** PATH with node and git but certainly no cosign (plus `extra` first). */
function pathWithout(extra?: string): string {
  const dirs = [dirname(process.execPath), '/usr/bin', '/bin'];
  return [extra, ...dirs].filter(Boolean).join(':');
}

async function env(extraPath?: string) {
  return {
    PATH: pathWithout(extraPath),
    COSIGN_PRIVATE_KEY: await readFile(join(keyDir, 'cosign.key'), 'utf8'),
    COSIGN_PASSWORD: PASSWORD,
  };
}

describe('cmd: cosign with no cosign on PATH', () => {
  it('runs the pasted section in-process; every .sig verifies with openssl and with relsign', async () => {
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: repo.dir, env: await env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/signs\[0\]: no cosign on PATH; running the cosign command in-process with relsign's built-in cosign/);
    expect(r.stderr).not.toContain(PASSWORD);
    const dist = join(repo.dir, 'dist');
    const sigs = (await readdir(dist)).filter((f) => f.endsWith('.sig')).sort();
    expect(sigs).toHaveLength(3);
    expect(sigs.join(' ')).toMatch(/^checksums\.txt\.sig hello_\S+_linux_amd64\.tar\.gz\.sig hello_\S+_windows_amd64\.tar\.gz\.sig$/);
    for (const sig of sigs) {
      const target = join(dist, sig.slice(0, -'.sig'.length));
      const text = await readFile(join(dist, sig), 'utf8');
      expect(text).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const der = join(bin, `${sig}.der`);
      await writeFile(der, Buffer.from(text, 'base64'));
      const o = await execa('openssl', ['dgst', '-sha256', '-verify', join(keyDir, 'openssl.pub'), '-signature', der, target], { reject: false });
      expect(o.stdout.trim(), o.stderr).toBe('Verified OK');
      const v = await runCli(['verify-blob', '--insecure-ignore-tlog', '--key', join(keyDir, 'cosign.pub'), '--signature', join(dist, sig), target]);
      expect(v.code, v.stderr).toBe(0);
    }
    // The key was decrypted once for the whole run.
    expect(r.stderr.match(/using key env:\/\/COSIGN_PRIVATE_KEY/g)).toHaveLength(1);
  }, 60_000);

  it('a wrong COSIGN_PASSWORD fails with one line naming the problem', async () => {
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: repo.dir, env: { ...(await env()), COSIGN_PASSWORD: 'wrong' } });
    expect(r.code).toBe(1);
    const last = r.stderr.trim().split('\n').pop()!;
    expect(last).toMatch(/^relsign: .*(password|decrypt)/i);
    expect(last).not.toContain('wrong');
  }, 60_000);
});

describe('cmd: cosign with a cosign on PATH', () => {
  it('runs that cosign with the exact argv and stdin', async () => {
    const record = join(bin, 'record');
    const stub = join(bin, 'cosign');
    await writeFile(
      stub,
      // Artifacts are signed concurrently: each call records into files of its own (by pid).
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${record}.$$.argv"\ncat > "${record}.$$.stdin"\nfor a in "$@"; do case "$a" in --output-signature=*) echo stub > "\${a#--output-signature=}";; esac; done\n`,
    );
    await chmod(stub, 0o755);
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: repo.dir, env: await env(bin) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/in-process/);
    const recorded = (await readdir(bin)).filter((f) => f.startsWith('record.'));
    const read = (ext: string) => Promise.all(recorded.filter((f) => f.endsWith(ext)).map((f) => readFile(join(bin, f), 'utf8')));
    const calls = (await read('.argv')).map((c) => c.trimEnd().split('\n'));
    // Two artifacts and the checksums file, then the release manifest (an external signer signs it as any file).
    expect(calls).toHaveLength(4);
    const manifestCall = calls.find((c) => c.some((a) => /_manifest\.json$/.test(a)))!;
    expect(manifestCall[0]).toBe('sign-blob');
    expect(manifestCall[2]).toMatch(/^--output-signature=dist\/.+_manifest\.json\.sig$/);
    expect(calls).toContainEqual([
      'sign-blob',
      '--key=env://COSIGN_PRIVATE_KEY',
      '--output-signature=dist/checksums.txt.sig',
      'dist/checksums.txt',
      '--yes',
    ]);
    const stdins = await read('.stdin');
    expect(stdins).toEqual([PASSWORD, PASSWORD, PASSWORD, PASSWORD]);
  }, 60_000);
});
