import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/client.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/oci/types.js';
import { REPO_ROOT, hasStackTrace, runCli } from '../helpers/cli.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * The example project's image (scratch base, linux/amd64 + linux/arm64),
 * released for real to a local docker-registry, pulled back by digest, and
 * rebuilt from a fresh clone: the same commit gives the same digests.
 */
const SOURCE_URL = 'https://github.com/example/hello.git';
let registry: TestRegistry;
let repo: TempRepo;
const ARGS = ['release', '--clean', '--skip', 'publish,sign', '--config', 'release.config.example.yaml'];

interface ArtifactJson {
  name: string;
  path: string;
  type: string;
  extra?: Record<string, any>;
}

async function artifacts(dir: string): Promise<ArtifactJson[]> {
  return JSON.parse(await readFile(join(dir, 'dist/artifacts.json'), 'utf8')) as ArtifactJson[];
}

beforeAll(async () => {
  registry = await startRegistry();
  repo = await TempRepo.create();
  await cp(join(REPO_ROOT, 'release.config.example.yaml'), join(repo.dir, 'release.config.example.yaml'));
  await cp(join(REPO_ROOT, 'fixtures/example'), join(repo.dir, 'fixtures/example'), { recursive: true });
  await repo.commit('feat: example');
  await repo.tag('v1.2.3');
  await repo.git('remote', 'add', 'origin', SOURCE_URL);
});
afterAll(async () => {
  await registry?.stop();
  await repo?.remove();
});

describe('images: the example project pushed to a real registry', () => {
  it('pushes the index, both platform manifests and every blob; the tag resolves to the index; a fresh clone rebuilds the same digests', async () => {
    const env = { RELSIGN_IMAGE_REPO: `${registry.host}/hello`, COSIGN_PRIVATE_KEY: undefined };
    const r = await runCli(ARGS, { cwd: repo.dir, env });
    expect(r.code, r.stderr).toBe(0);
    const arts = await artifacts(repo.dir);
    const index = arts.find((a) => a.type === 'manifest')!;
    const images = arts.filter((a) => a.type === 'image');
    expect(index).toMatchObject({ name: `${registry.host}/hello:1.2.3`, path: `${registry.host}/hello:1.2.3` });
    expect(index.extra).toMatchObject({ repository: `${registry.host}/hello`, tags: ['1.2.3'], layout: 'dist/images/hello', pushed: true, id: 'hello' });
    expect(images.map((i) => i.extra!.platform).sort()).toEqual(['linux/amd64', 'linux/arm64']);
    for (const i of images) expect(i.extra).toMatchObject({ pushed: true, repository: `${registry.host}/hello`, layout: 'dist/images/hello' });

    // Pull everything back by digest and compare with the layout, byte for byte.
    const client = new RegistryClient();
    const target = { registry: registry.host, repository: 'hello' };
    const layoutBlob = (digest: string) => readFile(join(repo.dir, 'dist/images/hello/blobs/sha256', digest.slice(7)));
    const idx = (await client.getManifest(target, index.extra!.digest))!;
    expect(idx.descriptor.mediaType).toBe(OCI_INDEX);
    expect(idx.bytes.equals(await layoutBlob(index.extra!.digest))).toBe(true);
    expect((await client.headManifest(target, '1.2.3'))!.digest).toBe(index.extra!.digest);
    expect(idx.json.manifests.map((m: any) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
    expect(idx.json.annotations['org.opencontainers.image.version']).toBe('1.2.3');
    expect(idx.json.annotations['org.opencontainers.image.revision']).toBe(await repo.git('rev-parse', 'HEAD'));
    expect(idx.json.annotations['org.opencontainers.image.created']).toBe('2024-01-02T03:04:05Z');
    expect(idx.json.annotations['org.opencontainers.image.source']).toBe(SOURCE_URL);
    for (const desc of idx.json.manifests) {
      expect(images.find((i) => i.extra!.digest === desc.digest)).toBeDefined();
      const m = (await client.getManifest(target, desc.digest))!;
      expect(m.descriptor.mediaType).toBe(OCI_MANIFEST);
      expect(m.bytes.equals(await layoutBlob(desc.digest))).toBe(true);
      for (const blob of [m.json.config, ...m.json.layers]) {
        const pulled = await client.getBlobBytes(target, blob.digest, 64 << 20);
        expect(pulled.equals(await layoutBlob(blob.digest))).toBe(true);
      }
      const config = JSON.parse((await client.getBlobBytes(target, m.json.config.digest)).toString());
      expect(config.architecture).toBe(desc.platform.architecture);
      expect(config.created).toBe('2024-01-02T03:04:05Z');
      expect(config.config.Entrypoint).toEqual(['/usr/local/bin/hello']);
      expect(config.rootfs.diff_ids).toHaveLength(1);
      expect(config.history).toEqual([{ created: '2024-01-02T03:04:05Z', created_by: 'relsign', comment: 'binaries and files' }]);
    }
    expect(await client.listTags(target)).toEqual(['1.2.3']);

    // Same commit, fresh clone elsewhere, --clean again: same digests; the registry already has every blob.
    const cloneDir = await mkdtemp(join(tmpdir(), 'relsign-clone-'));
    try {
      await execa('git', ['clone', '-q', repo.dir, cloneDir]);
      // The source annotation is the remote URL: give the clone the same one (as a CI checkout has).
      await execa('git', ['remote', 'set-url', 'origin', SOURCE_URL], { cwd: cloneDir });
      const again = await runCli(ARGS, { cwd: cloneDir, env: { ...env, TZ: 'Asia/Kathmandu' } });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/0 blobs uploaded, 0 mounted, \d+ already there/);
      const arts2 = await artifacts(cloneDir);
      const pick = (a: ArtifactJson[]) => a.filter((x) => x.type === 'image' || x.type === 'manifest').map((x) => [x.type, x.extra!.platform, x.extra!.digest]);
      expect(pick(arts2)).toEqual(pick(arts));
    } finally {
      await rm(cloneDir, { recursive: true, force: true });
    }
  });

  it('an unreachable registry fails in one line naming the image, in the preflight (before building)', async () => {
    const port = await freePort(); // nothing listens there
    const r = await runCli(ARGS, { cwd: repo.dir, env: { RELSIGN_IMAGE_REPO: `127.0.0.1:${port}/hello` } });
    expect(r.code).toBe(1);
    const last = r.stderr.trim().split('\n').pop()!;
    expect(last).toBe(`relsign: preflight: images[0]: registry 127.0.0.1:${port}: cannot connect (ECONNREFUSED)`);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('--skip docker skips the stage; --snapshot builds the layout but never pushes', async () => {
    const skipped = await runCli([...ARGS, '--skip', 'docker'], { cwd: repo.dir, env: { RELSIGN_IMAGE_REPO: '127.0.0.1:1/hello' } });
    expect(skipped.code, skipped.stderr).toBe(0);
    expect((await artifacts(repo.dir)).filter((a) => a.type === 'image')).toEqual([]);
    const snap = await runCli(['release', '--snapshot', '--clean', '--skip', 'sign', '--config', 'release.config.example.yaml'], {
      cwd: repo.dir,
      env: { RELSIGN_IMAGE_REPO: '127.0.0.1:1/hello' },
    });
    expect(snap.code, snap.stderr).toBe(0);
    const imgs = (await artifacts(repo.dir)).filter((a) => a.type === 'image');
    expect(imgs).toHaveLength(2);
    for (const i of imgs) expect(i.extra!.pushed).toBe(false);
  });
});
