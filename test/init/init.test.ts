import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';
import { workflowErrors } from '../helpers/workflow-schema.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});
async function repo(files: Record<string, string>): Promise<TempRepo> {
  const r = await TempRepo.create(files);
  repos.push(r);
  await r.commit('feat: initial');
  return r;
}
const noKey = { COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined, GITHUB_TOKEN: undefined };

const NODE_PROJECT = {
  'package.json': JSON.stringify({ name: '@acme/greet', version: '1.2.3', bin: { greet: 'bin/greet.js' }, files: ['bin/'] }, null, 2),
  'bin/greet.js': '#!/usr/bin/env node\nconsole.log("hello");\n',
  'README.md': '# greet\n',
  'LICENSE': 'MIT\n',
};
const GO_PROJECT = {
  'go.mod': 'module github.com/acme/tool\n\ngo 1.22\n',
  'cmd/tool/main.go': 'package main\n\nfunc main() {}\n',
  'internal/lib/lib.go': 'package lib\n',
  'README.md': '# tool\n',
  'LICENSE': 'Apache-2.0\n',
};

/** A `go` that records what it was asked (GOOS|GOARCH|CGO_ENABLED|args) and writes a file where -o says. */
async function fakeGo(r: TempRepo): Promise<{ bin: string; log: string }> {
  const bin = join(r.dir, '.fakebin');
  await mkdir(bin);
  const log = join(r.dir, 'go-calls.log');
  await writeFile(
    join(bin, 'go'),
    `#!/bin/sh\nprintf '%s|%s|%s|%s\\n' "$GOOS" "$GOARCH" "$CGO_ENABLED" "$*" >> '${log}'\nout=""\nprev=""\nfor a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done\nprintf 'binary %s/%s\\n' "$GOOS" "$GOARCH" > "$out"\n`,
  );
  await chmod(join(bin, 'go'), 0o755);
  return { bin, log };
}

interface Workflow {
  on: { push: { tags: string[] } };
  permissions: Record<string, string>;
  jobs: { release: { steps: Array<{ uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> }> } };
}

describe('relsign init on a Node.js package', () => {
  it('writes a config that check accepts and a snapshot release runs: the npm tarball, checksums, signatures', async () => {
    const r = await repo(NODE_PROJECT);
    const init = await runCli(['init', '--github', '--gitlab'], { cwd: r.dir });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^wrote relsign\.config\.yaml$/m);
    expect(init.stdout).toMatch(/^wrote \.github\/workflows\/release\.yml$/m);
    expect(init.stdout).toMatch(/^wrote \.gitlab-ci\.yml$/m);
    const config = await readFile(join(r.dir, 'relsign.config.yaml'), 'utf8');
    expect(config).toMatch(/^# .*Node\.js package with "bin" \(greet\)/m);
    expect(config).toMatch(/^project_name: greet$/m);

    const check = await runCli(['check'], { cwd: r.dir });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout.trim()).toBe('config is valid');

    await r.commit('chore: relsign');
    const rel = await runCli(['release', '--snapshot', '--clean'], { cwd: r.dir, env: noKey });
    expect(rel.code, rel.stderr).toBe(0);
    const dist = join(r.dir, 'dist');
    const artifacts = JSON.parse(await readFile(join(dist, 'artifacts.json'), 'utf8')) as Array<{ name: string; path: string; type: string }>;
    const tarball = artifacts.find((a) => a.type === 'uploadable_binary')!;
    expect(tarball.name).toMatch(/^greet-0\.0\.0-SNAPSHOT-[0-9a-f]+\.tgz$/); // no tag yet: v0.0.0
    // It is the real npm tarball: package/package.json inside.
    const listing = await execa('tar', ['-tzf', join(r.dir, tarball.path)]);
    expect(listing.stdout.split('\n')).toEqual(expect.arrayContaining(['package/package.json', 'package/bin/greet.js']));
    const sums = artifacts.find((a) => a.type === 'checksum')!;
    await execa('sha256sum', ['-c', '--strict', sums.name], { cwd: dist });
    expect(await readFile(join(dist, sums.name), 'utf8')).toContain(tarball.name);
    const files = await readdir(dist);
    for (const a of [tarball, sums]) {
      expect(files).toContain(`${a.name}.sig`);
      const v = await runCli(['verify-blob', '--key', 'dist/relsign-ephemeral.pub', '--insecure-ignore-tlog', '--signature', `${a.path}.sig`, a.path], { cwd: r.dir });
      expect(v.code, v.stderr).toBe(0);
    }
  });

  it('writes a tag-push GitHub workflow that the GitHub Actions schema accepts, with least permissions', async () => {
    const r = await repo({ ...NODE_PROJECT, 'package-lock.json': '{"lockfileVersion":3}\n' });
    expect((await runCli(['init', '--github'], { cwd: r.dir })).code).toBe(0);
    const text = await readFile(join(r.dir, '.github/workflows/release.yml'), 'utf8');
    expect(workflowErrors(text)).toEqual([]);
    const wf = parse(text) as Workflow;
    expect(wf.on.push.tags).toEqual(['v*']);
    expect(wf.permissions).toEqual({ contents: 'write' });
    const steps = wf.jobs.release.steps;
    const checkout = steps.find((s) => s.uses?.startsWith('actions/checkout@'))!;
    expect(checkout.with).toEqual({ 'fetch-depth': 0 });
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with).toMatchObject({ cache: 'npm' });
    expect(steps.some((s) => s.run === 'npm ci')).toBe(true);
    expect(steps.some((s) => s.uses?.startsWith('docker/login-action@'))).toBe(false);
    const release = steps.find((s) => s.run?.includes('relsign release'))!;
    expect(release.run).toBe('npx relsign release --clean');
    expect(release.env).toEqual({
      GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}',
      COSIGN_PRIVATE_KEY: '${{ secrets.COSIGN_PRIVATE_KEY }}',
      COSIGN_PASSWORD: '${{ secrets.COSIGN_PASSWORD }}',
    });
    // The checkout comes first, the release last.
    expect(steps.indexOf(checkout)).toBe(0);
    expect(steps.indexOf(release)).toBe(steps.length - 1);
  });

  it('the workflow schema check can fail: a workflow with a typo is rejected', () => {
    expect(workflowErrors('name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n').length).toBeGreaterThan(0);
  });
});

describe('relsign init on a Go-shaped project (no Go toolchain: a recording `go` on PATH)', () => {
  it('renders one go build per target with GOOS/GOARCH, ldflags and -o RELSIGN_OUTPUT; check and a snapshot pass', async () => {
    const r = await repo(GO_PROJECT);
    const init = await runCli(['init', '--github'], { cwd: r.dir });
    expect(init.code, init.stderr).toBe(0);
    const config = parse(await readFile(join(r.dir, 'relsign.config.yaml'), 'utf8')) as { project_name: string; builds: Array<{ id: string; targets: string[] }> };
    expect(config.project_name).toBe('tool');
    expect(config.builds.map((b) => b.id)).toEqual(['tool']);
    expect((await runCli(['check'], { cwd: r.dir })).code).toBe(0);
    await r.commit('chore: relsign');

    const { bin, log } = await fakeGo(r);
    const rel = await runCli(['release', '--snapshot', '--clean'], { cwd: r.dir, env: { ...noKey, PATH: `${bin}:${process.env.PATH}` } });
    expect(rel.code, rel.stderr).toBe(0);

    const commit = await r.git('rev-parse', 'HEAD');
    const short = await r.git('rev-parse', '--short', 'HEAD');
    const calls = (await readFile(log, 'utf8')).trim().split('\n').sort();
    const targets = [['darwin', 'amd64'], ['darwin', 'arm64'], ['linux', 'amd64'], ['linux', 'arm64'], ['windows', 'amd64']];
    expect(calls).toEqual(
      targets.map(([os, arch]) => {
        const exe = os === 'windows' ? '.exe' : '';
        const out = join(r.dir, 'dist', `tool_${os}_${arch}`, `tool${exe}`);
        return `${os}|${arch}|0|build -trimpath -ldflags=-s -w -X main.version=0.0.0-SNAPSHOT-${short} -X main.commit=${commit} -X main.date=2024-01-02T03:04:05Z -o ${out} ./cmd/tool`;
      }),
    );
    const dist = await readdir(join(r.dir, 'dist'));
    for (const [os, arch] of targets) expect(dist).toContain(`tool_0.0.0-SNAPSHOT-${short}_${os}_${arch}.${os === 'windows' ? 'zip' : 'tar.gz'}`);
    const archive = join(r.dir, 'dist', `tool_0.0.0-SNAPSHOT-${short}_linux_amd64.tar.gz`);
    expect((await execa('tar', ['-tzf', archive])).stdout.split('\n').sort()).toEqual(['LICENSE', 'README.md', 'tool']);

    const text = await readFile(join(r.dir, '.github/workflows/release.yml'), 'utf8');
    expect(workflowErrors(text)).toEqual([]);
    const wf = parse(text) as Workflow;
    expect(wf.jobs.release.steps.find((s) => s.uses?.startsWith('actions/setup-go@'))?.with).toEqual({ 'go-version-file': 'go.mod' });
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(wf.jobs.release.steps.at(-1)!.run).toBe(`npx --yes relsign@${pkg.version} release --clean`);
  });

  it('--image ghcr.io/… --keyless: images section, docker/login-action to ghcr.io, packages and id-token permissions', async () => {
    const r = await repo({ ...GO_PROJECT, Dockerfile: 'FROM scratch\n' });
    const init = await runCli(['init', '--github', '--gitlab', '--image', 'ghcr.io/acme/tool', '--keyless'], { cwd: r.dir });
    expect(init.code, init.stderr).toBe(0);
    const config = parse(await readFile(join(r.dir, 'relsign.config.yaml'), 'utf8')) as {
      images: Array<{ ids: string[]; repository: string; platforms: string[] }>;
      signs: Array<{ cmd: string; args: string[]; signature: string }>;
    };
    expect(config.images).toEqual([expect.objectContaining({ ids: ['tool'], repository: 'ghcr.io/acme/tool', platforms: ['linux/amd64', 'linux/arm64'] })]);
    expect(config.signs[0]).toMatchObject({ cmd: 'cosign', signature: '${artifact}.sigstore.json' });
    expect((await runCli(['check'], { cwd: r.dir })).code).toBe(0);
    const text = await readFile(join(r.dir, '.github/workflows/release.yml'), 'utf8');
    expect(workflowErrors(text)).toEqual([]);
    const wf = parse(text) as Workflow;
    expect(wf.permissions).toEqual({ contents: 'write', packages: 'write', 'id-token': 'write' });
    const steps = wf.jobs.release.steps;
    const login = steps.find((s) => s.uses?.startsWith('docker/login-action@'))!;
    expect(login.with).toEqual({ registry: 'ghcr.io', username: '${{ github.actor }}', password: '${{ secrets.GITHUB_TOKEN }}' });
    expect(steps.some((s) => s.uses?.startsWith('sigstore/cosign-installer@'))).toBe(true);
    expect(steps.indexOf(login)).toBeLessThan(steps.length - 1);
    expect(steps.at(-1)!.env).toEqual({ GITHUB_TOKEN: '${{ secrets.GITHUB_TOKEN }}' });

    const gitlab = parse(await readFile(join(r.dir, '.gitlab-ci.yml'), 'utf8')) as Record<string, { rules: unknown; variables: Record<string, unknown>; id_tokens: unknown; script: string[]; artifacts: unknown }>;
    const job = gitlab['relsign-release']!;
    expect(job.rules).toEqual([{ if: '$CI_COMMIT_TAG' }]);
    expect(job.variables.GIT_DEPTH).toBe(0);
    expect(job.id_tokens).toEqual({ SIGSTORE_ID_TOKEN: { aud: 'sigstore' } });
    expect(job.script.at(-1)).toMatch(/relsign@\S+ release --clean --skip publish$/);
    expect(job.artifacts).toEqual({ paths: ['dist/'] });
  });

  it('--image on another registry logs in with registry secrets and asks for no packages permission; a snapshot writes the image layout', async () => {
    const r = await repo(GO_PROJECT);
    expect((await runCli(['init', '--github', '--image', 'registry.example.com/acme/tool'], { cwd: r.dir })).code).toBe(0);
    expect((await runCli(['check'], { cwd: r.dir })).code).toBe(0);
    await r.commit('chore: relsign');
    const { bin } = await fakeGo(r);
    const rel = await runCli(['release', '--snapshot', '--clean'], { cwd: r.dir, env: { ...noKey, PATH: `${bin}:${process.env.PATH}` } });
    expect(rel.code, rel.stderr).toBe(0);
    const index = JSON.parse(await readFile(join(r.dir, 'dist/images/default/index.json'), 'utf8')) as { manifests: unknown[] };
    expect(index.manifests.length).toBeGreaterThan(0);
    const text = await readFile(join(r.dir, '.github/workflows/release.yml'), 'utf8');
    expect(workflowErrors(text)).toEqual([]);
    const wf = parse(text) as Workflow;
    expect(wf.permissions).toEqual({ contents: 'write' });
    expect(wf.jobs.release.steps.find((s) => s.uses?.startsWith('docker/login-action@'))!.with).toEqual({
      registry: 'registry.example.com',
      username: '${{ secrets.REGISTRY_USERNAME }}',
      password: '${{ secrets.REGISTRY_PASSWORD }}',
    });
  });
});

describe('relsign init never overwrites', () => {
  it('stops with one line naming the file and --force, writes nothing; --force replaces', async () => {
    const r = await repo({ ...GO_PROJECT, 'relsign.config.yaml': 'project_name: mine\n' });
    const before = await stat(join(r.dir, 'relsign.config.yaml'));
    const again = await runCli(['init', '--github'], { cwd: r.dir });
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('relsign: relsign.config.yaml already exists; relsign init never overwrites a file (use --force to replace it)');
    expect(hasStackTrace(again.stderr)).toBe(false);
    expect(await readFile(join(r.dir, 'relsign.config.yaml'), 'utf8')).toBe('project_name: mine\n');
    // Nothing else was written either: all files are checked before any is.
    await expect(stat(join(r.dir, '.github/workflows/release.yml'))).rejects.toThrow();
    expect((await stat(join(r.dir, 'relsign.config.yaml'))).mtimeMs).toBe(before.mtimeMs);

    const forced = await runCli(['init', '--github', '--force'], { cwd: r.dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(join(r.dir, 'relsign.config.yaml'), 'utf8')).toMatch(/^project_name: tool$/m);
    expect(await readdir(r.dir)).not.toContainEqual(expect.stringMatching(/^\.relsign-tmp-/));
  });

  it('a project with nothing to build gets a source-only config that check accepts; --image there is a usage error', async () => {
    const r = await repo({ 'README.md': '# docs only\n' });
    const img = await runCli(['init', '--image', 'ghcr.io/a/b'], { cwd: r.dir });
    expect(img.code).toBe(2);
    expect(img.stderr.trim().split('\n')).toHaveLength(1);
    expect((await runCli(['init'], { cwd: r.dir })).code).toBe(0);
    expect((await runCli(['check'], { cwd: r.dir })).code).toBe(0);
    await r.commit('chore: relsign');
    const rel = await runCli(['release', '--snapshot', '--clean'], { cwd: r.dir, env: noKey });
    expect(rel.code, rel.stderr).toBe(0);
  });
});
