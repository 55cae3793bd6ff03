import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../github/fake-github.js';
import { CLI, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';

/**
 * The relsign CLI, as a child process, is interrupted (SIGINT, then SIGKILL)
 * while a ~30 MB asset is half uploaded to the stateful fake GitHub. The fake
 * stops reading the body once part of it has arrived, so the interrupt always
 * lands mid-upload, and it keeps the `starter` asset a cut upload leaves behind
 * (as GitHub does). A plain re-run must then publish every asset exactly once,
 * each with the digest of the local file.
 */
const PASSWORD = 'resume-key-pass-5530';
const BIG = 'big_1.0.0_linux_amd64';
const BIG_SIZE = 30 * 1024 * 1024;
const HOLD_AT = 6 * 1024 * 1024;

let keyDir: string;
let privateKey: string;

beforeAll(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'relsign-resume-key-'));
  const gen = await runCli(['generate-key-pair'], { cwd: keyDir, env: { COSIGN_PASSWORD: PASSWORD } });
  expect(gen.code, gen.stderr).toBe(0);
  privateKey = await readFile(join(keyDir, 'cosign.key'), 'utf8');
});
afterAll(async () => {
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

let fake: FakeGitHub | undefined;
let repo: TempRepo | undefined;
let child: ResultPromise | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  await child?.catch(() => undefined);
  child = undefined;
  fake?.releaseUploads();
  await fake?.close();
  await repo?.remove();
});

async function setup(): Promise<{ fake: FakeGitHub; repo: TempRepo }> {
  fake = await new FakeGitHub({ owner: 'acme', repo: 'big' }).start();
  repo = await TempRepo.create({
    '.gitignore': 'dist/\npayload/\n',
    'relsign.config.yaml': [
      'version: 2',
      'project_name: big',
      'builds:',
      '  - id: big',
      '    prebuilt: payload/big.bin',
      '    targets: [linux_amd64]',
      '    binary: big',
      'archives:',
      '  - id: big',
      '    formats: [binary]',
      'checksum:',
      '  name_template: "{{ .ProjectName }}_{{ .Version }}_checksums.txt"',
      'signs:',
      '  - signer: builtin',
      '    key: env://COSIGN_PRIVATE_KEY',
      '    artifacts: all',
      '    signature: "$<artifact>.sig"',
      // Offline: no transparency log to record signatures in.
      '    tlog_upload: false',
      'changelog:',
      '  disable: true',
      `github_urls:`,
      `  api: ${fake.apiUrl}`,
      '',
    ].join('\n'),
  });
  await mkdir(join(repo.dir, 'payload'));
  await writeFile(join(repo.dir, 'payload/big.bin'), randomBytes(BIG_SIZE));
  await repo.git('remote', 'add', 'origin', 'https://github.com/acme/big.git');
  await repo.commit('feat: big');
  await repo.tag('v1.0.0');
  return { fake, repo };
}

const env = () => ({
  GITHUB_TOKEN: fake!.token,
  COSIGN_PRIVATE_KEY: privateKey,
  COSIGN_PASSWORD: PASSWORD,
  GITHUB_REPOSITORY: undefined,
  RELSIGN_CURRENT_TAG: undefined,
});

/** Starts `relsign release --clean` and resolves once the big asset is half uploaded (held by the fake). */
async function startAndHoldMidUpload(f: FakeGitHub, dir: string): Promise<{ proc: ResultPromise }> {
  let reached!: () => void;
  const midUpload = new Promise<void>((r) => (reached = r));
  f.holdUploads = (name, received) => name === BIG && received >= HOLD_AT;
  f.onUploadBytes = (name, received) => {
    if (name === BIG && received >= HOLD_AT) reached();
  };
  const c = execa(process.execPath, [CLI, 'release', '--clean'], { cwd: dir, env: env(), reject: false, stdin: 'ignore' });
  child = c;
  const early = c.then((r) => {
    throw new Error(`relsign exited (${r.exitCode}) before the upload was held: ${String(r.stderr)}`);
  });
  await Promise.race([midUpload, early]);
  return { proc: c };
}

async function rerunAndCheck(f: FakeGitHub, dir: string): Promise<void> {
  f.holdUploads = undefined;
  f.onUploadBytes = undefined;
  const r = await runCli(['release', '--clean'], { cwd: dir, env: env() });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/found draft release v1\.0\.0 \(id \d+\); resuming/);
  expect(r.stderr).toContain(`deleting incomplete leftover (state starter) asset ${BIG}`);
  expect(f.violations).toEqual([]);
  expect(f.releases).toHaveLength(1);
  const release = f.releases[0]!;
  expect(release.draft).toBe(false);
  const names = release.assets.map((a) => a.name).sort();
  expect(names).toEqual([BIG, `${BIG}.sig`, 'big_1.0.0_checksums.txt', 'big_1.0.0_checksums.txt.sig', 'big_1.0.0_manifest.json', 'big_1.0.0_manifest.json.sigstore.json'].sort());
  // Where each uploaded artifact is on disk, from this run's dist/artifacts.json.
  const artifacts = JSON.parse(await readFile(join(dir, 'dist/artifacts.json'), 'utf8')) as Array<{ name: string; path: string; type: string }>;
  const pathOf = new Map(artifacts.filter((a) => a.type !== 'binary').map((a) => [a.name, a.path] as const));
  for (const a of release.assets) {
    expect(pathOf.has(a.name), a.name).toBe(true);
    const bytes = await readFile(join(dir, pathOf.get(a.name)!));
    expect(a.state).toBe('uploaded');
    expect(a.size).toBe(bytes.length);
    expect(a.digest).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  }
  expect(release.assets.find((a) => a.name === BIG)!.size).toBe(BIG_SIZE);
  // The big asset was completed exactly once: the cut upload never counted.
  expect(f.requests.filter((q) => q.asset === BIG && q.status === 201)).toHaveLength(1);
  // Exactly one publish, in the re-run.
  expect(f.requests.filter((q) => q.method === 'PATCH')).toHaveLength(1);
}

describe('an interrupted upload resumes with a plain re-run', () => {
  it('SIGINT mid-upload of a 30 MB asset: exit 130, the draft is named, nothing published; the re-run publishes every asset once', async () => {
    const { fake: f, repo: r } = await setup();
    const { proc: c } = await startAndHoldMidUpload(f, r.dir);
    const draft = f.releases[0]!;
    expect(draft.draft).toBe(true);
    expect(draft.assets.find((a) => a.name === BIG)?.state).toBe('starter');
    c.kill('SIGINT');
    const res = await c;
    child = undefined;
    expect(res.exitCode, String(res.stderr)).toBe(130);
    const stderr = String(res.stderr);
    expect(stderr).toMatch(
      new RegExp(`relsign: interrupted \\(Ctrl-C\\); the release was not completed; release v1\\.0\\.0 is left as a draft \\(id ${draft.id}, http://127\\.0\\.0\\.1:\\d+/acme/big/releases/tag/untagged-${draft.id}, nothing was published\\); re-run the same command to resume it`),
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(f.requests.some((q) => q.method === 'PATCH')).toBe(false);
    expect(draft.draft).toBe(true);
    expect((await readdir(join(r.dir, 'dist'))).filter((n) => n.startsWith('.relsign-tmp-'))).toEqual([]);
    // The fake notices the cut connection once it reads again: the starter asset stays behind.
    f.releaseUploads();
    await expect.poll(() => f.releases[0]!.assets.find((a) => a.name === BIG)?.state).toBe('starter');

    await rerunAndCheck(f, r.dir);
  });

  it('SIGKILL mid-upload of a 30 MB asset: the re-run resumes the draft and publishes every asset once', async () => {
    const { fake: f, repo: r } = await setup();
    const { proc: c } = await startAndHoldMidUpload(f, r.dir);
    c.kill('SIGKILL');
    const res = await c;
    child = undefined;
    expect(res.signal).toBe('SIGKILL');
    expect(f.releases[0]!.draft).toBe(true);
    f.releaseUploads();
    await expect.poll(() => f.releases[0]!.assets.find((a) => a.name === BIG)?.state).toBe('starter');
    expect(f.requests.some((q) => q.method === 'PATCH')).toBe(false);

    await rerunAndCheck(f, r.dir);
  });
});
