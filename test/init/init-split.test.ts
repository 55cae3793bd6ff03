import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';
import { gitlabCiErrors, workflowErrors } from '../helpers/workflow-schema.js';

/**
 * Actions the split workflow may name, each checked to exist at that major
 * version (github.com/<action>/releases): the workflow must not refer to an
 * action or a tag that is not there.
 */
const KNOWN_ACTIONS = new Set([
  'actions/checkout@v5',
  'actions/setup-node@v5',
  'actions/setup-go@v5',
  'actions/upload-artifact@v4',
  'actions/download-artifact@v4',
  'docker/login-action@v3',
  'sigstore/cosign-installer@v3',
  'dtolnay/rust-toolchain@stable',
]);

const repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

const GO_PROJECT = {
  'go.mod': 'module github.com/acme/tool\n\ngo 1.22\n',
  'cmd/tool/main.go': 'package main\n\nfunc main() {}\n',
  'README.md': '# tool\n',
  'LICENSE': 'Apache-2.0\n',
  '.gitignore': 'dist/\n.fakebin/\n',
};

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
interface Job {
  'runs-on': string;
  needs?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix: { include: Array<{ runner: string; id: string; targets: string }> } };
  steps: Step[];
}
interface Workflow {
  permissions: Record<string, string>;
  jobs: { split: Job; merge: Job };
}

/** A `go` that writes a small file where -o says, naming GOOS/GOARCH (no Go toolchain here). */
async function fakeGo(dir: string): Promise<string> {
  const bin = join(dir, '.fakebin');
  await mkdir(bin);
  await writeFile(
    join(bin, 'go'),
    `#!/bin/sh\nout=""\nprev=""\nfor a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done\nprintf 'binary %s/%s\\n' "$GOOS" "$GOARCH" > "$out"\n`,
  );
  await chmod(join(bin, 'go'), 0o755);
  return bin;
}

describe('relsign init --github --split', () => {
  it('writes a matrix workflow the GitHub Actions schema accepts: one split job per runner, secrets only in the merge job', async () => {
    const r = await TempRepo.create(GO_PROJECT);
    repos.push(r);
    await r.commit('feat: initial');
    const init = await runCli(['init', '--github', '--split'], { cwd: r.dir });
    expect(init.code, init.stderr).toBe(0);
    const text = await readFile(join(r.dir, '.github/workflows/release.yml'), 'utf8');
    expect(workflowErrors(text)).toEqual([]);
    const wf = parse(text) as Workflow;

    // Runners as the config's targets need them.
    const config = parse(await readFile(join(r.dir, 'relsign.config.yaml'), 'utf8')) as { builds: Array<{ targets: string[] }> };
    const targets = [...new Set(config.builds.flatMap((b) => b.targets))].sort();
    const include = wf.jobs.split.strategy!.matrix.include;
    expect(include.map((m) => m.runner)).toEqual(['ubuntu-latest', 'ubuntu-24.04-arm', 'macos-latest', 'windows-latest']);
    expect(include.find((m) => m.runner === 'macos-latest')!.targets.split(',').every((t) => t.startsWith('darwin_'))).toBe(true);
    expect(include.flatMap((m) => m.targets.split(',')).sort()).toEqual(targets);

    // Least permissions: read-only everywhere, write only where the release is made.
    expect(wf.permissions).toEqual({ contents: 'read' });
    expect(wf.jobs.split.permissions).toBeUndefined();
    expect(wf.jobs.merge.permissions).toEqual({ contents: 'write' });
    expect(wf.jobs.merge.needs).toBe('split');
    // No secret reaches a split job.
    expect(JSON.stringify(wf.jobs.split)).not.toContain('secrets.');
    const mergeRun = wf.jobs.merge.steps.find((s) => s.run?.includes('continue --merge'))!;
    expect(Object.keys(mergeRun.env!).sort()).toEqual(['COSIGN_PASSWORD', 'COSIGN_PRIVATE_KEY', 'GITHUB_TOKEN']);
    // The parts travel as artifacts and land in dist/<split-id>/.
    const upload = wf.jobs.split.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(upload.with).toMatchObject({ path: 'dist/', name: 'relsign-part-${{ matrix.id }}' });
    const download = wf.jobs.merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(download.with).toMatchObject({ pattern: 'relsign-part-*', 'merge-multiple': true, path: 'dist/' });
    const download_i = wf.jobs.merge.steps.indexOf(download);
    expect(download_i).toBeLessThan(wf.jobs.merge.steps.indexOf(mergeRun));
    // Every action named exists at that version.
    const uses = [...wf.jobs.split.steps, ...wf.jobs.merge.steps].flatMap((s) => (s.uses ? [s.uses] : []));
    for (const u of uses) expect(KNOWN_ACTIONS.has(u), u).toBe(true);

    // The matrix's commands, run as each runner would, then the merge: a complete release.
    const bin = await fakeGo(r.dir);
    const splitRun = wf.jobs.split.steps.find((s) => s.run?.includes('release --split'))!.run!;
    for (const m of include) {
      const cmd = splitRun.replace('${{ matrix.targets }}', m.targets).replace('${{ matrix.id }}', m.id);
      const args = cmd.split(' ').slice(cmd.startsWith('npx --yes') ? 3 : 2);
      const s = await runCli([...args, '--snapshot'], { cwd: r.dir, env: { PATH: `${bin}:${process.env.PATH}` } });
      expect(s.code, `${cmd}: ${s.stderr}`).toBe(0);
    }
    expect((await readdir(join(r.dir, 'dist'))).sort()).toEqual(include.map((m) => m.id).sort());
    const merged = await runCli(['continue', '--merge', '--snapshot'], { cwd: r.dir, env: { COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined } });
    expect(merged.code, merged.stderr).toBe(0);
    const sums = (await readdir(join(r.dir, 'dist'))).find((f) => f.endsWith('checksums.txt'))!;
    const lines = (await readFile(join(r.dir, 'dist', sums), 'utf8')).trim().split('\n');
    expect(lines.filter((l) => /_(linux|darwin|windows)_/.test(l))).toHaveLength(targets.length);
  });

  it('--split without --github or --gitlab is a usage error', async () => {
    const r = await TempRepo.create(GO_PROJECT);
    repos.push(r);
    const res = await runCli(['init', '--split'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe('relsign: --split needs --github or --gitlab (it writes the split CI workflow)');
  });
});

describe('relsign init --github --split --image', () => {
  it('logs in to the registry in the split jobs that build image platforms, and grants packages: write to them', async () => {
    const r = await TempRepo.create(GO_PROJECT);
    repos.push(r);
    await r.commit('feat: initial');
    const init = await runCli(['init', '--github', '--split', '--image', 'ghcr.io/acme/tool'], { cwd: r.dir });
    expect(init.code, init.stderr).toBe(0);
    const text = await readFile(join(r.dir, '.github/workflows/release.yml'), 'utf8');
    expect(workflowErrors(text)).toEqual([]);
    const wf = parse(text) as Workflow;
    const include = wf.jobs.split.strategy!.matrix.include as Array<{ runner: string; targets: string; images?: boolean }>;
    // Only the Linux runners build the image's platforms (linux/amd64, linux/arm64).
    expect(include.map((m) => [m.runner, m.images])).toEqual([
      ['ubuntu-latest', true],
      ['ubuntu-24.04-arm', true],
      ['macos-latest', false],
      ['windows-latest', false],
    ]);
    expect(wf.jobs.split.permissions).toEqual({ contents: 'read', packages: 'write' });
    const login = wf.jobs.split.steps.find((s) => s.uses?.startsWith('docker/login-action@')) as Step & { if?: string };
    expect(login.if).toBe('matrix.images');
    expect(login.with).toMatchObject({ registry: 'ghcr.io' });
    const splitRun = wf.jobs.split.steps.findIndex((s) => s.run?.includes('release --split'));
    expect(wf.jobs.split.steps.indexOf(login)).toBeLessThan(splitRun);
    // The split jobs still see no signing secret and no release token beyond the login's.
    expect(JSON.stringify(wf.jobs.split)).not.toMatch(/COSIGN/);
    expect(wf.jobs.split.steps[splitRun]!.env).toBeUndefined();
    // The merge pushes the index and the tags: it logs in too.
    expect(wf.jobs.merge.permissions).toEqual({ contents: 'write', packages: 'write' });
    expect(wf.jobs.merge.steps.some((s) => s.uses?.startsWith('docker/login-action@'))).toBe(true);
    for (const s of [...wf.jobs.split.steps, ...wf.jobs.merge.steps]) if (s.uses) expect(KNOWN_ACTIONS.has(s.uses), s.uses).toBe(true);
  });
});

describe('relsign init --gitlab --split', () => {
  type GitlabJob = {
    stage: string;
    tags?: string[];
    image?: string;
    parallel?: { matrix: Array<Record<string, string>> };
    needs?: Array<{ job: string; artifacts: boolean }>;
    environment?: string;
    id_tokens?: Record<string, { aud: string }>;
    script: string[];
    artifacts: { paths: string[] };
  };

  it('writes a pipeline the GitLab CI schema accepts: a parallel:matrix split job, a Windows job, a merge job that needs them; it runs', async () => {
    const r = await TempRepo.create(GO_PROJECT);
    repos.push(r);
    await r.commit('feat: initial');
    const init = await runCli(['init', '--gitlab', '--split'], { cwd: r.dir });
    expect(init.code, init.stderr).toBe(0);
    const text = await readFile(join(r.dir, '.gitlab-ci.yml'), 'utf8');
    expect(gitlabCiErrors(text)).toEqual([]);
    // The schema does look at jobs: a misspelt key or a matrix that is not a list is refused.
    expect(gitlabCiErrors(text.replace('  needs:', '  needz:'))).not.toEqual([]);
    expect(gitlabCiErrors(text.replace('    matrix:', '    matrix: 3\n    x:'))).not.toEqual([]);
    const ci = parse(text) as Record<string, GitlabJob>;
    expect(Object.keys(ci)).toEqual(['relsign-split', 'relsign-split-windows', 'relsign-merge']);
    const split = ci['relsign-split']!;
    const win = ci['relsign-split-windows']!;
    const merge = ci['relsign-merge']!;

    // One matrix entry per hosted runner the targets need, picked by tag.
    const config = parse(await readFile(join(r.dir, 'relsign.config.yaml'), 'utf8')) as { builds: Array<{ targets: string[] }> };
    const targets = [...new Set(config.builds.flatMap((b) => b.targets))].sort();
    expect(split.parallel!.matrix.map((m) => m.RUNNER)).toEqual(['saas-linux-small-amd64', 'saas-linux-small-arm64', 'saas-macos-medium-m1']);
    expect(split.tags).toEqual(['$RUNNER']);
    expect(split.image).toBe('$IMAGE');
    expect(split.parallel!.matrix.find((m) => m.RUNNER === 'saas-macos-medium-m1')!.TARGETS.split(',').every((t) => t.startsWith('darwin_'))).toBe(true);
    expect(win.tags).toEqual(['saas-windows-medium-amd64']);
    const winTargets = /--targets "([^"]+)"/.exec(win.script.at(-1)!)![1]!;
    expect([...split.parallel!.matrix.flatMap((m) => m.TARGETS.split(',')), ...winTargets.split(',')].sort()).toEqual(targets);
    for (const job of [split, win]) {
      expect(job.stage).toBe('build');
      expect(job.artifacts.paths).toEqual(['dist/']);
    }
    // The merge needs every split job's artifacts; only it is in the environment the signing variables are scoped to.
    expect(merge.stage).toBe('deploy');
    expect(merge.needs).toEqual([
      { job: 'relsign-split', artifacts: true },
      { job: 'relsign-split-windows', artifacts: true },
    ]);
    expect(merge.environment).toBe('release');
    expect(split.environment).toBeUndefined();
    expect(win.environment).toBeUndefined();
    expect(JSON.stringify([split, win])).not.toMatch(/COSIGN|GITHUB_TOKEN|REGISTRY_PASSWORD/);
    expect(merge.id_tokens).toBeUndefined();

    // The jobs' commands, run as each runner would, then the merge: a complete (snapshot) release.
    const bin = await fakeGo(r.dir);
    const run = async (line: string, vars: Record<string, string>) => {
      const cmd = line.replace(/"\$([A-Z_]+)"/g, (_, k: string) => vars[k]!).replace(/"/g, '');
      const args = cmd.split(' ').slice(cmd.startsWith('npx --yes') ? 3 : 2);
      const res = await runCli([...args, '--snapshot'], { cwd: r.dir, env: { PATH: `${bin}:${process.env.PATH}`, COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined } });
      expect(res.code, `${cmd}: ${res.stderr}`).toBe(0);
    };
    const splitLine = split.script.find((l) => l.includes('release --split'))!;
    for (const m of split.parallel!.matrix) await run(splitLine, m);
    await run(win.script.find((l) => l.includes('release --split'))!, {});
    expect((await readdir(join(r.dir, 'dist'))).sort()).toEqual(['saas-linux-small-amd64', 'saas-linux-small-arm64', 'saas-macos-medium-m1', 'saas-windows-medium-amd64']);
    await run(merge.script.find((l) => l.includes('continue --merge'))!, {});
    const sums = (await readdir(join(r.dir, 'dist'))).find((f) => f.endsWith('checksums.txt'))!;
    const lines = (await readFile(join(r.dir, 'dist', sums), 'utf8')).trim().split('\n');
    expect(lines.filter((l) => /_(linux|darwin|windows)_/.test(l))).toHaveLength(targets.length);
  });

  it('--keyless --image: id_tokens (aud sigstore) only in the merge job; the Linux split entries log in to the registry', async () => {
    const r = await TempRepo.create(GO_PROJECT);
    repos.push(r);
    await r.commit('feat: initial');
    const init = await runCli(['init', '--gitlab', '--split', '--keyless', '--image', 'registry.gitlab.com/acme/tool'], { cwd: r.dir });
    expect(init.code, init.stderr).toBe(0);
    const text = await readFile(join(r.dir, '.gitlab-ci.yml'), 'utf8');
    expect(gitlabCiErrors(text)).toEqual([]);
    const ci = parse(text) as Record<string, GitlabJob>;
    expect(ci['relsign-merge']!.id_tokens).toEqual({ SIGSTORE_ID_TOKEN: { aud: 'sigstore' } });
    expect(ci['relsign-split']!.id_tokens).toBeUndefined();
    expect(ci['relsign-split-windows']!.id_tokens).toBeUndefined();
    const matrix = ci['relsign-split']!.parallel!.matrix;
    expect(matrix.map((m) => [m.RUNNER, m.PUSH_IMAGES])).toEqual([
      ['saas-linux-small-amd64', 'true'],
      ['saas-linux-small-arm64', 'true'],
      ['saas-macos-medium-m1', 'false'],
    ]);
    const login = ci['relsign-split']!.script.find((l) => l.includes('.docker/config.json'))!;
    expect(login).toMatch(/^if \[ "\$PUSH_IMAGES" = true \]; then /);
    expect(login).toContain('$CI_REGISTRY_USER');
    // The login line writes a Docker config relsign reads: run it with a fake user and check.
    const home = join(r.dir, '.home');
    await mkdir(home);
    await execa('sh', ['-c', login], { env: { HOME: home, PUSH_IMAGES: 'true', CI_REGISTRY_USER: 'gitlab-ci-token', CI_REGISTRY_PASSWORD: 'p4ss' } });
    const written = JSON.parse(await readFile(join(home, '.docker/config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(written.auths['registry.gitlab.com']!.auth, 'base64').toString()).toBe('gitlab-ci-token:p4ss');
    expect(ci['relsign-merge']!.script.some((l) => l.includes('.docker/config.json'))).toBe(true);
  });
});
