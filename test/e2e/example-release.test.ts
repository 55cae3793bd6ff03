import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CLI, REPO_ROOT, hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';
import { startSigstoreServices } from '../helpers/sigstore-services.js';

/**
 * The README's main command, end to end, in a fresh repository made of the
 * example config and fixture: build → archive → checksum → sign, then every
 * signature is checked by openssl and by relsign verify-blob.
 */
const VECTORS = join(REPO_ROOT, '../shared/vectors');
let repo: TempRepo;

async function freshExample(): Promise<TempRepo> {
  const r = await TempRepo.create();
  await cp(join(REPO_ROOT, 'release.config.example.yaml'), join(r.dir, 'release.config.example.yaml'));
  await cp(join(REPO_ROOT, 'fixtures/example'), join(r.dir, 'fixtures/example'), { recursive: true });
  await r.commit('feat: example');
  return r;
}

async function opensslVerify(pubPem: string, sigB64Path: string, file: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'relsign-ossl-'));
  try {
    await writeFile(join(dir, 'pub.pem'), pubPem);
    await writeFile(join(dir, 'sig.der'), Buffer.from((await readFile(sigB64Path, 'utf8')).trim(), 'base64'));
    const r = await execa('openssl', ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig.der'), file], { reject: false });
    expect(r.stdout.trim(), `${file}: ${r.stderr}`).toBe('Verified OK');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  repo = await freshExample();
});
afterAll(async () => {
  await repo?.remove();
});

describe('relsign release --snapshot --clean --config release.config.example.yaml', () => {
  it('with no key configured: signs with an ephemeral key; openssl and verify-blob accept every signature', async () => {
    const r = await runCli(['release', '--snapshot', '--clean', '--config', 'release.config.example.yaml'], {
      cwd: repo.dir,
      env: { COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ephemeral key/);
    const dist = join(repo.dir, 'dist');
    const files = (await readdir(dist)).sort();
    const signedTypes = ['archive', 'source', 'checksum'];
    const artifacts = JSON.parse(await readFile(join(dist, 'artifacts.json'), 'utf8')) as Array<{ name: string; path: string; type: string }>;
    const signed = artifacts.filter((a) => signedTypes.includes(a.type));
    expect(signed.map((a) => a.name).sort()).toEqual([
      'hello-' + signed.find((a) => a.type === 'source')!.name.slice(6),
      ...signed.filter((a) => a.type !== 'source').map((a) => a.name),
    ].sort());
    expect(signed.length).toBe(6); // 4 archives, source, checksums
    for (const a of signed) expect(files).toContain(`${a.name}.sig`);
    // signatures are never checksummed
    const sums = await readFile(join(dist, artifacts.find((a) => a.type === 'checksum')!.name), 'utf8');
    expect(sums).not.toMatch(/\.sig$/m);
    await execa('sha256sum', ['-c', '--strict', artifacts.find((a) => a.type === 'checksum')!.name], { cwd: dist });

    const pub = await readFile(join(dist, 'relsign-ephemeral.pub'), 'utf8');
    for (const a of signed) {
      await opensslVerify(pub, join(repo.dir, `${a.path}.sig`), join(repo.dir, a.path));
      const v = await runCli(['verify-blob', '--key', 'dist/relsign-ephemeral.pub', '--signature', `${a.path}.sig`, '--insecure-ignore-tlog', a.path], { cwd: repo.dir });
      expect(v.code, v.stderr).toBe(0);
      expect(v.stderr).toContain('Verified OK');
    }
    // the ephemeral private key is never written
    expect(files.filter((f) => f.endsWith('.key'))).toEqual([]);
  });

  it('with a key made by real cosign (env://COSIGN_PRIVATE_KEY): signatures verify against its cosign .pub; no secret in logs or dist', async () => {
    const keyPem = await readFile(join(VECTORS, 'cosign-keys/pemsigstorekey.key'), 'utf8');
    const pubPem = await readFile(join(VECTORS, 'cosign-keys/pemsigstorekey.pub'), 'utf8');
    // The vector's password is "hello", the example's project name: rename the
    // project so that redacting the password cannot touch artifact names.
    const example = await readFile(join(repo.dir, 'release.config.example.yaml'), 'utf8');
    await writeFile(join(repo.dir, 'renamed.yaml'), example.replace('project_name: hello', 'project_name: greeter'));
    const r = await runCli(['release', '--snapshot', '--clean', '--config', 'renamed.yaml', '--verbose'], {
      cwd: repo.dir,
      env: { COSIGN_PRIVATE_KEY: keyPem, COSIGN_PASSWORD: 'hello' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/ephemeral/);
    const dist = join(repo.dir, 'dist');
    const artifacts = JSON.parse(await readFile(join(dist, 'artifacts.json'), 'utf8')) as Array<{ name: string; path: string; type: string; extra?: Record<string, unknown> }>;
    const sigs = artifacts.filter((a) => a.type === 'signature' && a.extra?.releaseManifest !== true);
    expect(sigs).toHaveLength(6);
    // The release manifest's bundle: a DSSE signature over the manifest's exact bytes, by the same key.
    const manifest = artifacts.find((a) => a.type === 'file' && a.extra?.releaseManifest === true)!;
    expect(manifest.name).toMatch(/^greeter_0\.0\.0-SNAPSHOT-[0-9a-f]+_manifest\.json$/);
    const bundle = JSON.parse(await readFile(join(dist, `${manifest.name}.sigstore.json`), 'utf8'));
    const manifestBytes = await readFile(join(dist, manifest.name));
    expect(Buffer.from(bundle.dsseEnvelope.payload, 'base64').equals(manifestBytes)).toBe(true);
    const paeFile = join(dist, 'manifest.pae');
    await writeFile(paeFile, Buffer.concat([Buffer.from(`DSSEv1 28 application/vnd.in-toto+json ${manifestBytes.length} `), manifestBytes]));
    const sigFile = join(dist, 'manifest.sig.b64');
    await writeFile(sigFile, bundle.dsseEnvelope.signatures[0].sig);
    await opensslVerify(pubPem, sigFile, paeFile);
    await rm(paeFile);
    await rm(sigFile);
    for (const s of sigs) {
      const target = artifacts.find((a) => a.name === s.extra!.signedArtifact)!;
      await opensslVerify(pubPem, join(repo.dir, s.path), join(repo.dir, target.path));
    }
    // secrets: the password and any line of the private key appear nowhere
    const keyLines = keyPem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    const everything = r.stdout + r.stderr + (await Promise.all((await readdir(dist)).filter((f) => /\.(json|yaml|md)$/.test(f)).map((f) => readFile(join(dist, f), 'utf8')))).join('\n');
    for (const line of keyLines) expect(everything).not.toContain(line);
    expect(everything).not.toMatch(/\bhello\b/);
    await rm(join(repo.dir, 'renamed.yaml'));
  });

  it('a wrong key password fails in one line and leaves no signature', async () => {
    const keyPem = await readFile(join(VECTORS, 'cosign-keys/pemsigstorekey.key'), 'utf8');
    const r = await runCli(['release', '--snapshot', '--clean', '--config', 'release.config.example.yaml'], {
      cwd: repo.dir,
      env: { COSIGN_PRIVATE_KEY: keyPem, COSIGN_PASSWORD: 'not-the-password' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toBe('relsign: incorrect password for env://COSIGN_PRIVATE_KEY');
    expect(r.stderr).not.toContain('not-the-password');
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect((await readdir(join(repo.dir, 'dist'))).filter((f) => f.endsWith('.sig'))).toEqual([]);
  });

  it("a GoReleaser cosign signs section, pasted unmodified, runs with relsign sign-blob standing in for cosign", async () => {
    const services = await startSigstoreServices();
    onTestFinished(() => services.stop());
    // cosign itself is not installed here: a `cosign` on PATH that is relsign.
    const shimDir = await mkdtemp(join(tmpdir(), 'relsign-shim-'));
    await writeFile(join(shimDir, 'cosign'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(join(shimDir, 'cosign'), 0o755);
    const keyDir = await mkdtemp(join(tmpdir(), 'relsign-key-'));
    const gen = await runCli(['generate-key-pair'], { cwd: keyDir, env: { COSIGN_PASSWORD: 'pw-for-test' } });
    expect(gen.code, gen.stderr).toBe(0);
    await cp(join(keyDir, 'cosign.key'), join(repo.dir, 'cosign.key'));
    const config = (await readFile(join(repo.dir, 'release.config.example.yaml'), 'utf8')).replace(
      /signs:[\s\S]*?\n\n/,
      [
        'signs:',
        '  - cmd: cosign',
        '    stdin: "{{ .Env.COSIGN_PASSWORD }}"',
        '    args: ["sign-blob", "--key=cosign.key", "--output-signature=${signature}", "${artifact}", "--yes"]',
        '    artifacts: checksum',
        '',
        '',
      ].join('\n'),
    );
    await writeFile(join(repo.dir, 'goreleaser-style.yaml'), config);
    try {
      // cosign's args upload to Rekor (--yes): RELSIGN_REKOR_URL points them at a local log.
      const r = await runCli(['release', '--snapshot', '--clean', '--config', 'goreleaser-style.yaml'], {
        cwd: repo.dir,
        env: { COSIGN_PASSWORD: 'pw-for-test', PATH: `${shimDir}:${process.env.PATH}`, RELSIGN_REKOR_URL: services.rekorURL },
      });
      // The checksums file, and the release manifest (a cosign on PATH is an external signer: it signs the manifest as any file).
      expect(services.requests.rekor).toBe(2);
      expect(r.code, r.stderr).toBe(0);
      const dist = join(repo.dir, 'dist');
      const manifest = (await readdir(dist)).find((f) => f.endsWith('_manifest.json'))!;
      await opensslVerify(await readFile(join(keyDir, 'cosign.pub'), 'utf8'), join(dist, `${manifest}.sig`), join(dist, manifest));
      const sums = (await readdir(dist)).find((f) => f.endsWith('_checksums.txt'))!;
      const v = await runCli(['verify-blob', '--key', join(keyDir, 'cosign.pub'), '--signature', `dist/${sums}.sig`, '--insecure-ignore-tlog', `dist/${sums}`], { cwd: repo.dir });
      expect(v.code, v.stderr).toBe(0);
      await opensslVerify(await readFile(join(keyDir, 'cosign.pub'), 'utf8'), join(dist, `${sums}.sig`), join(dist, sums));
    } finally {
      await rm(join(repo.dir, 'cosign.key'), { force: true });
      await rm(join(repo.dir, 'goreleaser-style.yaml'), { force: true });
      await rm(shimDir, { recursive: true, force: true });
      await rm(keyDir, { recursive: true, force: true });
    }
  });
});
