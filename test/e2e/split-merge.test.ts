import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSigstoreServices, type SigstoreServices } from '../helpers/sigstore-services.js';
import { FakeGitHub } from '../github/fake-github.js';
import { REPO_ROOT, hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/**
 * Three CI runners simulated by three clones of the example project at the
 * same tag: each runs `release --split` for its targets, their dist/ folders
 * are copied into one checkout (as actions/download-artifact does), and
 * `continue --merge` publishes against the fake GitHub. The result must be
 * the release a single machine makes of the same commit: same asset names,
 * byte-identical archives, source and checksums, and signatures that verify.
 */
const PASSWORD = 'split-key-pass-7291';
let origin: TempRepo;
let keyDir: string;
let work: string;
const fakes: FakeGitHub[] = [];
const CONFIG = 'release.config.example.yaml';

/** A clone of the origin at its tag, configured against `fake`, with the checkout folder named `hello` like CI's. */
async function clone(name: string, fake: FakeGitHub, extraConfig = ''): Promise<string> {
  const dir = join(work, name, 'hello');
  await cp(origin.dir, dir, { recursive: true });
  const example = await readFile(join(REPO_ROOT, CONFIG), 'utf8');
  // The API URL lives outside the tracked config file: same tree, same config digest on every runner.
  await writeFile(join(dir, CONFIG), `${example}\ngithub_urls:\n  api: ${fake.apiUrl}\n${extraConfig}`);
  return dir;
}

let services: SigstoreServices;

async function env() {
  return {
    COSIGN_PRIVATE_KEY: await readFile(join(keyDir, 'cosign.key'), 'utf8'),
    COSIGN_PASSWORD: PASSWORD,
    GITHUB_REPOSITORY: undefined,
    RELSIGN_SPLIT_BY: undefined,
    // A real release records key signatures in Rekor (tlog_upload's default): a local one here.
    RELSIGN_REKOR_URL: services.rekorURL,
  };
}

interface SplitOptions {
  /** Extra flags for every split (default `--skip docker`: no registry). */
  args?: string[];
  env?: Record<string, string | undefined>;
  extraConfig?: string;
}

/** Runs `release --split` in one clone per share and copies their dist/ parts into `into`/dist; returns the clones. */
async function splitInto(into: string, fake: FakeGitHub, shares: string[][], o: SplitOptions = {}): Promise<string[]> {
  const runners: string[] = [];
  for (const [i, targets] of shares.entries()) {
    const runner = await clone(`runner-${i}-${Math.random().toString(36).slice(2)}`, fake, o.extraConfig);
    // Splits hold no signing key and no release token.
    const r = await runCli(['release', '--split', '--targets', targets.join(','), '--config', CONFIG, ...(o.args ?? ['--skip', 'docker'])], {
      cwd: runner,
      env: { GITHUB_TOKEN: undefined, COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined, ...o.env },
    });
    expect(r.code, r.stderr).toBe(0);
    await cp(join(runner, 'dist'), join(into, 'dist'), { recursive: true });
    runners.push(runner);
  }
  return runners;
}

beforeAll(async () => {
  services = await startSigstoreServices();
  work = await mkdtemp(join(tmpdir(), 'relsign-split-'));
  keyDir = await mkdtemp(join(tmpdir(), 'relsign-split-key-'));
  const gen = await runCli(['generate-key-pair'], { cwd: keyDir, env: { COSIGN_PASSWORD: PASSWORD } });
  expect(gen.code, gen.stderr).toBe(0);
  origin = await TempRepo.create();
  await cp(join(REPO_ROOT, 'fixtures/example'), join(origin.dir, 'fixtures/example'), { recursive: true });
  await cp(join(REPO_ROOT, CONFIG), join(origin.dir, CONFIG));
  await writeFile(join(origin.dir, '.gitignore'), `dist/\n${CONFIG}\n`);
  await origin.git('remote', 'add', 'origin', 'https://github.com/acme/hello.git');
  await origin.commit('feat: first');
  await origin.tag('v2.0.0');
  await origin.commit('fix: second');
  await origin.tag('v2.0.1');
});
afterAll(async () => {
  await services?.stop();
  for (const f of fakes) await f.close();
  await origin?.remove();
  if (work) await rm(work, { recursive: true, force: true });
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

async function newFake(): Promise<FakeGitHub> {
  const f = await new FakeGitHub({ owner: 'acme', repo: 'hello' }).start();
  fakes.push(f);
  return f;
}

describe('release --split on three runners, then continue --merge', () => {
  it('publishes the release a single machine makes: byte-identical assets and checksums; signatures verify', async () => {
    const single = await newFake();
    const one = await clone('single', single);
    const s = await runCli(['release', '--clean', '--skip', 'docker', '--config', CONFIG], { cwd: one, env: { ...(await env()), GITHUB_TOKEN: single.token } });
    expect(s.code, s.stderr).toBe(0);

    const split = await newFake();
    const merger = await clone('merger', split);
    await splitInto(merger, split, [['linux_amd64', 'linux_arm64'], ['darwin_arm64'], ['windows_amd64']]);
    expect((await readdir(join(merger, 'dist'))).sort()).toEqual(['darwin_arm64', 'linux_amd64-linux_arm64', 'windows_amd64']);
    const m = await runCli(['continue', '--merge', '--skip', 'docker', '--config', CONFIG], { cwd: merger, env: { ...(await env()), GITHUB_TOKEN: split.token } });
    expect(m.code, m.stderr).toBe(0);
    expect(m.stderr).not.toContain(PASSWORD);
    expect(split.violations).toEqual([]);

    const a = single.releases[0]!;
    const b = split.releases[0]!;
    expect(b).toMatchObject({ tag_name: 'v2.0.1', draft: false });
    expect(b.body).toBe(a.body);
    const names = (r: typeof a) => r.assets.map((x) => x.name).sort();
    expect(names(b)).toEqual(names(a));
    // 4 archives, source, checksums, each with its .sig; the release manifest and its bundle.
    expect(names(b), names(b).join(" ")).toHaveLength(14);
    // Everything but the signatures is byte-identical, the release manifest included.
    expect(names(b)).toContain('hello_2.0.1_manifest.json');
    for (const asset of b.assets.filter((x) => !x.name.endsWith('.sig') && !x.name.endsWith('.sigstore.json'))) {
      const twin = a.assets.find((x) => x.name === asset.name)!;
      expect(asset.digest, asset.name).toBe(twin.digest);
      expect(asset.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    const sums = 'hello_2.0.1_checksums.txt';
    expect(await readFile(join(merger, 'dist', sums), 'utf8')).toBe(await readFile(join(one, 'dist', sums), 'utf8'));
    // Signatures sit next to what they sign (inside the parts' folders for archives).
    type Listed = { name: string; path: string; type: string; extra?: { signedArtifact?: string } };
    const listed = JSON.parse(await readFile(join(merger, 'dist/artifacts.json'), 'utf8')) as Listed[];
    // (The manifest's DSSE bundle is checked by test/e2e/release-manifest.test.ts.)
    const sigs = listed.filter((x) => x.type === 'signature' && !x.name.endsWith('.sigstore.json'));
    expect(sigs.map((x) => x.name).sort()).toEqual(names(b).filter((n) => n.endsWith('.sig')));
    for (const sig of sigs) {
      const target = listed.find((x) => x.name === sig.extra!.signedArtifact && x.type !== 'signature')!;
      const v = await runCli(['verify-blob', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog', '--signature', sig.path, target.path], { cwd: merger });
      expect(v.code, `${target.name}: ${v.stderr}`).toBe(0);
      expect(v.stderr).toContain('Verified OK');
    }
    // artifacts.json of the merge lists the same artifacts (paths differ: the parts' folders).
    type A = { name: string; type: string };
    const list = async (dir: string) => (JSON.parse(await readFile(join(dir, 'dist/artifacts.json'), 'utf8')) as A[]).map((x) => `${x.type}:${x.name}`);
    expect((await list(merger)).sort()).toEqual((await list(one)).sort());

    // A re-run of only the merge job (fresh download of the parts) resumes like any re-run: nothing uploaded twice.
    const uploads = split.uploads().length;
    const again = await clone('merger-again', split);
    await cp(join(merger, 'dist'), join(again, 'dist'), { recursive: true, filter: (src) => !/[/\\]dist[/\\][^/\\]+\.[a-z.]+$/.test(src) });
    const r2 = await runCli(['continue', '--merge', '--skip', 'docker', '--config', CONFIG], { cwd: again, env: { ...(await env()), GITHUB_TOKEN: split.token } });
    expect(r2.code, r2.stderr).toBe(0);
    expect(split.uploads().length).toBe(uploads);
    expect(split.releases).toHaveLength(1);
    // Re-run in the same folder: the earlier merge's outputs are cleared first, the parts kept.
    const r3 = await runCli(['continue', '--merge', '--skip', 'docker', '--config', CONFIG], { cwd: merger, env: { ...(await env()), GITHUB_TOKEN: split.token } });
    expect(r3.code, r3.stderr).toBe(0);
    expect(r3.stderr).toMatch(/removed \d+ file\(s\) written by an earlier merge here/);
    expect(split.uploads().length).toBe(uploads);
    expect(await readFile(join(merger, 'dist', sums), 'utf8')).toBe(await readFile(join(one, 'dist', sums), 'utf8'));
  });

  describe('images: each split pushes its platforms by digest, the merge assembles them', () => {
    let registry: TestRegistry;
    beforeAll(async () => {
      registry = await startRegistry();
    });
    afterAll(async () => {
      await registry?.stop();
    });
    const SIGN_IMAGES = 'docker_signs:\n  - key: env://COSIGN_PRIVATE_KEY\n    tlog_upload: false\n';
    const SHARES = [['linux_amd64', 'windows_amd64'], ['linux_arm64', 'darwin_arm64']];
    const repoEnv = (repo: string) => ({ RELSIGN_IMAGE_REPO: `${registry.host}/${repo}` });
    const mergeEnv = async (fake: FakeGitHub, repo: string) => ({ ...(await env()), GITHUB_TOKEN: fake.token, ...repoEnv(repo) });
    type PartImages = { images?: Array<{ id: string; pushed: boolean; repositories: string[]; layout?: string; platforms: Array<{ platform: string; digest: string; size: number }> }> };
    const partOf = async (merger: string, id: string) => JSON.parse(await readFile(join(merger, 'dist', id, 'context.json'), 'utf8')) as PartImages;
    /** The repository's tags; [] when the registry knows no tag of it (distribution answers 404 NAME_UNKNOWN then). */
    async function tagsOf(repo: string): Promise<string[]> {
      const res = await fetch(`${registry.url}/v2/${repo}/tags/list`);
      const body = (await res.json()) as { tags?: string[] | null; errors?: Array<{ code: string }> };
      if (res.status === 404) {
        expect(body.errors?.[0]?.code).toBe('NAME_UNKNOWN');
        return [];
      }
      expect(res.status).toBe(200);
      return body.tags ?? [];
    }
    const manifestStatus = async (repo: string, digest: string) =>
      (await fetch(`${registry.url}/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status;

    async function splitImages(name: string, fake: FakeGitHub, repo: string): Promise<string> {
      const merger = await clone(name, fake, SIGN_IMAGES);
      await splitInto(merger, fake, SHARES, { args: [], env: repoEnv(repo), extraConfig: SIGN_IMAGES });
      return merger;
    }

    it('no tag after the splits; the merged index has the digest of a single run, is tagged, and its signature verifies', async () => {
      const single = await newFake();
      const one = await clone('single-img', single, SIGN_IMAGES);
      const s = await runCli(['release', '--clean', '--config', CONFIG], { cwd: one, env: await mergeEnv(single, 'hello-single') });
      expect(s.code, s.stderr).toBe(0);
      const singleTop = (JSON.parse(await readFile(join(one, 'dist/images/hello/index.json'), 'utf8')) as { manifests: Array<{ digest: string }> }).manifests[0]!.digest;

      const fake = await newFake();
      const merger = await splitImages('merger-img', fake, 'hello-split');
      // Each split recorded the platform whose binary it built, pushed by digest; no layout is left in the parts.
      const a = (await partOf(merger, 'linux_amd64-windows_amd64')).images!;
      const b = (await partOf(merger, 'darwin_arm64-linux_arm64')).images!;
      expect(a.map((i) => [i.id, i.pushed, i.repositories, i.platforms.map((p) => p.platform)])).toEqual([['hello', true, [`${registry.host}/hello-split`], ['linux/amd64']]]);
      expect(b.map((i) => [i.id, i.pushed, i.repositories, i.platforms.map((p) => p.platform)])).toEqual([['hello', true, [`${registry.host}/hello-split`], ['linux/arm64']]]);
      expect(a[0]!.layout).toBeUndefined();
      expect(await readdir(join(merger, 'dist/linux_amd64-windows_amd64'))).not.toContain('images');
      for (const p of [...a[0]!.platforms, ...b[0]!.platforms]) expect(await manifestStatus('hello-split', p.digest)).toBe(200);
      expect(await tagsOf('hello-split')).toEqual([]);

      const m = await runCli(['continue', '--merge', '--config', CONFIG], { cwd: merger, env: await mergeEnv(fake, 'hello-split') });
      expect(m.code, m.stderr).toBe(0);
      // The version tag, and the signature's tag (cosign's legacy storage) for the index.
      expect((await tagsOf('hello-split')).sort()).toEqual(['2.0.1', `${singleTop.replace(':', '-')}.sig`]);
      const digestIn = (body: string, repo: string) => new RegExp(`\\* \`${registry.host}/${repo}@(sha256:[0-9a-f]{64})\` \\(tags: 2\\.0\\.1; linux/amd64, linux/arm64\\)`).exec(body)?.[1];
      expect(digestIn(single.releases[0]!.body ?? '', 'hello-single')).toBe(singleTop);
      expect(digestIn(fake.releases[0]!.body ?? '', 'hello-split')).toBe(singleTop);
      const inspect = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/hello-split:2.0.1`]);
      expect(`sha256:${createHash('sha256').update(inspect.stdout).digest('hex')}`).toBe(singleTop);
      const index = JSON.parse(inspect.stdout) as { manifests: Array<{ digest: string; platform: { architecture: string } }> };
      expect(index.manifests.map((x) => [x.platform.architecture, x.digest])).toEqual([
        ['amd64', a[0]!.platforms[0]!.digest],
        ['arm64', b[0]!.platforms[0]!.digest],
      ]);
      const v = await runCli(['verify', '--key', join(keyDir, 'cosign.pub'), '--insecure-ignore-tlog', `${registry.host}/hello-split:2.0.1`], { cwd: merger });
      expect(v.code, v.stderr).toBe(0);
      // A re-run of the merge finds the platforms again and writes the same index under the same tag.
      const again = await runCli(['continue', '--merge', '--config', CONFIG], { cwd: merger, env: await mergeEnv(fake, 'hello-split') });
      expect(again.code, again.stderr).toBe(0);
      const after = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/hello-split:2.0.1`]);
      expect(after.stdout).toBe(inspect.stdout);
      expect(fake.releases).toHaveLength(1);
    });

    it('refuses a tampered digest in context.json and a platform manifest gone from the registry, before signing or tagging', async () => {
      const fake = await newFake();
      const merger = await splitImages('merger-img-bad', fake, 'hello-bad');
      const refused = async (dir: string, expected: RegExp) => {
        const r = await runCli(['continue', '--merge', '--config', CONFIG], { cwd: dir, env: await mergeEnv(fake, 'hello-bad') });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr.trim().split('\n').pop()).toMatch(expected);
        expect(hasStackTrace(r.stderr)).toBe(false);
        expect(r.stderr).not.toMatch(/signing|signed/i);
        expect((await readdir(join(dir, 'dist'))).filter((f) => f.endsWith('.sig'))).toEqual([]);
        expect(fake.releases).toEqual([]);
        expect(await tagsOf('hello-bad')).toEqual([]);
      };
      const part = 'darwin_arm64-linux_arm64';
      const recorded = (await partOf(merger, part)).images![0]!.platforms[0]!.digest;

      // context.json names another digest (valid syntax, not what the split pushed).
      const tampered = await clone('merger-img-tampered', fake, SIGN_IMAGES);
      await cp(join(merger, 'dist'), join(tampered, 'dist'), { recursive: true });
      const file = join(tampered, 'dist', part, 'context.json');
      const forged = `sha256:${createHash('sha256').update('another manifest').digest('hex')}`;
      await writeFile(file, (await readFile(file, 'utf8')).replace(recorded, forged));
      await refused(tampered, new RegExp(`^relsign: continue --merge: images\\[0\\] \\(hello\\): linux/arm64 from part dist/${part}: manifest ${registry.host.replace(/\./g, '\\.')}/hello-bad@${forged} is not in the registry; refusing to merge$`));

      // Syntax is checked before any request: a digest that is not one.
      await writeFile(file, (await readFile(file, 'utf8')).replace(forged, 'sha256:../../v2/other'));
      await refused(tampered, new RegExp(`^relsign: continue --merge: dist/${part}/context\\.json: images\\[0\\]: platforms\\[0\\]: digest "sha256:\\.\\./\\.\\./v2/other" is not a sha256 digest$`));

      // The amd64 part names the arm64 manifest (present in the registry): its image config gives it away.
      await writeFile(file, (await readFile(file, 'utf8')).replace('sha256:../../v2/other', recorded));
      const armRecord = (await partOf(tampered, part)).images![0]!.platforms[0]!;
      const amdFile = join(tampered, 'dist/linux_amd64-windows_amd64/context.json');
      const amd = JSON.parse(await readFile(amdFile, 'utf8')) as Required<PartImages>;
      amd.images[0]!.platforms[0] = { ...amd.images[0]!.platforms[0]!, digest: armRecord.digest, size: armRecord.size };
      await writeFile(amdFile, JSON.stringify(amd));
      await refused(tampered, /^relsign: continue --merge: images\[0\] \(hello\): linux\/amd64 from part dist\/linux_amd64-windows_amd64: its image config is for linux\/arm64, not linux\/amd64; refusing to merge$/);

      // The arm64 manifest deleted from the registry after the split.
      const del = await fetch(`${registry.url}/v2/hello-bad/manifests/${recorded}`, { method: 'DELETE' });
      expect(del.status).toBe(202);
      await refused(merger, new RegExp(`^relsign: continue --merge: images\\[0\\] \\(hello\\): linux/arm64 from part dist/${part}: manifest ${registry.host.replace(/\./g, '\\.')}/hello-bad@${recorded} is not in the registry; refusing to merge$`));
    });

    it('refuses a platform no part built, and a platform recorded by a part that did not build its target', async () => {
      const fake = await newFake();
      const merger = await clone('merger-img-missing', fake, SIGN_IMAGES);
      // The arm64 runner skipped its images.
      await splitInto(merger, fake, [SHARES[0]!], { args: [], env: repoEnv('hello-missing'), extraConfig: SIGN_IMAGES });
      await splitInto(merger, fake, [SHARES[1]!], { extraConfig: SIGN_IMAGES });
      const env = await mergeEnv(fake, 'hello-missing');
      const merge = () => runCli(['continue', '--merge', '--config', CONFIG], { cwd: merger, env });
      const r = await merge();
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n').pop()).toBe('relsign: continue --merge: images[0] (hello): no part built platform linux/arm64; refusing to merge');
      // The amd64 part claims an arm64 manifest too.
      const file = join(merger, 'dist/linux_amd64-windows_amd64/context.json');
      const ctx = JSON.parse(await readFile(file, 'utf8')) as Required<PartImages>;
      ctx.images[0]!.platforms.push({ ...ctx.images[0]!.platforms[0]!, platform: 'linux/arm64' });
      await writeFile(file, JSON.stringify(ctx));
      const forged = await merge();
      expect(forged.code, forged.stderr).toBe(1);
      expect(forged.stderr.trim().split('\n').pop()).toBe(
        'relsign: continue --merge: images[0] (hello): part dist/linux_amd64-windows_amd64 recorded linux/arm64 but built none of its targets (linux_arm64); refusing to merge',
      );
      expect(await tagsOf('hello-missing')).toEqual([]);
    });

    it('refuses a part that pushed to a repository the merge config does not name', async () => {
      const fake = await newFake();
      const merger = await splitImages('merger-img-repo', fake, 'hello-elsewhere');
      const r = await runCli(['continue', '--merge', '--config', CONFIG], { cwd: merger, env: await mergeEnv(fake, 'hello-here') });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n').pop()).toBe(
        `relsign: continue --merge: images[0] (hello): part dist/darwin_arm64-linux_arm64 pushed to ${registry.host}/hello-elsewhere, but this merge's config names ${registry.host}/hello-here (give split and merge jobs the same environment); refusing to merge`,
      );
      expect(await tagsOf('hello-here')).toEqual([]);
      expect(await tagsOf('hello-elsewhere')).toEqual([]);
    });

    it('snapshot splits write layouts; the snapshot merge combines them into dist/images/hello with the index of a single snapshot run', async () => {
      const single = await newFake();
      const one = await clone('single-snap', single);
      const s = await runCli(['release', '--snapshot', '--clean', '--config', CONFIG], { cwd: one, env: { COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined } });
      expect(s.code, s.stderr).toBe(0);
      const fake = await newFake();
      const merger = await clone('merger-snap', fake);
      await splitInto(merger, fake, SHARES, { args: ['--snapshot'] });
      const a = (await partOf(merger, 'linux_amd64-windows_amd64')).images!;
      expect(a.map((i) => [i.pushed, i.layout])).toEqual([[false, 'images/hello']]);
      const m = await runCli(['continue', '--merge', '--snapshot', '--config', CONFIG], { cwd: merger, env: { COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined } });
      expect(m.code, m.stderr).toBe(0);
      const top = async (dir: string) => (JSON.parse(await readFile(join(dir, 'dist/images/hello/index.json'), 'utf8')) as { manifests: Array<{ digest: string }> }).manifests[0]!.digest;
      expect(await top(merger)).toBe(await top(one));
      // The combined layout is complete: skopeo reads every blob of it.
      const copy = await execa('skopeo', ['inspect', '--raw', `oci:${join(merger, 'dist/images/hello')}`]);
      expect(`sha256:${createHash('sha256').update(copy.stdout).digest('hex')}`).toBe(await top(one));
      const blobs = async (dir: string) => (await readdir(join(dir, 'dist/images/hello/blobs/sha256'))).sort();
      expect(await blobs(merger)).toEqual(await blobs(one));
      // A re-run of the merge keeps the parts' layouts (it reads them) and makes the same layout.
      const again = await runCli(['continue', '--merge', '--snapshot', '--config', CONFIG], { cwd: merger, env: { COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined } });
      expect(again.code, again.stderr).toBe(0);
      expect(await top(merger)).toBe(await top(one));
    });
  });

  describe('preflight: a split checks its build tools, a merge its keys and token', () => {
    it('a split whose before hook is missing fails in preflight, naming it, before building; it needs no token or key', async () => {
      const fake = await newFake();
      const runner = await clone('split-preflight', fake, 'before:\n  hooks:\n    - relsign-test-missing-tool --init\n');
      const r = await runCli(['release', '--split', '--targets', 'linux_amd64', '--skip', 'docker', '--config', CONFIG], {
        cwd: runner,
        env: { GITHUB_TOKEN: undefined, COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined },
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/preflight: before\.hooks\[0\]: command not found: relsign-test-missing-tool/);
      expect(r.stderr).not.toMatch(/GITHUB_TOKEN|COSIGN/);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(await readdir(join(runner, 'dist')).catch(() => [])).toEqual([]);
    });

    it('a merge reports a wrong key password and a missing token together, before merging; build tools are not checked there', async () => {
      const fake = await newFake();
      // The splits have a before-hook tool the merge machine lacks: the merge must not look for it.
      const tools = join(work, `tools-${Math.random().toString(36).slice(2)}`);
      await mkdir(tools, { recursive: true });
      await writeFile(join(tools, 'relsign-test-split-tool'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const hook = 'before:\n  hooks:\n    - relsign-test-split-tool\n';
      const merger = await clone(`merge-preflight-${Math.random().toString(36).slice(2)}`, fake, hook);
      await splitInto(merger, fake, [['linux_amd64', 'linux_arm64'], ['darwin_arm64'], ['windows_amd64']], {
        extraConfig: hook,
        env: { PATH: `${tools}:${process.env.PATH}` },
      });
      const before = (await readdir(join(merger, 'dist'), { recursive: true })).sort();
      const bad = await runCli(['continue', '--merge', '--skip', 'docker', '--config', CONFIG], {
        cwd: merger,
        env: { ...(await env()), COSIGN_PASSWORD: 'not the password', GITHUB_TOKEN: undefined },
      });
      expect(bad.code, bad.stderr).toBe(1);
      expect(bad.stderr).toMatch(/preflight: signs\[0\]/);
      expect(bad.stderr).toMatch(/preflight: GITHUB_TOKEN is not set/);
      expect(bad.stderr).not.toMatch(/relsign-test-split-tool/);
      expect(bad.stderr).not.toContain('not the password');
      expect(hasStackTrace(bad.stderr)).toBe(false);
      expect((await readdir(join(merger, 'dist'), { recursive: true })).sort()).toEqual(before);
      expect(fake.releases).toEqual([]);
      // The same merge with the right password and a token publishes: the split tool was never needed here.
      const good = await runCli(['continue', '--merge', '--skip', 'docker', '--config', CONFIG], { cwd: merger, env: { ...(await env()), GITHUB_TOKEN: fake.token } });
      expect(good.code, good.stderr).toBe(0);
      expect(fake.releases[0]).toMatchObject({ tag_name: 'v2.0.1', draft: false });
    });
  });

  describe('refuses, in one line and before anything is signed or published', () => {
    async function mergeFails(prepare: (merger: string, fake: FakeGitHub) => Promise<unknown>, expected: RegExp): Promise<void> {
      const fake = await newFake();
      const merger = await clone(`bad-${Math.random().toString(36).slice(2)}`, fake);
      await prepare(merger, fake);
      const r = await runCli(['continue', '--merge', '--skip', 'docker', '--config', CONFIG], { cwd: merger, env: { ...(await env()), GITHUB_TOKEN: fake.token } });
      expect(r.code, r.stderr).toBe(1);
      const last = r.stderr.trim().split('\n').pop()!;
      expect(last).toMatch(expected);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(fake.releases).toEqual([]);
      expect((await readdir(join(merger, 'dist'))).filter((f) => f.endsWith('.sig') || f.endsWith('checksums.txt'))).toEqual([]);
    }

    it('parts from two different commits', async () => {
      await mergeFails(async (merger, fake) => {
        await splitInto(merger, fake, [['linux_amd64', 'linux_arm64'], ['darwin_arm64']]);
        // The third runner checked out the previous tag.
        const old = join(work, `old-${Date.now()}`, 'hello');
        await cp(origin.dir, old, { recursive: true });
        await cp(join(merger, CONFIG), join(old, CONFIG));
        await execa('git', ['checkout', '-q', 'v2.0.0'], { cwd: old });
        const tr = await runCli(['release', '--split', '--targets', 'windows_amd64', '--config', CONFIG, '--skip', 'docker'], { cwd: old, env: { GITHUB_TOKEN: undefined } });
        expect(tr.code, tr.stderr).toBe(0);
        const ctx = JSON.parse(await readFile(join(old, 'dist/windows_amd64/context.json'), 'utf8')) as { commit: string };
        expect(ctx.commit).toBe(await origin.git('rev-parse', 'v2.0.0'));
        await cp(join(old, 'dist'), join(merger, 'dist'), { recursive: true });
      }, /^relsign: continue --merge: part dist\/windows_amd64 was built from tag v2\.0\.0, but this checkout is at v2\.0\.1; commit [0-9a-f]{12}, but this checkout is at [0-9a-f]{12}; refusing to merge$/);
    });

    it('a missing target', async () => {
      await mergeFails(
        (merger, fake) => splitInto(merger, fake, [['linux_amd64', 'linux_arm64'], ['windows_amd64']]),
        /^relsign: continue --merge: no part built darwin_arm64; refusing to merge an incomplete release$/,
      );
    });

    it('a target built twice', async () => {
      await mergeFails(
        (merger, fake) => splitInto(merger, fake, [['linux_amd64', 'linux_arm64'], ['darwin_arm64', 'linux_arm64'], ['windows_amd64']]),
        /^relsign: continue --merge: target linux_arm64 was built by two parts \(dist\/darwin_arm64-linux_arm64 and dist\/linux_amd64-linux_arm64\); refusing to merge$/,
      );
    });

    it('a context.json naming a file outside its part (../../etc/passwd)', async () => {
      await mergeFails(async (merger, fake) => {
        await splitInto(merger, fake, [['linux_amd64', 'linux_arm64'], ['darwin_arm64'], ['windows_amd64']]);
        const file = join(merger, 'dist/darwin_arm64/context.json');
        const ctx = JSON.parse(await readFile(file, 'utf8')) as { artifacts: Array<{ path: string }> };
        ctx.artifacts[0]!.path = '../../etc/passwd';
        await writeFile(file, JSON.stringify(ctx));
      }, /^relsign: continue --merge: dist\/darwin_arm64\/context\.json: artifacts\[0\]: path "\.\.\/\.\.\/etc\/passwd" must be a relative path inside its part$/);
    });

    it('an archive changed after the split (its sha256 no longer matches context.json)', async () => {
      await mergeFails(async (merger, fake) => {
        await splitInto(merger, fake, [['linux_amd64', 'linux_arm64'], ['darwin_arm64'], ['windows_amd64']]);
        await writeFile(join(merger, 'dist/darwin_arm64/hello_2.0.1_darwin_arm64.tar.gz'), 'not the archive');
      }, /^relsign: continue --merge: dist\/darwin_arm64\/hello_2\.0\.1_darwin_arm64\.tar\.gz does not match the sha256 recorded in dist\/darwin_arm64\/context\.json \(changed after the split\); refusing to merge$/);
    });

    it('a part built from a different config', async () => {
      await mergeFails(async (merger, fake) => {
        await splitInto(merger, fake, [['linux_amd64', 'linux_arm64'], ['darwin_arm64'], ['windows_amd64']]);
        await writeFile(join(merger, CONFIG), (await readFile(join(merger, CONFIG), 'utf8')).replace('algorithm: sha256', 'algorithm: sha512'));
      }, /^relsign: continue --merge: part dist\/darwin_arm64 was built from a different config \(config digest differs\); refusing to merge$/);
    });
  });
});
