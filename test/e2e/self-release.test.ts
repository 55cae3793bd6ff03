import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';
import { workflowErrors } from '../helpers/workflow-schema.js';

/**
 * relsign's own relsign.config.yaml — the example maintainers copy — run with
 * --snapshot on a copy of this repository (its tracked files, the lib/ that
 * `npm test` just built, node_modules linked). `--skip before` leaves out only
 * the `npm run build` hook, which would rebuild that same lib/.
 */
const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
let copy: TempRepo;
let out: string;
let short: string;

beforeAll(async () => {
  copy = await TempRepo.create();
  const tracked = (await execa('git', ['ls-files', '-z'], { cwd: REPO_ROOT })).stdout.split('\0').filter(Boolean);
  for (const f of tracked) {
    await mkdir(dirname(join(copy.dir, f)), { recursive: true });
    await cp(join(REPO_ROOT, f), join(copy.dir, f), { dereference: false, errorOnExist: false, force: true }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // deleted in the work tree, not yet committed
    });
  }
  await cp(join(REPO_ROOT, 'lib'), join(copy.dir, 'lib'), { recursive: true });
  await symlink(join(REPO_ROOT, 'node_modules'), join(copy.dir, 'node_modules'));
  await copy.commit('chore: release');
  short = await copy.git('rev-parse', '--short', 'HEAD');
  out = await mkdtemp(join(tmpdir(), 'relsign-self-out-'));
}, 120_000);
afterAll(async () => {
  await copy?.remove();
  if (out) await rm(out, { recursive: true, force: true });
});

describe("relsign's own release config", () => {
  it('is found without --config, passes check, and the release workflow passes the GitHub Actions schema', async () => {
    const check = await runCli(['check'], { cwd: copy.dir });
    expect(check.code, check.stderr).toBe(0);
    const text = await readFile(join(REPO_ROOT, '.github/workflows/release.yml'), 'utf8');
    expect(workflowErrors(text)).toEqual([]);
    const wf = parse(text) as { permissions: unknown; jobs: { release: { steps: Array<{ run?: string; with?: unknown }> } } };
    expect(wf.permissions).toEqual({ contents: 'write' });
    expect(wf.jobs.release.steps[0]!.with).toEqual({ 'fetch-depth': 0 });
    expect(wf.jobs.release.steps.at(-1)!.run).toBe('npx relsign release --clean');
  });

  it('a snapshot makes the npm tarball and the standalone bundle, checksums them and signs every asset', async () => {
    const r = await runCli(['release', '--snapshot', '--clean', '--skip', 'before'], {
      cwd: copy.dir,
      env: { COSIGN_PRIVATE_KEY: undefined, COSIGN_PASSWORD: undefined, GITHUB_TOKEN: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    const version = `0.0.0-SNAPSHOT-${short}`; // no tag in the copy
    const dist = join(copy.dir, 'dist');
    const files = (await readdir(dist)).sort();
    const assets = [`relsign-${version}.tgz`, `relsign-${version}-node.tar.gz`, `relsign-${version}.tar.gz`, `relsign_${version}_checksums.txt`];
    for (const a of assets) {
      expect(files).toContain(a);
      expect(files).toContain(`${a}.sig`);
      const v = await runCli(['verify-blob', '--key', 'dist/relsign-ephemeral.pub', '--insecure-ignore-tlog', '--signature', `dist/${a}.sig`, `dist/${a}`], { cwd: copy.dir });
      expect(v.code, `${a}: ${v.stderr}`).toBe(0);
    }
    const sums = await readFile(join(dist, `relsign_${version}_checksums.txt`), 'utf8');
    expect(sums.trim().split('\n').map((l) => l.split('  ')[1]).sort()).toEqual(assets.slice(0, 3).sort());
    await execa('sha256sum', ['-c', '--strict', `relsign_${version}_checksums.txt`], { cwd: dist });

    // The npm tarball: what `npm i relsign` gets, with LICENSE and docs.
    const npmList = (await execa('tar', ['-tzf', join(dist, `relsign-${version}.tgz`)])).stdout.split('\n');
    expect(npmList).toEqual(expect.arrayContaining(['package/package.json', 'package/LICENSE', 'package/bin/relsign.js', 'package/lib/index.js', 'package/docs/configuration.md', 'package/schema/relsign.schema.json']));

    // The standalone bundle runs with Node alone, unpacked outside any project.
    await execa('tar', ['-xzf', join(dist, `relsign-${version}-node.tar.gz`), '-C', out]);
    const entries = await readdir(out);
    expect(entries).toEqual([`relsign-${pkg.version}`]);
    const bundled = join(out, entries[0]!);
    const ver = await execa(process.execPath, [join(bundled, 'bin/relsign.js'), '--version'], { cwd: out });
    expect(ver.stdout.trim()).toBe(pkg.version);
    const chk = await execa(process.execPath, [join(bundled, 'bin/relsign.js'), 'check', '--config', join(copy.dir, 'relsign.config.yaml')], { cwd: out, reject: false });
    expect(chk.exitCode, chk.stderr).toBe(0);
    // Only runtime dependencies: no test runner or compiler inside.
    const modules = await readdir(join(bundled, 'node_modules'));
    expect(modules).toContain('commander');
    expect(modules.filter((m) => ['vitest', 'typescript', 'vite', 'express'].includes(m))).toEqual([]);
  });
});
