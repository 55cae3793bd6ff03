import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';
import { workflowErrors } from '../helpers/workflow-schema.js';

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

  it('--split without --github is a usage error', async () => {
    const r = await TempRepo.create(GO_PROJECT);
    repos.push(r);
    const res = await runCli(['init', '--split'], { cwd: r.dir });
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe('relsign: --split needs --github (it writes the split matrix workflow)');
  });
});
