/**
 * docker_signs over `image` / `manifest` artifacts as the images stage registers
 * them (path = reference without digest, extra.digest, extra.pushed), against a
 * real registry: the builtin signer, and the cmd signer with `relsign sign`
 * standing in for `cosign` on PATH with GoReleaser's default arguments.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/oci/client.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, type Descriptor } from '../../src/oci/types.js';
import { generateKeyPair } from '../../src/sigstore/keys.js';
import { dockerSignStage } from '../../src/stages/sign/index.js';
import { CLI, runCli } from '../helpers/cli.js';
import { testContext } from '../helpers/context.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const PASSWORD = 'stage secret';
let reg: TestRegistry;
let client: RegistryClient;
let work: string;
let binDir: string;
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

beforeAll(async () => {
  reg = await startRegistry();
  client = new RegistryClient({ credentials: async () => undefined });
  work = await mkdtemp(join(tmpdir(), 'relsign-dsign-'));
  const pems = await generateKeyPair(PASSWORD);
  await writeFile(join(work, 'cosign.key'), pems.privateKeyPem);
  await writeFile(join(work, 'cosign.pub'), pems.publicKeyPem);
  // `cosign` on PATH is relsign's CLI: GoReleaser configs run unchanged.
  binDir = join(work, 'bin');
  await mkdir(binDir);
  await writeFile(join(binDir, 'cosign'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  await chmod(join(binDir, 'cosign'), 0o755);
}, 60_000);
afterAll(async () => {
  await reg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A two-platform image (two manifests + an index) pushed under `repository:tag`. */
async function pushMultiPlatform(repository: string, tag: string): Promise<{ images: Array<Omit<Descriptor, "platform"> & { platform: string }>; index: Descriptor }> {
  const repo = { registry: reg.host, repository };
  const images: Array<Omit<Descriptor, "platform"> & { platform: string }> = [];
  for (const arch of ['amd64', 'arm64']) {
    const layer = Buffer.from(`${repository} ${arch}`);
    const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
    await client.pushBlob(repo, { digest: sha(layer), size: layer.length }, () => layer);
    await client.pushBlob(repo, { digest: sha(config), size: config.length }, () => config);
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha(config), size: config.length }, layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha(layer), size: layer.length }] }));
    const { digest } = await client.putManifest(repo, digest0(m), m, OCI_MANIFEST);
    images.push({ mediaType: OCI_MANIFEST, digest, size: m.length, platform: `linux/${arch}` });
  }
  const idx = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: images.map((i) => ({ mediaType: i.mediaType, digest: i.digest, size: i.size, platform: { os: 'linux', architecture: i.platform.split('/')[1] } })) }),
  );
  const { digest } = await client.putManifest(repo, tag, idx, OCI_INDEX);
  return { images, index: { mediaType: OCI_INDEX, digest, size: idx.length } };
}
const digest0 = (b: Buffer): string => sha(b);

/** Registers the artifacts the images stage would. */
async function contextWith(dockerSigns: unknown[], repository: string, opts: { pushed?: boolean; withIndex?: boolean } = {}) {
  const pushed = await pushMultiPlatform(repository, '1.0.0');
  const { ctx, logs } = await testContext(work, { docker_signs: dockerSigns }, { env: { COSIGN_PASSWORD: PASSWORD, PATH: `${binDir}:${process.env.PATH}` }, version: '1.0.0' });
  const ref = `${reg.host}/${repository}:1.0.0`;
  const common = { repository: `${reg.host}/${repository}`, tags: ['1.0.0'], pushed: opts.pushed ?? true };
  for (const i of pushed.images) {
    ctx.artifacts.add({ type: 'image', name: ref, path: ref, id: 'app', os: 'linux', arch: i.platform.split('/')[1], extra: { digest: i.digest, ...common, platform: i.platform } });
  }
  if (opts.withIndex ?? true) ctx.artifacts.add({ type: 'manifest', name: ref, path: ref, id: 'app', extra: { digest: pushed.index.digest, ...common } });
  return { ctx, logs, ...pushed, ref };
}

const verify = (image: string, ...extra: string[]) => runCli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', ...extra, image], { cwd: work });
const sigLayers = async (repository: string, digest: string) =>
  (await client.getManifest({ registry: reg.host, repository }, `${digest.replace(':', '-')}.sig`))?.json.layers as Descriptor[] | undefined;

describe('docker_signs, builtin signer', () => {
  it('by default signs the index (not each platform image), by digest, with templated annotations', async () => {
    const { ctx, logs, images, index, ref } = await contextWith([{ key: 'cosign.key', annotations: { version: '{{ .Version }}', tool: 'relsign' } }], 'app-default');
    await dockerSignStage.run(ctx);
    expect(await sigLayers('app-default', index.digest)).toHaveLength(1);
    for (const i of images) expect(await sigLayers('app-default', i.digest)).toBeUndefined();
    expect(logs.text).toContain(`signed ${ref}@${index.digest} → ${index.digest.replace(':', '-')}.sig`);

    const ok = await verify(`${reg.host}/app-default@${index.digest}`, '-a', 'version=1.0.0', '-a', 'tool=relsign');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([
      {
        critical: { identity: { 'docker-reference': `${reg.host}/app-default` }, image: { 'docker-manifest-digest': index.digest }, type: 'cosign container image signature' },
        optional: { tool: 'relsign', version: '1.0.0' },
      },
    ]);
    // The tag resolves to the index, which is what was signed.
    expect((await verify(ref)).code).toBe(0);
    expect((await verify(`${reg.host}/app-default@${images[0]!.digest}`)).code).toBe(10);
  });

  it('with no index registered, the default is every image; a re-run adds no duplicate layer', async () => {
    const { ctx, images } = await contextWith([{ key: 'cosign.key' }], 'app-noindex', { withIndex: false });
    await dockerSignStage.run(ctx);
    await dockerSignStage.run(ctx);
    for (const i of images) {
      expect(await sigLayers('app-noindex', i.digest)).toHaveLength(1);
      expect((await verify(`${reg.host}/app-noindex@${i.digest}`)).code).toBe(0);
    }
  });

  it('artifacts: images, storage: both — each platform image gets a .sig layer and a referrer (fallback index), created = commit date', async () => {
    const { ctx, images, index } = await contextWith([{ key: 'cosign.key', artifacts: 'images', storage: 'both' }], 'app-both');
    await dockerSignStage.run(ctx);
    for (const i of images) {
      expect(await sigLayers('app-both', i.digest)).toHaveLength(1);
      const fallback = (await client.getManifest({ registry: reg.host, repository: 'app-both' }, i.digest.replace(':', '-')))?.json;
      expect(fallback.manifests).toHaveLength(1);
      expect(fallback.manifests[0].annotations['org.opencontainers.image.created']).toBe('2024-01-02T03:04:05Z');
      const ok = await verify(`${reg.host}/app-both@${i.digest}`);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toHaveLength(2);
    }
    expect((await verify(`${reg.host}/app-both@${index.digest}`)).code).toBe(10);
  });

  it('images that were not pushed (--snapshot) are skipped with one log line and no registry access', async () => {
    const { ctx, logs } = await testContext(work, { docker_signs: [{ key: 'cosign.key', artifacts: 'all' }] }, { env: { COSIGN_PASSWORD: PASSWORD } });
    // Port 1 on loopback: any attempt to reach it would fail the stage.
    for (const arch of ['amd64', 'arm64']) {
      ctx.artifacts.add({ type: 'image', name: '127.0.0.1:1/app:1.0.0', path: '127.0.0.1:1/app:1.0.0', extra: { digest: `sha256:${arch === 'amd64' ? 'a'.repeat(64) : 'b'.repeat(64)}`, pushed: false } });
    }
    await dockerSignStage.run(ctx);
    const lines = logs.text.split('\n').filter((l) => l.includes('not pushed'));
    expect(lines).toEqual([expect.stringContaining('docker_signs[0]: 2 image(s) not pushed, not signed: 127.0.0.1:1/app:1.0.0, 127.0.0.1:1/app:1.0.0')]);
  });

  it('a digest the registry does not have is a one-line error naming the entry', async () => {
    const { ctx } = await testContext(work, { docker_signs: [{ key: 'cosign.key', artifacts: 'images' }] }, { env: { COSIGN_PASSWORD: PASSWORD } });
    const gone = `sha256:${'c'.repeat(64)}`;
    ctx.artifacts.add({ type: 'image', name: `${reg.host}/ghost:1`, path: `${reg.host}/ghost:1`, extra: { digest: gone, pushed: true } });
    await expect(dockerSignStage.run(ctx)).rejects.toThrow(`docker_signs[0]: ${reg.host}/ghost:1@${gone} is not in the registry`);
  });
});

describe('docker_signs, cmd signer (cosign = relsign on PATH)', () => {
  it("GoReleaser's default docker_signs args, pasted unchanged, sign the index by digest", async () => {
    const { ctx, logs, index } = await contextWith([{ artifacts: 'manifests', cmd: 'cosign', args: ['sign', '--key=cosign.key', '${artifact}@${digest}', '--yes'] }], 'app-cmd');
    await dockerSignStage.run(ctx);
    expect(logs.text).toContain(`sign --key=cosign.key ${reg.host}/app-cmd:1.0.0@${index.digest} --yes`);
    expect(await sigLayers('app-cmd', index.digest)).toHaveLength(1);
    const ok = await verify(`${reg.host}/app-cmd:1.0.0`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`Verification for ${reg.host}/app-cmd@${index.digest} --`);
  });

  it('with no cmd and no args at all (the defaults are cosign and those args) it works the same', async () => {
    const { ctx, index } = await contextWith([{ artifacts: 'manifests' }], 'app-cmd-default');
    await dockerSignStage.run(ctx);
    expect((await verify(`${reg.host}/app-cmd-default@${index.digest}`)).code).toBe(0);
  });
});
