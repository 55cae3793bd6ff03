import { createServer, request, type Server } from 'node:http';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { RegistryClient } from '../../src/oci/client.js';
import { OCI_INDEX } from '../../src/oci/types.js';
import type { Context } from '../../src/pipeline/context.js';
import { imagesStage } from '../../src/stages/images.js';
import { releaseBody } from '../../src/stages/release.js';
import { testContext } from '../helpers/context.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * The images stage against real registries: a base image built by relsign
 * itself, mounts and cross-registry copies of base layers, and the ways a
 * push can fail (bad password, a registry refusing the index) without ever
 * leaving a tag behind.
 */
let registry: TestRegistry;
const dirs: string[] = [];

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => {
  await registry?.stop();
});
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A project folder with a fake build output per platform (real files, registered as binary artifacts). */
async function project(
  images: Array<Record<string, unknown>>,
  opts: { targets?: string[]; files?: Record<string, string>; env?: Record<string, string>; snapshot?: boolean } = {},
): Promise<{ ctx: Context; logs: { text: string }; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'relsign-images-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(opts.files ?? {})) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  const { ctx, logs } = await testContext(dir, { project_name: 'app', images }, { env: opts.env ?? {}, options: { snapshot: opts.snapshot ?? false } });
  for (const target of opts.targets ?? ['linux_amd64', 'linux_arm64']) {
    const [os, arch, arm] = target.split('_') as [string, string, string?];
    const path = join(dir, 'dist', `app_${target}`, 'app');
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, `#!/bin/sh\necho app for ${target}\n`);
    await chmod(path, 0o755);
    ctx.artifacts.add({ type: 'binary', name: 'app', path, id: 'app', os, arch, ...(arm ? { arm } : {}), target, extra: { binary: 'app' } });
  }
  return { ctx, logs, dir };
}

function imagesOf(ctx: Context) {
  return ctx.artifacts.filter({ types: ['image', 'manifest'] });
}

describe('images stage: base images', () => {
  const baseRef = () => `${registry.host}/base:1`;

  beforeAll(async () => {
    // A two-platform base, built by relsign from scratch: one file, an env var, a label, a cmd.
    const { ctx } = await project(
      [
        {
          id: 'base',
          repository: `${registry.host}/base`,
          tags: ['1'],
          platforms: ['linux/amd64', 'linux/arm64'],
          files: [{ src: 'base.txt', dst: '/etc/base.txt' }],
          env: ['BASE_VAR=from-base', 'SHARED=base'],
          labels: { 'org.example.base': 'yes', 'org.example.which': 'base' },
          cmd: ['--base-arg'],
        },
      ],
      { targets: [], files: { 'base.txt': 'base layer\n' } },
    );
    await imagesStage.run(ctx);
  });

  it('keeps the base layers, diff_ids, env and labels, adds ours; base layers are mounted in the same registry', async () => {
    const { ctx, logs } = await project([
      {
        id: 'app',
        repository: `${registry.host}/app-on-base`,
        base: baseRef(),
        platforms: ['linux/amd64', 'linux/arm64'],
        env: ['APP_VAR=app', 'SHARED=app'],
        labels: { 'org.example.which': 'app' },
      },
    ]);
    await imagesStage.run(ctx);
    // Two configs and two layers of ours; the base's one layer (the same for both platforms: files only) is mounted.
    expect(logs.text).toMatch(/app-on-base: 4 blobs uploaded, 1 mounted, 0 already there/);
    const client = new RegistryClient();
    const base = { registry: registry.host, repository: 'base' };
    const app = { registry: registry.host, repository: 'app-on-base' };
    const baseIndex = (await client.getManifest(base, '1'))!;
    const appIndex = (await client.getManifest(app, '1.0.0'))!;
    expect(appIndex.json.mediaType).toBe(OCI_INDEX);
    expect(appIndex.json.annotations['org.opencontainers.image.base.name']).toBe(`${registry.host}/base:1`);
    expect(appIndex.json.annotations['org.opencontainers.image.base.digest']).toBe(baseIndex.descriptor.digest);
    for (const [k, desc] of appIndex.json.manifests.entries()) {
      const baseM = (await client.getManifest(base, baseIndex.json.manifests[k].digest))!.json;
      const appM = (await client.getManifest(app, desc.digest))!.json;
      expect(appM.layers.slice(0, -1)).toEqual(baseM.layers);
      expect(appM.layers).toHaveLength(2);
      const baseCfg = JSON.parse((await client.getBlobBytes(base, baseM.config.digest)).toString());
      const appCfg = JSON.parse((await client.getBlobBytes(app, appM.config.digest)).toString());
      expect(appCfg.rootfs.diff_ids.slice(0, -1)).toEqual(baseCfg.rootfs.diff_ids);
      expect(appCfg.rootfs.diff_ids).toHaveLength(2);
      expect(appCfg.config.Env).toEqual(['BASE_VAR=from-base', 'SHARED=app', 'APP_VAR=app']);
      expect(appCfg.config.Labels).toEqual({ 'org.example.base': 'yes', 'org.example.which': 'app' });
      // Our entrypoint (the one binary) replaces the base's cmd, as a Dockerfile ENTRYPOINT does.
      expect(appCfg.config.Entrypoint).toEqual(['/usr/local/bin/app']);
      expect(appCfg.config.Cmd).toBeUndefined();
      expect(appCfg.history).toHaveLength(2);
      expect(appCfg.architecture).toBe(desc.platform.architecture);
      // The base's layer is in the registry under the app's name (mounted), not in our layout.
      expect(await client.headBlob(app, baseM.layers[0].digest)).toBe(baseM.layers[0].size);
      await expect(readFile(join(ctx.distDir, 'images/app/blobs/sha256', baseM.layers[0].digest.slice(7)))).rejects.toThrow();
    }
  });

  it('to another registry: base layers are downloaded into the layout, digest-checked, and pushed from it', async () => {
    const other = await startRegistry();
    try {
      const { ctx, logs } = await project([
        { id: 'x', repositories: [`${other.host}/app`, `${other.host}/mirror`], base: baseRef(), platforms: ['linux/arm64'], tags: ['v1', 'latest'] },
      ]);
      await imagesStage.run(ctx);
      expect(logs.text).toMatch(/\/app: 3 blobs uploaded, 0 mounted, 0 already there/);
      // The second repository on the same registry mounts everything from the first.
      expect(logs.text).toMatch(/\/mirror: 0 blobs uploaded, 3 mounted, 0 already there/);
      const client = new RegistryClient();
      const arts = imagesOf(ctx);
      expect(arts.map((a) => [a.type, a.name, a.extra.platform])).toEqual([
        ['image', `${other.host}/app:v1`, 'linux/arm64'],
        ['image', `${other.host}/mirror:v1`, 'linux/arm64'],
      ]);
      for (const repo of ['app', 'mirror']) {
        const r = { registry: other.host, repository: repo };
        expect((await client.listTags(r)).sort()).toEqual(['latest', 'v1']);
        const m = (await client.getManifest(r, 'v1'))!;
        expect(m.descriptor.digest).toBe(arts[0]!.extra.digest);
        for (const l of m.json.layers) expect(await client.headBlob(r, l.digest)).toBe(l.size);
      }
      // The base layer now is in the layout (it had to be copied).
      const m = (await client.getManifest({ registry: other.host, repository: 'app' }, 'v1'))!;
      const baseLayer = await readFile(join(ctx.distDir, 'images/x/blobs/sha256', m.json.layers[0].digest.slice(7)));
      expect(baseLayer.length).toBe(m.json.layers[0].size);
    } finally {
      await other.stop();
    }
  });

  it('--snapshot with a base: a complete layout (base layers downloaded) that skopeo can read', async () => {
    const { ctx } = await project([{ id: 'snap', repository: 'example.invalid/app', base: baseRef(), platforms: ['linux/amd64', 'linux/arm64'] }], { snapshot: true });
    await imagesStage.run(ctx);
    expect(imagesOf(ctx).every((a) => a.extra.pushed === false)).toBe(true);
    const layout = join(ctx.distDir, 'images/snap');
    for (const arch of ['amd64', 'arm64']) {
      const r = await execa('skopeo', ['--override-arch', arch, 'inspect', `oci:${layout}`]);
      const info = JSON.parse(r.stdout);
      expect(info.Architecture).toBe(arch);
      expect(info.Layers).toHaveLength(2);
      expect(info.Env).toEqual(['BASE_VAR=from-base', 'SHARED=base']);
      // skopeo copies it to a plain directory: every blob is there and checks out.
      const out = await mkdtemp(join(tmpdir(), 'relsign-skopeo-'));
      dirs.push(out);
      await execa('skopeo', ['--override-arch', arch, 'copy', '-q', `oci:${layout}`, `dir:${out}/img`]);
    }
  });

  it('a Docker schema 2 base (manifest list, docker media types) is accepted; its layers keep their media types', async () => {
    // Re-publish the base under Docker's media types, as `docker push` would have written it.
    const client = new RegistryClient();
    const base = { registry: registry.host, repository: 'base' };
    const docker = { registry: registry.host, repository: 'docker-base' };
    const index = (await client.getManifest(base, '1'))!;
    const list = { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [] as unknown[] };
    for (const d of index.json.manifests) {
      const m = (await client.getManifest(base, d.digest))!.json;
      const blobs = [m.config, ...m.layers];
      for (const b of blobs) await client.pushBlob(docker, b, () => Buffer.alloc(0), { mountFrom: 'base' });
      const dm = {
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { ...m.config, mediaType: 'application/vnd.docker.container.image.v1+json' },
        layers: m.layers.map((l: { digest: string; size: number }) => ({ ...l, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' })),
      };
      const bytes = Buffer.from(JSON.stringify(dm));
      const { digest } = await client.putManifest(docker, 'tmp', bytes, dm.mediaType);
      list.manifests.push({ mediaType: dm.mediaType, digest, size: bytes.length, platform: d.platform });
    }
    await client.putManifest(docker, '1', Buffer.from(JSON.stringify(list)), list.mediaType);
    const { ctx } = await project([{ id: 'd', repository: `${registry.host}/on-docker`, base: `${registry.host}/docker-base:1`, platforms: ['linux/arm64'] }], { targets: ['linux_arm64'] });
    await imagesStage.run(ctx);
    const m = (await client.getManifest({ registry: registry.host, repository: 'on-docker' }, '1.0.0'))!.json;
    expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(m.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual([
      'application/vnd.docker.image.rootfs.diff.tar.gzip',
      'application/vnd.oci.image.layer.v1.tar+gzip',
    ]);
  });

  it('a platform the base lacks: one line naming base and platform', async () => {
    const { ctx } = await project([{ repository: `${registry.host}/x`, base: baseRef(), platforms: ['linux/arm/v7'] }], { targets: ['linux_arm_7'] });
    await expect(imagesStage.run(ctx)).rejects.toThrow(
      `images[0].base: base image ${registry.host}/base:1: has no linux/arm/v7 image (it has: linux/amd64, linux/arm64)`,
    );
  });

  it('a base that does not exist: one line naming it', async () => {
    const { ctx } = await project([{ repository: `${registry.host}/x`, base: `${registry.host}/nope:1` }], { targets: ['linux_amd64'] });
    await expect(imagesStage.run(ctx)).rejects.toThrow(`images[0].base: base image ${registry.host}/nope:1: not found in the registry`);
  });
});

describe('images stage: failed pushes leave no tag', () => {
  it('a wrong password (htpasswd registry): one line naming the image, no password in it', async () => {
    const secured = await startRegistry({ auth: 'htpasswd', users: { alice: 'right-password' } });
    const dockerConfig = await mkdtemp(join(tmpdir(), 'relsign-dockercfg-'));
    dirs.push(dockerConfig);
    try {
      const auth = Buffer.from('alice:wrong-password').toString('base64');
      await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth } } }));
      const { ctx, logs } = await project([{ repository: `${secured.host}/app`, platforms: ['linux/amd64'] }], {
        env: { DOCKER_CONFIG: dockerConfig },
        targets: ['linux_amd64'],
      });
      const err = await imagesStage.run(ctx).then(() => undefined, (e: Error) => e);
      expect(err?.message).toMatch(new RegExp(`^images\\[0\\]: cannot push ${secured.host}/app:1\\.0\\.0: .*401`));
      expect(err?.message).not.toContain('\n');
      expect(err?.message).not.toContain('wrong-password');
      expect(logs.text).not.toContain('wrong-password');
      // With the right password it goes through.
      await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('alice:right-password').toString('base64') } } }));
      const ok = await project([{ repository: `${secured.host}/app`, platforms: ['linux/amd64'] }], { env: { DOCKER_CONFIG: dockerConfig }, targets: ['linux_amd64'] });
      await imagesStage.run(ok.ctx);
      expect(imagesOf(ok.ctx)[0]!.extra.pushed).toBe(true);
    } finally {
      await secured.stop();
    }
  });

  it('registries: templated credentials from the config; the rendered password is redacted from logs and errors', async () => {
    const secured = await startRegistry({ auth: 'htpasswd', users: { bob: 'bobs-pass-1234' } });
    try {
      const images = [{ repository: `${secured.host}/app`, platforms: ['linux/amd64'] }];
      const dir = await mkdtemp(join(tmpdir(), 'relsign-images-'));
      dirs.push(dir);
      await writeFile(join(dir, 'app'), 'binary');
      const run = async (password: string) => {
        const { ctx, logs } = await testContext(
          dir,
          { project_name: 'app', images, registries: [{ host: secured.host, username: 'bob', password: '{{ .Env.REG_PASS }}' }] },
          { env: { REG_PASS: password } },
        );
        ctx.artifacts.add({ type: 'binary', name: 'app', path: join(dir, 'app'), id: 'app', os: 'linux', arch: 'amd64', target: 'linux_amd64', extra: {} });
        const err = await imagesStage.run(ctx).then(() => undefined, (e: Error) => e);
        return { ctx, logs, err };
      };
      const bad = await run('not-bobs-pass-99');
      expect(bad.err?.message).toMatch(/authentication failed \(401\) for user bob/);
      expect(bad.ctx.redactor.redact('x not-bobs-pass-99 y')).toBe('x [REDACTED] y');
      expect(`${bad.err?.message}${bad.logs.text}`).not.toContain('not-bobs-pass-99');
      const good = await run('bobs-pass-1234');
      expect(good.err).toBeUndefined();
      expect(imagesOf(good.ctx)[0]!.extra.pushed).toBe(true);
    } finally {
      await secured.stop();
    }
  });

  it('a registry that refuses the index: the run fails, blobs and manifests may be there, but no tag points anywhere', async () => {
    // A loopback proxy in front of the real registry that answers 400 to any PUT of an image index.
    const proxy: Server = createServer((req, res) => {
      if (req.method === 'PUT' && req.url?.includes('/manifests/') && req.headers['content-type'] === OCI_INDEX) {
        req.resume();
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'refused by the test proxy' }] }));
        return;
      }
      const up = request({ host: '127.0.0.1', port: registry.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    try {
      const { ctx } = await project([{ repository: `127.0.0.1:${port}/half`, tags: ['1.0.0', 'latest'], platforms: ['linux/amd64', 'linux/arm64'] }]);
      await expect(imagesStage.run(ctx)).rejects.toThrow(/^images\[0\]: cannot push 127\.0\.0\.1:\d+\/half:1\.0\.0: .*400.*MANIFEST_INVALID/);
      const client = new RegistryClient();
      const half = { registry: registry.host, repository: 'half' };
      expect(await client.listTags(half)).toEqual([]);
      // The platform manifests did get there (by digest), which is harmless: nothing names them.
      const layout = JSON.parse(await readFile(join(ctx.distDir, 'images/default/index.json'), 'utf8'));
      const index = JSON.parse(await readFile(join(ctx.distDir, 'images/default/blobs/sha256', layout.manifests[0].digest.slice(7)), 'utf8'));
      for (const m of index.manifests) expect((await client.headManifest(half, m.digest))?.digest).toBe(m.digest);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe('images stage: several repositories', () => {
  it('tags are written only once every repository has the whole image: a failing second repository leaves the first untagged', async () => {
    const port = await freePort(); // nothing listens there
    const { ctx } = await project([{ repositories: [`${registry.host}/first`, `127.0.0.1:${port}/second`], platforms: ['linux/amd64'] }], { targets: ['linux_amd64'] });
    await expect(imagesStage.run(ctx)).rejects.toThrow(`images[0]: cannot push 127.0.0.1:${port}/second:1.0.0: registry 127.0.0.1:${port}: cannot connect (ECONNREFUSED)`);
    const first = { registry: registry.host, repository: 'first' };
    expect(await new RegistryClient().listTags(first)).toEqual([]);
  });
});

describe('images stage: inputs', () => {
  it('files: templated src/dst, trailing / keeps the name, modes; a symlink leaving the project is refused', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'relsign-outside-'));
    dirs.push(outside);
    await writeFile(join(outside, 'secret'), 'not yours');
    const { ctx, dir } = await project(
      [{ repository: 'example.invalid/app', platforms: ['linux/amd64'], files: [{ src: 'conf/{{ .ProjectName }}.yaml', dst: '/etc/app/', mode: 0o600 }] }],
      { snapshot: true, targets: ['linux_amd64'], files: { 'conf/app.yaml': 'a: 1\n' } },
    );
    await imagesStage.run(ctx);
    const layout = join(dir, 'dist/images/default');
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('1.0.0');
    const manifest = JSON.parse(await readFile(join(layout, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
    const listing = (await execa('tar', ['-tvzf', join(layout, 'blobs/sha256', manifest.layers[0].digest.slice(7))])).stdout;
    expect(listing).toMatch(/^-rw------- 0\/0 +5 .* etc\/app\/app\.yaml$/m);
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 +\d+ .* usr\/local\/bin\/app$/m);
    expect((await execa('skopeo', ['inspect', `oci:${layout}`])).stdout).toContain('"Architecture": "amd64"');

    await symlink(join(outside, 'secret'), join(dir, 'conf/escape.yaml'));
    const bad = await testContextLike(dir, [{ repository: 'example.invalid/app', files: [{ src: 'conf/escape.yaml', dst: '/x' }] }]);
    await expect(imagesStage.run(bad)).rejects.toThrow('images[0].files[0].src: "conf/escape.yaml" is outside the project folder (after following symlinks)');
    const up = await testContextLike(dir, [{ repository: 'example.invalid/app', files: [{ src: '../x', dst: '/x' }] }]);
    await expect(imagesStage.run(up)).rejects.toThrow('images[0].files[0].src: "../x"');
  });

  it('a platform without a binary, a tag that is not a tag, a repository with a tag: one line each', async () => {
    const noArm = await project([{ repository: 'example.invalid/app', platforms: ['linux/amd64', 'linux/arm/v7'] }], { snapshot: true });
    await expect(imagesStage.run(noArm.ctx)).rejects.toThrow('images[0].platforms[1]: no binary was built for linux/arm/v7 (build target linux_arm_7)');
    const badTag = await project([{ repository: 'example.invalid/app', tags: ['{{ .Version }}', 'v1+build'] }], { snapshot: true });
    await expect(imagesStage.run(badTag.ctx)).rejects.toThrow('images[0].tags[1]: "v1+build" is not a valid tag');
    const empty = await project([{ repository: 'example.invalid/app', tags: ['{{ if .IsSnapshot }}{{ end }}'] }], { snapshot: true });
    await expect(imagesStage.run(empty.ctx)).rejects.toThrow('images[0].tags: every tag rendered empty');
    const tagged = await project([{ repository: 'example.invalid/app:1' }], { snapshot: true });
    await expect(imagesStage.run(tagged.ctx)).rejects.toThrow('images[0].repository: "example.invalid/app:1" has a tag or digest');
  });

  it('linux/arm/v7 takes the linux_arm_7 binary; the release body lists pushed images with digests', async () => {
    const { ctx } = await project([{ repository: `${registry.host}/armapp`, platforms: ['linux/arm/v7', 'linux/amd64'] }], { targets: ['linux_arm_6', 'linux_arm_7', 'linux_amd64'] });
    await imagesStage.run(ctx);
    const arts = imagesOf(ctx);
    const arm = arts.find((a) => a.extra.platform === 'linux/arm/v7')!;
    expect(arm).toMatchObject({ os: 'linux', arch: 'arm', arm: '7' });
    const client = new RegistryClient();
    const m = (await client.getManifest({ registry: registry.host, repository: 'armapp' }, arm.extra.digest as string))!;
    const cfg = JSON.parse((await client.getBlobBytes({ registry: registry.host, repository: 'armapp' }, m.json.config.digest)).toString());
    expect([cfg.architecture, cfg.variant]).toEqual(['arm', 'v7']);
    const layer = await client.getBlobBytes({ registry: registry.host, repository: 'armapp' }, m.json.layers[0].digest, 1 << 20);
    const tarText = (await execa('tar', ['-xzOf', '-', 'usr/local/bin/app'], { input: layer, encoding: 'utf8' })).stdout;
    expect(tarText).toContain('app for linux_arm_7');
    const index = arts.find((a) => a.type === 'manifest')!;
    ctx.releaseNotes = '## Changelog\n';
    expect(releaseBody(ctx)).toBe(
      `## Changelog\n\n## Images\n\n* \`${registry.host}/armapp@${index.extra.digest}\` (tags: 1.0.0; linux/arm/v7, linux/amd64)\n`,
    );
  });
});

describe('images config checks (relsign check)', () => {
  it('unknown platforms, bad base, duplicate ids, no repository: one line each with the config path', async () => {
    const p = await TempRepo.plain({
      'relsign.config.yaml': [
        'project_name: a',
        'images:',
        '  - repository: ghcr.io/o/a',
        '    platforms: [linux/amd64, linux/amd46]',
        '    base: "not a reference"',
        '  - repository: ghcr.io/o/b',
        '  - id: x',
        '    repository: ghcr.io/o/c',
        '    repositories: [ghcr.io/o/d]',
        '  - id: y',
        '',
      ].join('\n'),
    });
    dirs.push(p.dir);
    const details = await loadConfig({ cwd: p.dir }).then(
      () => [],
      (err: unknown) => (err instanceof ConfigError ? [...err.details] : Promise.reject(err)),
    );
    const text = details.join('\n');
    expect(text).toMatch(/images\[0\]\.platforms\[1\]: unknown platform "linux\/amd46"; known: linux\/amd64, /);
    expect(text).toMatch(/images\[0\]\.base: .*not a reference.* \(or use scratch\)/);
    expect(text).toMatch(/images\[1\]: id "default" is already used by images\[0\]/);
    expect(text).toMatch(/images\[2\]\.repositories: set repository or repositories, not both/);
    expect(text).toMatch(/images\[3\]: set repository/);
    for (const d of details) expect(d).not.toContain('\n');
  });
});

async function testContextLike(dir: string, images: Array<Record<string, unknown>>): Promise<Context> {
  const { ctx } = await testContext(dir, { project_name: 'app', images }, { options: { snapshot: true } });
  return ctx;
}
