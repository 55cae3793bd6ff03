import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/pipeline/context.js';
import { runStages } from '../../src/pipeline/runner.js';
import { verifyBlob } from '../../src/sigstore/index.js';
import { signStage } from '../../src/stages/sign/index.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';

const KEY = join(REPO_ROOT, '../shared/vectors/cosign-keys/pemsigstorekey.key');
const PUB = join(REPO_ROOT, '../shared/vectors/cosign-keys/pemsigstorekey.pub');
let work: string | undefined;
afterEach(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  work = undefined;
});

async function withArtifacts(signs: unknown[], options: { snapshot?: boolean; skip?: string[]; env?: Record<string, string> } = {}): Promise<{ ctx: Context; logs: { text: string } }> {
  work = await mkdtemp(join(tmpdir(), 'relsign-builtin-'));
  const { ctx, logs } = await testContext(work, { signs }, {
    env: { COSIGN_PASSWORD: 'hello', ...options.env },
    options: { snapshot: options.snapshot ?? false, skip: new Set(options.skip ?? []) },
  });
  for (let i = 0; i < 12; i++) {
    const name = `demo_${i}.tar.gz`;
    await writeFile(join(ctx.distDir, name), `payload ${i}\n`.repeat(1000 + i));
    ctx.artifacts.add({ type: 'archive', name, path: join(ctx.distDir, name), id: 'default' });
  }
  await writeFile(join(ctx.distDir, 'checksums.txt'), 'sums\n');
  ctx.artifacts.add({ type: 'checksum', name: 'checksums.txt', path: join(ctx.distDir, 'checksums.txt') });
  return { ctx, logs };
}

describe('signs with signer: builtin (cosign-compatible, in-process)', () => {
  it('signs every archive and the checksum file with a cosign-made key; verify-blob accepts each, and rejects a tampered file', async () => {
    const { ctx, logs } = await withArtifacts([{ signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'all' }]);
    await signStage.run(ctx);
    const pub = await readFile(PUB, 'utf8');
    const sigs = ctx.artifacts.filter({ types: ['signature'] });
    expect(sigs).toHaveLength(13);
    for (const s of sigs) {
      const target = ctx.artifacts.list().find((a) => a.name === s.extra.signedArtifact)!;
      const sigText = await readFile(join(work!, s.path), 'utf8');
      expect(sigText).toMatch(/^[A-Za-z0-9+/]+=*$/); // base64 DER, no newline: as cosign --output-signature
      await expect(verifyBlob(join(work!, target.path), { publicKey: pub, signature: sigText, ignoreTlog: true })).resolves.toBeDefined();
    }
    // The key was decrypted once for all 13 artifacts.
    expect(logs.text.match(/using key /g)).toHaveLength(1);
    await writeFile(join(ctx.distDir, 'demo_0.tar.gz'), 'tampered');
    const sig0 = await readFile(join(ctx.distDir, 'demo_0.tar.gz.sig'), 'utf8');
    await expect(verifyBlob(join(ctx.distDir, 'demo_0.tar.gz'), { publicKey: pub, signature: sig0, ignoreTlog: true })).rejects.toThrow();
  });

  it('writes cosign legacy bundles and Sigstore v0.3 bundles, registered as bundle signatures', async () => {
    const { ctx } = await withArtifacts([
      { id: 'legacy', signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'checksum', signature: '', bundle: '$<artifact>.bundle' },
      { id: 'v03', signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'checksum', signature: '', bundle: '$<artifact>.sigstore.json', new_bundle_format: true },
    ]);
    await signStage.run(ctx);
    const pub = await readFile(PUB, 'utf8');
    const legacy = JSON.parse(await readFile(join(ctx.distDir, 'checksums.txt.bundle'), 'utf8'));
    expect(Object.keys(legacy)).toContain('base64Signature');
    const v03 = JSON.parse(await readFile(join(ctx.distDir, 'checksums.txt.sigstore.json'), 'utf8'));
    expect(v03.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    for (const f of ['checksums.txt.bundle', 'checksums.txt.sigstore.json']) {
      await expect(
        verifyBlob(join(ctx.distDir, 'checksums.txt'), { publicKey: pub, bundle: await readFile(join(ctx.distDir, f), 'utf8'), ignoreTlog: true }),
      ).resolves.toBeDefined();
    }
    const bundles = ctx.artifacts.filter({ types: ['signature'] });
    expect(bundles.map((b) => [b.name, b.id, b.extra.bundle])).toEqual([
      ['checksums.txt.bundle', 'legacy', true],
      ['checksums.txt.sigstore.json', 'v03', true],
    ]);
  });

  it('a real release refuses a missing key; a snapshot falls back to an ephemeral key', async () => {
    const missing = [{ signer: 'builtin', key: 'env://NO_SUCH_KEY_VAR', artifacts: 'checksum' }];
    const real = await withArtifacts(missing);
    await expect(signStage.run(real.ctx)).rejects.toThrow('signs[0].key: env://NO_SUCH_KEY_VAR: environment variable NO_SUCH_KEY_VAR is not set');
    await rm(work!, { recursive: true, force: true });
    const snap = await withArtifacts(missing, { snapshot: true });
    await signStage.run(snap.ctx);
    const pub = await readFile(join(snap.ctx.distDir, 'relsign-ephemeral.pub'), 'utf8');
    const sig = await readFile(join(snap.ctx.distDir, 'checksums.txt.sig'), 'utf8');
    await expect(verifyBlob(join(snap.ctx.distDir, 'checksums.txt'), { publicKey: pub, signature: sig, ignoreTlog: true })).resolves.toBeDefined();
    expect(snap.logs.text).toMatch(/snapshot signs with an ephemeral key/);
  });

  it('a missing password variable names the variable; a wrong password is one line', async () => {
    const a = await withArtifacts([{ signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'checksum', password: '{{ .Env.MY_KEY_PASS }}' }]);
    await expect(signStage.run(a.ctx)).rejects.toThrow('signs[0].password: environment variable MY_KEY_PASS is not set');
    await rm(work!, { recursive: true, force: true });
    const b = await withArtifacts([{ signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'checksum' }], { env: { COSIGN_PASSWORD: 'wrong-password' } });
    await expect(signStage.run(b.ctx)).rejects.toThrow(/^incorrect password for pemsigstorekey\.key$/);
    expect(b.logs.text).not.toContain('wrong-password');
  });

  it('--skip sign skips the stage', async () => {
    const { ctx } = await withArtifacts([{ signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'all' }], { skip: ['sign'] });
    const timings = await runStages(ctx, [signStage]);
    expect(timings).toEqual([{ name: 'sign', status: 'skipped', ms: 0, reason: '--skip sign' }]);
    expect(ctx.artifacts.filter({ types: ['signature'] })).toEqual([]);
  });

  it('signature names: the asset name comes from the artifact name, the file from its path', async () => {
    const { ctx } = await withArtifacts([{ signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'archive', ids: ['default'], signature: '{{ .ArtifactName }}.cosign.sig', parallelism: 1 }]);
    await signStage.run(ctx);
    const names = ctx.artifacts.filter({ types: ['signature'] }).map((s) => [s.name, s.path]);
    expect(names[0]).toEqual(['demo_0.tar.gz.cosign.sig', 'dist/demo_0.tar.gz.cosign.sig']);
    expect(names).toHaveLength(12);
  });
});

describe('re-runs', () => {
  it('signing the same file twice gives the same signature (RFC 6979), so a re-run keeps uploaded .sig assets', async () => {
    const first = await withArtifacts([{ signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'checksum' }]);
    await signStage.run(first.ctx);
    const a = await readFile(join(first.ctx.distDir, 'checksums.txt.sig'), 'utf8');
    await rm(join(first.ctx.distDir, 'checksums.txt.sig'));
    const second = await testContext(work!, { signs: [{ signer: 'builtin', key: KEY, tlog_upload: false, artifacts: 'checksum' }] }, { env: { COSIGN_PASSWORD: 'hello' } });
    second.ctx.artifacts.add({ type: 'checksum', name: 'checksums.txt', path: join(second.ctx.distDir, 'checksums.txt') });
    await signStage.run(second.ctx);
    expect(await readFile(join(second.ctx.distDir, 'checksums.txt.sig'), 'utf8')).toBe(a);
  });
});
