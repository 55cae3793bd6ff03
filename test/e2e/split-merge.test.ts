import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
async function clone(name: string, fake: FakeGitHub): Promise<string> {
  const dir = join(work, name, 'hello');
  await cp(origin.dir, dir, { recursive: true });
  const example = await readFile(join(REPO_ROOT, CONFIG), 'utf8');
  // The API URL lives outside the tracked config file: same tree, same config digest on every runner.
  await writeFile(join(dir, CONFIG), `${example}\ngithub_urls:\n  api: ${fake.apiUrl}\n`);
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

/** Runs `release --split` in three clones and copies their dist/ parts into `into`/dist. */
async function splitInto(into: string, fake: FakeGitHub, shares: string[][]): Promise<void> {
  for (const [i, targets] of shares.entries()) {
    const runner = await clone(`runner-${i}-${Math.random().toString(36).slice(2)}`, fake);
    // Splits hold no secrets: no key, no token.
    const r = await runCli(['release', '--split', '--targets', targets.join(','), '--config', CONFIG], { cwd: runner, env: { GITHUB_TOKEN: undefined } });
    expect(r.code, r.stderr).toBe(0);
    await cp(join(runner, 'dist'), join(into, 'dist'), { recursive: true });
  }
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
    expect(names(b)).toHaveLength(14);
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

  it('images: the merge pushes the index of the merged Linux binaries, the same digest as a single run, and tags it', async () => {
    const registry: TestRegistry = await startRegistry();
    try {
      const digestIn = (body: string, repo: string) => new RegExp(`\\* \`${registry.host}/${repo}@(sha256:[0-9a-f]{64})\` \\(tags: 2\\.0\\.1; linux/amd64, linux/arm64\\)`).exec(body)?.[1];
      const single = await newFake();
      const one = await clone('single-img', single);
      const s = await runCli(['release', '--clean', '--config', CONFIG], { cwd: one, env: { ...(await env()), GITHUB_TOKEN: single.token, RELSIGN_IMAGE_REPO: `${registry.host}/hello-single` } });
      expect(s.code, s.stderr).toBe(0);

      const split = await newFake();
      const merger = await clone('merger-img', split);
      // Splits need no registry: images are assembled at the merge.
      await splitInto(merger, split, [['linux_amd64'], ['linux_arm64', 'darwin_arm64'], ['windows_amd64']]);
      const m = await runCli(['continue', '--merge', '--config', CONFIG], { cwd: merger, env: { ...(await env()), GITHUB_TOKEN: split.token, RELSIGN_IMAGE_REPO: `${registry.host}/hello-split` } });
      expect(m.code, m.stderr).toBe(0);
      const a = digestIn(single.releases[0]!.body ?? '', 'hello-single');
      const b = digestIn(split.releases[0]!.body ?? '', 'hello-split');
      expect(a).toBeDefined();
      expect(b).toBe(a);
      const inspect = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/hello-split:2.0.1`]);
      const index = JSON.parse(inspect.stdout) as { manifests: Array<{ platform: { architecture: string } }> };
      expect(index.manifests.map((x) => x.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
    } finally {
      await registry.stop();
    }
  });

  describe('refuses, in one line and before anything is signed or published', () => {
    async function mergeFails(prepare: (merger: string, fake: FakeGitHub) => Promise<void>, expected: RegExp): Promise<void> {
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
        const tr = await runCli(['release', '--split', '--targets', 'windows_amd64', '--config', CONFIG], { cwd: old, env: { GITHUB_TOKEN: undefined } });
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
