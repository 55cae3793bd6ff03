import { createHash } from 'node:crypto';
import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { archivePath } from '../../src/stages/archive/files.js';
import { archiveStage } from '../../src/stages/archive/index.js';
import { buildStage } from '../../src/stages/build.js';
import { checksumStage } from '../../src/stages/checksum.js';
import { TempRepo } from '../helpers/repo.js';
import { contextFor, EXAMPLE_BUILD, exampleRepo, runStages } from './helpers.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  for (const r of repos.splice(0)) await r.remove();
});
async function newRepo(): Promise<TempRepo> {
  const r = await exampleRepo();
  repos.push(r);
  return r;
}

/** Runs a real tool with a fixed time zone (tar prints local times). */
async function tool(cmd: string, args: string[], cwd: string): Promise<string> {
  return (await execa(cmd, args, { cwd, env: { TZ: 'UTC', LC_ALL: 'C' } })).stdout;
}

const EXAMPLE_ARCHIVE = {
  formats: ['tar.gz'],
  format_overrides: [{ goos: 'windows', formats: ['zip'] }],
  wrap_in_directory: true,
};

const sha256 = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');

describe('archive stage', () => {
  it('makes tar.gz and (for windows) zip archives that real tools read, with fixed owners, modes and times', async () => {
    const repo = await newRepo();
    const { ctx } = await contextFor(repo, { builds: [EXAMPLE_BUILD], archives: [EXAMPLE_ARCHIVE] });
    await runStages(ctx, [buildStage, archiveStage]);
    const archives = ctx.artifacts.filter({ types: ['archive'] });
    expect(archives.map((a) => a.name)).toEqual([
      'hello_1.2.3_darwin_arm64.tar.gz',
      'hello_1.2.3_linux_amd64.tar.gz',
      'hello_1.2.3_linux_arm64.tar.gz',
      'hello_1.2.3_windows_amd64.zip',
    ]);
    expect(archives[1]).toMatchObject({
      type: 'archive',
      id: 'default',
      os: 'linux',
      arch: 'amd64',
      target: 'linux_amd64',
      path: 'dist/hello_1.2.3_linux_amd64.tar.gz',
      extra: { format: 'tar.gz', wrappedIn: 'hello_1.2.3_linux_amd64', builds: ['hello'], binaries: ['hello_1.2.3_linux_amd64/hello'] },
    });
    const dist = join(repo.dir, 'dist');
    const listing = await tool('tar', ['-tzvf', 'hello_1.2.3_linux_amd64.tar.gz'], dist);
    const lines = listing.split('\n').map((l) => l.replace(/\s+/g, ' '));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^-rw-r--r-- 0\/0 \d+ 2024-01-02 03:04 hello_1\.2\.3_linux_amd64\/LICENSE$/);
    expect(lines[1]).toMatch(/^-rw-r--r-- 0\/0 \d+ 2024-01-02 03:04 hello_1\.2\.3_linux_amd64\/README\.md$/);
    expect(lines[2]).toMatch(/^-rwxr-xr-x 0\/0 \d+ 2024-01-02 03:04 hello_1\.2\.3_linux_amd64\/hello$/);
    // The binary inside is the one built, and runs after extraction.
    await tool('tar', ['-xzf', 'hello_1.2.3_linux_amd64.tar.gz'], dist);
    expect(await tool(join(dist, 'hello_1.2.3_linux_amd64/hello'), ['--version'], dist)).toBe('hello 1.2.3 (linux_amd64)');

    const zipList = await tool('unzip', ['-l', 'hello_1.2.3_windows_amd64.zip'], dist);
    expect(zipList).toContain('hello_1.2.3_windows_amd64/hello.exe');
    expect(zipList).toContain('hello_1.2.3_windows_amd64/README.md');
    expect(zipList).toMatch(/(2024-01-02|01-02-2024) 03:04\s+hello_1\.2\.3_windows_amd64\/LICENSE/);
    const zipInfo = await tool('zipinfo', ['hello_1.2.3_windows_amd64.zip'], dist);
    expect(zipInfo).toMatch(/-rwxr-xr-x .* unx .* hello_1\.2\.3_windows_amd64\/hello\.exe/);
    expect(zipInfo).toMatch(/-rw-r--r-- .* unx .* hello_1\.2\.3_windows_amd64\/LICENSE/);
    await tool('unzip', ['-tq', 'hello_1.2.3_windows_amd64.zip'], dist);
    // gzip header: mtime 0, OS byte 255 (the same on every platform).
    const gz = await readFile(join(dist, 'hello_1.2.3_linux_amd64.tar.gz'));
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    await tool('gzip', ['-t', 'hello_1.2.3_linux_amd64.tar.gz'], dist);
  });

  it('gives byte-identical archives for the same commit, whatever the checkout mtimes, umask, clock or time zone', async () => {
    const a = await newRepo();
    const b = await TempRepo.plain();
    repos.push(b);
    await execa('git', ['clone', '-q', a.dir, b.dir + '/c']);
    const bdir = b.dir + '/c';
    // Different file times and modes in the second checkout must not matter.
    await utimes(join(bdir, 'README.md'), new Date('2030-05-05T00:00:00Z'), new Date('2030-05-05T00:00:00Z'));
    await execa('chmod', ['0600', join(bdir, 'LICENSE')]);
    const cfg = {
      builds: [EXAMPLE_BUILD],
      archives: [
        EXAMPLE_ARCHIVE,
        { id: 'plain', formats: ['tar', 'zip'], name_template: '{{ .ProjectName }}_{{ .Target }}_plain' },
        { id: 'gz', formats: ['gz'], name_template: '{{ .ProjectName }}_{{ .Target }}_bin' },
      ],
    };
    const runA = await contextFor(a, cfg, { parallelism: 4 });
    await runStages(runA.ctx, [buildStage, archiveStage, checksumStage]);
    // The second run happens on another clock, years later, in a time zone with a
    // non-hour offset, and its freshly built binaries carry that time as their
    // mtime: any current time leaking into an archive changes its bytes.
    const bRepo = Object.assign(Object.create(TempRepo.prototype) as TempRepo, { dir: bdir });
    const savedTz = process.env.TZ;
    const later = new Date('2031-07-04T05:06:07Z');
    process.env.TZ = 'Pacific/Chatham';
    vi.useFakeTimers({ now: later, toFake: ['Date'] });
    let runB: Awaited<ReturnType<typeof contextFor>>;
    try {
      expect(new Date().getTime()).toBe(later.getTime());
      expect(later.getTimezoneOffset()).not.toBe(0); // the zone is in effect
      runB = await contextFor(bRepo, cfg, { parallelism: 1 });
      await runStages(runB.ctx, [buildStage]);
      for (const bin of runB.ctx.artifacts.filter({ types: ['binary'] })) await utimes(join(bdir, bin.path), later, later);
      await runStages(runB.ctx, [archiveStage, checksumStage]);
    } finally {
      vi.useRealTimers();
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
    const namesA = runA.ctx.artifacts.filter({ types: ['archive'] }).map((x) => x.name);
    expect(namesA).toHaveLength(4 + 8 + 4);
    for (const name of namesA) {
      expect(await sha256(join(bdir, 'dist', name)), name).toBe(await sha256(join(a.dir, 'dist', name)));
    }
    const sums = await readFile(join(a.dir, 'dist/hello_1.2.3_checksums.txt'), 'utf8');
    expect(await readFile(join(bdir, 'dist/hello_1.2.3_checksums.txt'), 'utf8')).toBe(sums);
    // gz holds just the binary.
    expect(await tool('sh', ['-c', 'gzip -dc hello_linux_amd64_bin.gz | head -1'], join(a.dir, 'dist'))).toBe('#!/usr/bin/env node');
    // tar (uncompressed) is readable too
    expect(await tool('tar', ['-tf', 'hello_linux_amd64_plain.tar'], join(a.dir, 'dist'))).toBe('LICENSE\nREADME.md\nhello');
  });

  it('wraps in a templated directory for tar.gz and zip; files objects with dst, strip_parent and info', async () => {
    const repo = await newRepo();
    await repo.write({ 'docs/guide/intro.md': 'intro', 'docs/ref.md': 'ref', 'completions/hello.bash': 'complete', 'readme.txt': 'lower', 'ChangeLog.md': 'c' });
    const { ctx } = await contextFor(repo, {
      builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64', 'windows_amd64'] }],
      archives: [
        {
          formats: ['tar.gz', 'zip'],
          name_template: 'hello-{{ .Os }}',
          wrap_in_directory: 'pkg-{{ .Version }}/{{ .Arch }}',
          files: [
            'LICENSE',
            { src: 'docs/**/*.md', dst: 'share/doc' },
            { src: 'completions/*', dst: 'etc', strip_parent: true, info: { mode: 0o600, owner: 'root', group: 'wheel', mtime: '2020-02-02T02:02:02Z' } },
          ],
        },
      ],
    });
    await runStages(ctx, [buildStage, archiveStage]);
    const dist = join(repo.dir, 'dist');
    const tarList = (await tool('tar', ['-tzvf', 'hello-linux.tar.gz'], dist)).split('\n').map((l) => l.replace(/\s+/g, ' '));
    expect(tarList.map((l) => l.split(' ').pop())).toEqual([
      'pkg-1.2.3/amd64/LICENSE',
      'pkg-1.2.3/amd64/etc/hello.bash',
      'pkg-1.2.3/amd64/hello',
      'pkg-1.2.3/amd64/share/doc/guide/intro.md',
      'pkg-1.2.3/amd64/share/doc/ref.md',
    ]);
    expect(tarList[1]).toMatch(/^-rw------- root\/wheel \d+ 2020-02-02 02:02 /);
    const zipList = await tool('unzip', ['-Z1', 'hello-windows.zip'], dist);
    expect(zipList.split('\n')).toEqual([
      'pkg-1.2.3/amd64/LICENSE',
      'pkg-1.2.3/amd64/etc/hello.bash',
      'pkg-1.2.3/amd64/hello.exe',
      'pkg-1.2.3/amd64/share/doc/guide/intro.md',
      'pkg-1.2.3/amd64/share/doc/ref.md',
    ]);
    expect(ctx.artifacts.filter({ types: ['archive'] }).map((a) => a.name)).toEqual([
      'hello-linux.tar.gz',
      'hello-linux.zip',
      'hello-windows.tar.gz',
      'hello-windows.zip',
    ]);
  });

  it('default files match README/LICENSE/CHANGELOG in any case; meta archives hold files only', async () => {
    const repo = await newRepo();
    await repo.write({ 'changelog.md': 'c', 'License.extra': 'l', 'NOTES.md': 'n' });
    const { ctx } = await contextFor(repo, {
      builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64'] }],
      archives: [{ id: 'bin' }, { id: 'meta', meta: true, name_template: '{{ .ProjectName }}_{{ .Version }}_docs', files: ['*.md'] }],
    });
    await runStages(ctx, [buildStage, archiveStage]);
    const dist = join(repo.dir, 'dist');
    expect(await tool('tar', ['-tzf', 'hello_1.2.3_linux_amd64.tar.gz'], dist)).toBe('LICENSE\nLicense.extra\nREADME.md\nchangelog.md\nhello');
    expect(await tool('tar', ['-tzf', 'hello_1.2.3_docs.tar.gz'], dist)).toBe('NOTES.md\nREADME.md\nchangelog.md');
    const meta = ctx.artifacts.filter({ types: ['archive'], ids: ['meta'] })[0]!;
    expect(meta.os).toBeUndefined();
    expect(meta.extra).toMatchObject({ meta: true, binaries: [] });
  });

  it('registers uploadable binaries for the binary format (.exe on windows)', async () => {
    const repo = await newRepo();
    const { ctx } = await contextFor(repo, {
      builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64', 'windows_amd64'] }],
      archives: [{ formats: ['binary'] }],
    });
    await runStages(ctx, [buildStage, archiveStage]);
    const ups = ctx.artifacts.filter({ types: ['uploadable_binary'] });
    expect(ups.map((u) => [u.name, u.path])).toEqual([
      ['hello_1.2.3_linux_amd64', 'dist/hello_linux_amd64/hello'],
      ['hello_1.2.3_windows_amd64.exe', 'dist/hello_windows_amd64/hello.exe'],
    ]);
    expect(ctx.artifacts.filter({ types: ['archive'] })).toEqual([]);
    expect((await readdir(join(repo.dir, 'dist'))).sort()).toEqual(['hello_linux_amd64', 'hello_windows_amd64']);
  });

  it('format_overrides: prefix match, first wins, none skips', async () => {
    const repo = await newRepo();
    const { ctx } = await contextFor(repo, {
      builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64', 'linux_arm64', 'darwin_arm64', 'windows_amd64'] }],
      archives: [{
        name_template: '{{ .Target }}',
        format_overrides: [
          { goos: 'linux_arm', formats: ['zip'] },
          { goos: 'linux', formats: ['tar'] },
          { goos: 'darwin', formats: ['none'] },
          { goos: 'windows', formats: ['zip', 'tar.gz'] },
        ],
      }],
    });
    await runStages(ctx, [buildStage, archiveStage]);
    expect(ctx.artifacts.filter({ types: ['archive'] }).map((a) => a.name)).toEqual([
      'linux_amd64.tar',
      'linux_arm64.zip',
      'windows_amd64.zip',
      'windows_amd64.tar.gz',
    ]);
  });

  it('rejects paths that escape the archive root', async () => {
    expect(() => archivePath('../x', 'w')).toThrow('w: "../x" escapes the archive root');
    expect(() => archivePath('a/../../x', 'w')).toThrow('escapes the archive root');
    expect(() => archivePath('/etc/passwd', 'w')).toThrow('is an absolute path');
    expect(archivePath('./a//b/', 'w')).toBe('a/b');
    const repo = await newRepo();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ files: [{ src: 'LICENSE', dst: '../../outside' }] }, /archives\[0\]\.files\[0\]\.dst: "\.\.\/\.\.\/outside\/LICENSE" escapes the archive root/],
      [{ files: [{ src: 'LICENSE', dst: '/abs' }] }, /archives\[0\]\.files\[0\]\.dst: "\/abs\/LICENSE" is an absolute path/],
      [{ files: ['../*'] }, /archives\[0\]\.files\[0\]\.src: "\.\.\/\*" is outside the project folder/],
      [{ wrap_in_directory: '../up' }, /archives\[0\]\.wrap_in_directory: "\.\.\/up" escapes the archive root/],
    ];
    for (const [i, [archive, re]] of cases.entries()) {
      const { ctx } = await contextFor(repo, { dist: `dist${i}`, builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64'] }], archives: [archive] });
      await expect(runStages(ctx, [buildStage, archiveStage])).rejects.toThrow(re);
      expect(await readdir(ctx.distDir)).toEqual(['hello_linux_amd64']);
    }
  });

  it('keeps long and non-ASCII paths intact in tar (pax) and zip (UTF-8 flag)', async () => {
    const repo = await newRepo();
    const long = `docs/${'very-long-folder-name/'.repeat(6)}guide-ünïcödé-指南.md`;
    await repo.write({ [long]: 'x' });
    const { ctx } = await contextFor(repo, {
      builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64'] }],
      archives: [{ formats: ['tar.gz', 'zip'], files: [long] }],
    });
    await runStages(ctx, [buildStage, archiveStage]);
    expect(long.length).toBeGreaterThan(150);
    expect((await tool('tar', ['--quoting-style=literal', '-tzf', 'hello_1.2.3_linux_amd64.tar.gz'], ctx.distDir)).split('\n')).toEqual([long, 'hello']);
    const py = await execa('python3', ['-c', 'import sys,zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', 'hello_1.2.3_linux_amd64.zip'], { cwd: ctx.distDir });
    expect(py.stdout.split('\n')).toEqual([long, 'hello']);
  });

  it('errors when two archives get the same name, naming the template', async () => {
    const repo = await newRepo();
    const { ctx } = await contextFor(repo, {
      builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64', 'linux_arm64'] }],
      archives: [{ name_template: '{{ .ProjectName }}_{{ .Os }}' }],
    });
    await expect(runStages(ctx, [buildStage, archiveStage])).rejects.toThrow(
      'archives[0].name_template: archive named hello_linux.tar.gz already exists. Check your archive name template',
    );
    const { ctx: ctx2 } = await contextFor(repo, { dist: 'd2', builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64'] }], archives: [{}] });
    await writeFile(join(ctx2.distDir, 'hello_1.2.3_linux_amd64.tar.gz'), 'old');
    await expect(runStages(ctx2, [buildStage, archiveStage])).rejects.toThrow(/archive named hello_1\.2\.3_linux_amd64\.tar\.gz already exists in d2/);
  });
});
