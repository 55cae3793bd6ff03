import { execFile, spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveStage } from '../../src/stages/archive/index.js';
import { writeArchive, type ArchiveEntry, type FileFormat } from '../../src/stages/archive/writer.js';
import { buildStage } from '../../src/stages/build.js';
import { checksumStage } from '../../src/stages/checksum.js';
import { signStage } from '../../src/stages/sign/index.js';
import { RelsignError } from '../../src/util/errors.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { testContext } from '../helpers/context.js';
import { contextFor, EXAMPLE_BUILD, exampleRepo, runStages } from './helpers.js';
import type { TempRepo } from '../helpers/repo.js';

const FORMATS: FileFormat[] = ['tar.gz', 'tar', 'zip', 'gz'];
const dirs: string[] = [];
const repos: TempRepo[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  for (const r of repos.splice(0)) await r.remove();
});

async function workDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'relsign-writefail-'));
  dirs.push(d);
  return d;
}

/** An archive entry for `src`, listed (stat) now, as the archive stage lists files before writing. */
async function listed(src: string, statOf = src): Promise<ArchiveEntry> {
  return { src, dst: 'file.txt', mode: 0o644, mtime: new Date('2024-01-02T03:04:05Z'), owner: '', group: '', stats: await stat(statOf) };
}

/** Names in `dir` that are temp files a failed write left behind. */
async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('.relsign-tmp'));
}

describe('archive writers fail cleanly: a RelsignError or a plain rejection, never a crash, never a temp file left', () => {
  it('a file that grows after it was listed (appended to meanwhile) is an error in every format', async () => {
    const dir = await workDir();
    for (const format of FORMATS) {
      const src = join(dir, `growing-${format}.log`);
      await writeFile(src, 'line\n'.repeat(5000));
      const entry = await listed(src);
      await appendFile(src, 'appended while archiving\n');
      const target = join(dir, `out.${format}`);
      await expect(writeArchive(format, target, [entry]), format).rejects.toThrow(
        new RelsignError(`${src} changed size while being archived (it grew past 25000 bytes); archive only files nothing writes to`),
      );
      await expect(stat(target), format).rejects.toThrow(/ENOENT/);
      expect(await leftovers(dir), format).toEqual([]);
    }
  });

  it('a file that shrank after it was listed is an error in every format', async () => {
    const dir = await workDir();
    for (const format of FORMATS) {
      const src = join(dir, `shrinking-${format}`);
      await writeFile(src, 'x'.repeat(3 << 20));
      const entry = await listed(src);
      await writeFile(src, 'short');
      await expect(writeArchive(format, join(dir, `out.${format}`), [entry]), format).rejects.toThrow(/changed size while being archived \(it shrank from 3145728 to 5 bytes\)/);
      expect(await leftovers(dir), format).toEqual([]);
    }
  });

  it('a named pipe swapped in for a listed file is refused without blocking', async () => {
    const dir = await workDir();
    await writeFile(join(dir, 'regular'), 'content');
    await promisify(execFile)('mkfifo', [join(dir, 'pipe')]);
    for (const format of FORMATS) {
      const entry = await listed(join(dir, 'pipe'), join(dir, 'regular'));
      await expect(writeArchive(format, join(dir, `out.${format}`), [entry]), format).rejects.toThrow(
        /pipe is not a regular file \(a pipe, device or socket\); archive only regular files$/,
      );
      expect(await leftovers(dir), format).toEqual([]);
    }
  });

  it('a target name the file system refuses (ENAMETOOLONG) or a missing folder rejects and leaves no temp file', async () => {
    const dir = await workDir();
    await writeFile(join(dir, 'src.txt'), 'content');
    for (const format of FORMATS) {
      const entry = await listed(join(dir, 'src.txt'));
      await expect(writeArchive(format, join(dir, `${'a'.repeat(300)}.${format}`), [entry]), format).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
      await expect(writeArchive(format, join(dir, 'missing', `out.${format}`), [entry]), format).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await leftovers(dir), format).toEqual([]);
    }
    expect((await readdir(dir)).sort()).toEqual(['src.txt']);
  });

  it('an aborted run (Ctrl-C, --timeout) stops archiving and removes the temp file', async () => {
    const dir = await workDir();
    await writeFile(join(dir, 'big'), Buffer.alloc(4 << 20, 7));
    const controller = new AbortController();
    controller.abort();
    for (const format of FORMATS) {
      await expect(writeArchive(format, join(dir, `out.${format}`), [await listed(join(dir, 'big'))], controller.signal), format).rejects.toThrow(
        'archiving file.txt: cancelled',
      );
      expect((await readdir(dir)).sort(), format).toEqual(['big']);
    }
  });

  it('the archive stage turns a file appended to while it is archived into one line naming the archive, with no temp file left', async () => {
    const repo = await exampleRepo();
    repos.push(repo);
    const log = join(repo.dir, 'server.log');
    await writeFile(log, 'x'.repeat(8 << 20));
    // A real concurrent writer: appends as fast as it can until killed.
    const appender = spawn('sh', ['-c', `while :; do printf 'appended line\\n' >> '${log}'; done`], { stdio: 'ignore' });
    try {
      const before = (await stat(log)).size;
      for (let i = 0; i < 200 && (await stat(log)).size === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await stat(log)).size).toBeGreaterThan(before);
      const { ctx } = await contextFor(repo, { builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64', 'windows_amd64'] }], archives: [{ files: ['server.log'], format_overrides: [{ goos: 'windows', formats: ['zip'] }] }] });
      await runStages(ctx, [buildStage]);
      const err = await archiveStage.run(ctx).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RelsignError);
      expect((err as Error).message).toMatch(
        /^archives\[0\]: creating hello_1\.2\.3_(linux_amd64\.tar\.gz|windows_amd64\.zip) failed: .*server\.log changed size while being archived \(it grew past \d+ bytes\); archive only files nothing writes to$/,
      );
      const left = await readdir(ctx.distDir);
      expect(left.filter((n) => n.startsWith('.relsign-tmp') || n.endsWith('.tar.gz') || n.endsWith('.zip'))).toEqual([]);
    } finally {
      appender.kill('SIGKILL');
    }
  });
});

describe('checksum and signing writers fail cleanly', () => {
  it('a checksum file that cannot be written is one line naming it, with no temp file left', async () => {
    const dir = await workDir();
    const { ctx } = await testContext(dir, { checksum: { name_template: 'sub/../sums.txt' } });
    await writeFile(join(ctx.distDir, 'a.tar.gz'), 'a');
    ctx.artifacts.add({ type: 'archive', name: 'a.tar.gz', path: join(ctx.distDir, 'a.tar.gz') });
    await expect(checksumStage.run(ctx)).rejects.toThrow(/^checksum\.name_template: name "sub\/\.\.\/sums\.txt" must not contain a path separator/);
    // A dist folder removed under the run: the write itself fails.
    const { ctx: gone } = await testContext(dir, { dist: 'gone' });
    await writeFile(join(gone.distDir, 'b.tar.gz'), 'b');
    gone.artifacts.add({ type: 'archive', name: 'b.tar.gz', path: join(gone.distDir, 'b.tar.gz') });
    gone.distDir = join(dir, 'gone', 'vanished');
    await expect(checksumStage.run(gone)).rejects.toThrow(/^checksum\.name_template: cannot write demo_1\.0\.0_checksums\.txt: no such file or folder \(ENOENT\)$/);
    expect(await leftovers(join(dir, 'gone'))).toEqual([]);
  });

  it('a signature name the file system refuses is one line, with no temp file left', async () => {
    const dir = await workDir();
    const { ctx } = await testContext(dir, { signs: [{ signer: 'builtin', key: 'env://NO_SUCH_KEY', artifacts: 'all' }] }, { options: { snapshot: true } });
    // 253 bytes is a valid artifact name; its 257-byte .sig is not a valid file name.
    const name = `${'n'.repeat(246)}.tar.gz`;
    await writeFile(join(ctx.distDir, name), 'payload');
    ctx.artifacts.add({ type: 'archive', name, path: join(ctx.distDir, name) });
    const err = await signStage.run(ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RelsignError);
    expect((err as Error).message).toMatch(/ENAMETOOLONG/);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    expect(await leftovers(ctx.distDir)).toEqual([]);
    expect(await readdir(ctx.distDir)).not.toContain(`${name}.sig`);
  });

  it('writeFileAtomic removes its temp file when the rename fails', async () => {
    const dir = await workDir();
    await mkdir(join(dir, 'target-is-a-folder'));
    await writeFile(join(dir, 'target-is-a-folder', 'x'), 'x');
    await expect(writeFileAtomic(join(dir, 'target-is-a-folder'), 'data')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    await expect(writeFileAtomic(join(dir, 'n'.repeat(256)), 'data')).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    expect((await readdir(dir)).sort()).toEqual(['target-is-a-folder']);
  });
});
