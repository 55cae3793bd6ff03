import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveStage } from '../../src/stages/archive/index.js';
import { buildStage } from '../../src/stages/build.js';
import { checksumStage } from '../../src/stages/checksum.js';
import { cleanStage, distProblem, distStage } from '../../src/stages/dist.js';
import { publishOptionsFromContext } from '../../src/stages/release.js';
import { RelsignError } from '../../src/util/errors.js';
import { resolveInside } from '../../src/util/fs.js';
import { globInProject } from '../../src/util/glob.js';
import { hasStackTrace, runCli } from '../helpers/cli.js';
import { TempRepo } from '../helpers/repo.js';
import { contextFor, EXAMPLE_BUILD, exampleRepo, runStages } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A folder outside every project, holding a file that must survive. */
async function outsideFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relsign-outside-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'precious.txt'), 'must survive');
  await writeFile(join(dir, 'secret.txt'), 'OUTSIDE-SECRET-CONTENT');
  return dir;
}

async function repoWith(files: Record<string, string>): Promise<TempRepo> {
  const r = await TempRepo.create(files);
  cleanups.push(() => r.remove());
  await r.commit('initial');
  return r;
}

async function example(): Promise<TempRepo> {
  const r = await exampleRepo();
  cleanups.push(() => r.remove());
  return r;
}

const ONE_TARGET = { ...EXAMPLE_BUILD, targets: ['linux_amd64'] };

/** Every regular file's bytes in every archive under dist, as tar sees them. */
async function archivedText(dist: string): Promise<string> {
  let all = '';
  for (const name of await readdir(dist)) {
    if (name.endsWith('.tar.gz')) all += (await execa('tar', ['-xzOf', name], { cwd: dist })).stdout;
  }
  return all;
}

describe('the output folder (dist) stays a folder of its own inside the project', () => {
  it('refuses dist outside the project, through a symlink, the project itself, .git and folders with tracked files', async () => {
    const outside = await outsideFolder();
    const repo = await repoWith({ 'relsign.config.yaml': 'project_name: demo\n', 'src/main.ts': 'x\n', 'README.md': '# d\n' });
    await symlink(outside, join(repo.dir, 'link'));
    const cases: Array<[string, RegExp]> = [
      ['link/sub', /^"link\/sub" is outside the project folder .* \(it resolves to .*relsign-outside-.*\/sub\)$/],
      ['.git', /^"\.git" is inside git's own folder/],
      ['.git/refs', /^"\.git\/refs" is inside git's own folder/],
      ['.', /^"\." is the project folder itself/],
      ['../x', /^"\.\.\/x" is outside the project folder/],
      ['src', /^"src" holds files tracked by git \("src\/main\.ts"\)/],
    ];
    for (const [dist, re] of cases) {
      expect(await distProblem(repo.dir, dist), dist).toMatch(re);
      const { ctx } = await contextFor(repo, { dist: 'dist' });
      // The stage sees what the config resolved to; both stages refuse before touching anything.
      ctx.distDir = join(repo.dir, dist);
      ctx.options.clean = true;
      await expect(cleanStage.run(ctx), dist).rejects.toThrow(RelsignError);
      await expect(distStage.run(ctx), dist).rejects.toThrow(/^dist: refusing to use /);
    }
    expect(await readFile(join(outside, 'sub', 'precious.txt'), 'utf8')).toBe('must survive');
    expect(await readFile(join(repo.dir, 'src', 'main.ts'), 'utf8')).toBe('x\n');
    expect(await repo.git('rev-parse', 'HEAD')).toMatch(/^[0-9a-f]{40}$/);
    // The normal case and a symlink that stays inside the project are fine.
    expect(await distProblem(repo.dir, 'dist')).toBeUndefined();
    await mkdir(join(repo.dir, 'out'));
    await symlink(join(repo.dir, 'out'), join(repo.dir, 'inside-link'));
    expect(await distProblem(repo.dir, 'inside-link/dist')).toBeUndefined();
  });

  it('relsign check and release --clean refuse a symlinked or .git dist, leaving outside files and the repository alone', async () => {
    const outside = await outsideFolder();
    const repo = await repoWith({ 'relsign.config.yaml': 'project_name: demo\ndist: link/sub\n', 'src/main.ts': 'x\n' });
    await symlink(outside, join(repo.dir, 'link'));
    for (const [dist, expected] of [
      ['link/sub', /^relsign: relsign\.config\.yaml:2:7: dist: "link\/sub" is outside the project folder/],
      ['.git', /^relsign: relsign\.config\.yaml:2:7: dist: "\.git" is inside git's own folder/],
      ['.', /^relsign: relsign\.config\.yaml:2:7: dist: "\." is the project folder itself/],
      ['../x', /^relsign: relsign\.config\.yaml:2:7: dist: "\.\.\/x" is outside the project folder/],
      ['src', /^relsign: relsign\.config\.yaml:2:7: dist: "src" holds files tracked by git/],
    ] as const) {
      await writeFile(join(repo.dir, 'relsign.config.yaml'), `project_name: demo\ndist: ${dist}\n`);
      for (const args of [['check'], ['release', '--snapshot', '--clean']]) {
        const r = await runCli(args, { cwd: repo.dir });
        expect(r.code, `${dist} ${args.join(' ')}`).toBe(1);
        expect(r.stderr.trim().split('\n'), dist).toHaveLength(1);
        expect(r.stderr.trim(), dist).toMatch(expected);
        expect(hasStackTrace(r.stderr)).toBe(false);
      }
    }
    expect((await readdir(join(outside, 'sub'))).sort()).toEqual(['precious.txt']);
    expect(await repo.git('rev-parse', 'HEAD')).toMatch(/^[0-9a-f]{40}$/);
    expect(await readFile(join(repo.dir, 'src', 'main.ts'), 'utf8')).toBe('x\n');
    // The normal dist still works end to end.
    await writeFile(join(repo.dir, 'relsign.config.yaml'), 'project_name: demo\ndist: dist\n');
    expect((await runCli(['check'], { cwd: repo.dir })).stdout).toBe('config is valid');
    const ok = await runCli(['release', '--snapshot', '--clean'], { cwd: repo.dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(await readdir(join(repo.dir, 'dist'))).toContain('metadata.json');
  });
});

describe('resolveInside', () => {
  it('resolves symlinks on the way, also for paths that do not exist yet, and refuses dangling links', async () => {
    const outside = await outsideFolder();
    const repo = await repoWith({ 'a/b.txt': 'b' });
    await symlink(outside, join(repo.dir, 'out'));
    await symlink(join(repo.dir, 'a'), join(repo.dir, 'in'));
    await symlink(join(outside, 'missing'), join(repo.dir, 'dangling'));
    expect((await resolveInside(repo.dir, 'in/new/file', 'w')).rel).toBe('a/new/file');
    await expect(resolveInside(repo.dir, 'out/not/yet', 'w')).rejects.toThrow(/^w: "out\/not\/yet" is outside the project folder/);
    await expect(resolveInside(repo.dir, '/etc/passwd', 'w')).rejects.toThrow(/^w: "\/etc\/passwd" is outside the project folder/);
    await expect(resolveInside(repo.dir, 'dangling/x', 'w')).rejects.toThrow(/^w: "dangling\/x": .* is a symlink to a missing target$/);
  });
});

describe('archives take files from inside the project only', () => {
  it('a tracked README that is a symlink to a file outside the project is an error, and its content is never archived', async () => {
    const outside = await outsideFolder();
    const repo = await example();
    await rm(join(repo.dir, 'README.md'));
    await symlink(join(outside, 'secret.txt'), join(repo.dir, 'README.md'));
    await repo.commit('readme is a symlink');
    const { ctx } = await contextFor(repo, { builds: [ONE_TARGET], archives: [{}] });
    await expect(runStages(ctx, [buildStage, archiveStage])).rejects.toThrow(
      /^archives\[0\]\.files\.src: README\.md is outside the project folder .* \(it resolves to .*secret\.txt\); copy outside files in with a before hook$/,
    );
    expect(await archivedText(ctx.distDir)).not.toContain('OUTSIDE-SECRET-CONTENT');
    expect((await readdir(ctx.distDir)).filter((n) => n.includes('.tar') || n.startsWith('.relsign-tmp'))).toEqual([]);
  });

  it('absolute globs and patterns that climb out of the project are errors naming the entry', async () => {
    const repo = await example();
    const cases: Array<[unknown, RegExp]> = [
      [{ src: '/etc/host*' }, /^archives\[0\]\.files\[0\]\.src: "\/etc\/host\*" is an absolute path/],
      ['/etc/passwd', /^archives\[0\]\.files\[0\]\.src: "\/etc\/passwd" is an absolute path/],
      ['../../../etc/passwd', /^archives\[0\]\.files\[0\]\.src: "\.\.\/\.\.\/\.\.\/etc\/passwd" is outside the project folder/],
      [{ src: '../**/hosts' }, /^archives\[0\]\.files\[0\]\.src: "\.\.\/\*\*\/hosts" is outside the project folder/],
    ];
    for (const [i, [file, re]] of cases.entries()) {
      const { ctx } = await contextFor(repo, { dist: `dist${i}`, builds: [ONE_TARGET], archives: [{ files: [file] }] });
      await expect(runStages(ctx, [buildStage, archiveStage])).rejects.toThrow(re);
      expect(await readdir(ctx.distDir)).toEqual(['hello_linux_amd64']);
    }
  });

  it('a symlinked folder leading out of the project is an error (and is not walked); symlinks that stay inside are followed', async () => {
    const outside = await outsideFolder();
    const repo = await example();
    await mkdir(join(repo.dir, 'docs'));
    await writeFile(join(repo.dir, 'docs', 'guide.md'), 'GUIDE-CONTENT');
    await symlink('docs/guide.md', join(repo.dir, 'GUIDE.md'));
    await symlink(outside, join(repo.dir, 'docs', 'ext'));
    const inside = await contextFor(repo, { dist: 'd1', builds: [ONE_TARGET], archives: [{ files: ['GUIDE.md'] }] });
    await runStages(inside.ctx, [buildStage, archiveStage]);
    const list = (await execa('tar', ['-tzvf', 'hello_1.2.3_linux_amd64.tar.gz'], { cwd: inside.ctx.distDir })).stdout;
    // Stored as a regular file holding the target's bytes (GoReleaser does the same).
    expect(list).toMatch(/^-rw-r--r-- .* GUIDE\.md$/m);
    expect(await archivedText(inside.ctx.distDir)).toContain('GUIDE-CONTENT');
    const out = await contextFor(repo, { dist: 'd2', builds: [ONE_TARGET], archives: [{ files: ['docs/**'] }] });
    await expect(runStages(out.ctx, [buildStage, archiveStage])).rejects.toThrow(
      /^archives\[0\]\.files\[0\]\.src: docs\/ext is outside the project folder .* \(it resolves to .*relsign-outside-\w+\); copy outside files in with a before hook$/,
    );
  });
});

describe('globs never walk outside the project', () => {
  it('a symlink to / under a ** pattern is reported, not walked', async () => {
    const repo = await repoWith({ 'a.md': 'a' });
    await symlink('/', join(repo.dir, 'rootfs'));
    // Were `rootfs` walked, this would list the whole machine and run into the test timeout.
    await expect(globInProject(repo.dir, '**/*.md', 'w')).rejects.toThrow(/^w: rootfs is outside the project folder .* \(it resolves to \/\); copy outside files in with a before hook$/);
    await rm(join(repo.dir, 'rootfs'));
    expect((await globInProject(repo.dir, '**/*.md', 'w')).map((m) => m.match)).toEqual(['a.md']);
  });
});

describe('checksum and release extra_files take files from inside the project only', () => {
  it('checksum.extra_files refuses absolute globs, climbing out, and symlinks leaving the project', async () => {
    const outside = await outsideFolder();
    const repo = await example();
    await symlink(join(outside, 'secret.txt'), join(repo.dir, 'notes.txt'));
    const cases: Array<[string, RegExp]> = [
      ['/etc/host*', /^checksum\.extra_files\[0\]\.glob: "\/etc\/host\*" is an absolute path/],
      ['../../../etc/passwd', /^checksum\.extra_files\[0\]\.glob: "\.\.\/\.\.\/\.\.\/etc\/passwd" is outside the project folder/],
      ['notes.txt', /^checksum\.extra_files\[0\]\.glob: notes\.txt is outside the project folder .* \(it resolves to .*secret\.txt\)/],
    ];
    for (const [i, [glob, re]] of cases.entries()) {
      const { ctx } = await contextFor(repo, { dist: `dist${i}`, checksum: { extra_files: [glob] } });
      await expect(runStages(ctx, [checksumStage])).rejects.toThrow(re);
      expect(await readdir(ctx.distDir)).toEqual([]);
    }
    const { ctx } = await contextFor(repo, { dist: 'ok', checksum: { extra_files: ['LICENSE'] } });
    await runStages(ctx, [checksumStage]);
    expect(await readFile(join(ctx.distDir, 'hello_1.2.3_checksums.txt'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}LICENSE\n$/);
  });

  it('release.extra_files refuses absolute globs, climbing out, and symlinks leaving the project', async () => {
    const outside = await outsideFolder();
    const repo = await example();
    await symlink(join(outside, 'secret.txt'), join(repo.dir, 'notes.txt'));
    const cases: Array<[string, RegExp]> = [
      ['/etc/host*', /^release\.extra_files\[0\]: "\/etc\/host\*" is an absolute path/],
      ['../../../etc/passwd', /^release\.extra_files\[0\]: "\.\.\/\.\.\/\.\.\/etc\/passwd" is outside the project folder/],
      ['notes.txt', /^release\.extra_files\[0\]: notes\.txt is outside the project folder/],
    ];
    for (const [glob, re] of cases) {
      const { ctx } = await contextFor(repo, { release: { extra_files: [glob], github: { owner: 'acme', name: 'hello' } } });
      await expect(publishOptionsFromContext(ctx)).rejects.toThrow(re);
    }
    const { ctx } = await contextFor(repo, { release: { extra_files: ['LICENSE'], github: { owner: 'acme', name: 'hello' } } });
    const opts = await publishOptionsFromContext(ctx);
    expect(opts.assets.map((a) => a.name)).toEqual(['LICENSE']);
  });
});
