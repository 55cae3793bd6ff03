import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveStage } from '../../src/stages/archive/index.js';
import { buildStage } from '../../src/stages/build.js';
import { checksumStage } from '../../src/stages/checksum.js';
import { sourceStage } from '../../src/stages/source.js';
import { releaseStages } from '../../src/stages/index.js';
import type { TempRepo } from '../helpers/repo.js';
import { contextFor, EXAMPLE_BUILD, exampleRepo, runStages } from './helpers.js';

let repo: TempRepo | undefined;
afterEach(async () => {
  await repo?.remove();
  repo = undefined;
});

const ARCHIVES = [{ format_overrides: [{ goos: 'windows', formats: ['zip'] }] }];

describe('source stage', () => {
  it('git-archives the commit with a prefix', async () => {
    repo = await exampleRepo();
    const { ctx } = await contextFor(repo, { source: { enabled: true, prefix_template: '{{ .ProjectName }}-{{ .Version }}' } });
    await runStages(ctx, [sourceStage]);
    const [src] = ctx.artifacts.filter({ types: ['source'] });
    expect(src).toMatchObject({ type: 'source', name: 'hello-1.2.3.tar.gz', path: 'dist/hello-1.2.3.tar.gz' });
    const list = (await execa('tar', ['-tzf', 'hello-1.2.3.tar.gz'], { cwd: ctx.distDir })).stdout.split('\n');
    expect(list).toContain('hello-1.2.3/README.md');
    expect(list).toContain('hello-1.2.3/scripts/build.mjs');
    expect(await readdir(ctx.distDir)).toEqual(['hello-1.2.3.tar.gz']);
  });

  it('supports zip and is skipped unless enabled', async () => {
    repo = await exampleRepo();
    const { ctx } = await contextFor(repo, { source: { enabled: true, format: 'zip', name_template: 'src' } });
    expect(sourceStage.skip(ctx)).toBe(false);
    await runStages(ctx, [sourceStage]);
    expect((await execa('unzip', ['-Z1', 'src.zip'], { cwd: ctx.distDir })).stdout).toContain('LICENSE');
    const { ctx: off } = await contextFor(repo, { dist: 'd2' });
    expect(sourceStage.skip(off)).toBe('source.enabled is false');
  });
});

describe('checksum stage', () => {
  it('writes sorted "<hex>  <name>" lines that sha256sum -c accepts, and marks each artifact', async () => {
    repo = await exampleRepo();
    const { ctx } = await contextFor(repo, { builds: [EXAMPLE_BUILD], archives: ARCHIVES, source: { enabled: true } });
    await runStages(ctx, [buildStage, archiveStage, sourceStage, checksumStage]);
    const text = await readFile(join(ctx.distDir, 'hello_1.2.3_checksums.txt'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(66))).toEqual([
      'hello-1.2.3.tar.gz',
      'hello_1.2.3_darwin_arm64.tar.gz',
      'hello_1.2.3_linux_amd64.tar.gz',
      'hello_1.2.3_linux_arm64.tar.gz',
      'hello_1.2.3_windows_amd64.zip',
    ]);
    for (const l of lines) expect(l).toMatch(/^[0-9a-f]{64} {2}\S+$/);
    const check = await execa('sha256sum', ['-c', 'hello_1.2.3_checksums.txt'], { cwd: ctx.distDir });
    expect(check.stdout.split('\n').every((l) => l.endsWith(': OK'))).toBe(true);
    const sum = ctx.artifacts.filter({ types: ['checksum'] });
    expect(sum).toHaveLength(1);
    expect(sum[0]).toMatchObject({ name: 'hello_1.2.3_checksums.txt', path: 'dist/hello_1.2.3_checksums.txt' });
    for (const a of ctx.artifacts.filter({ types: ['archive', 'source'] })) {
      const hex = (await execa('sha256sum', [a.path], { cwd: repo.dir })).stdout.split(' ')[0];
      expect(a.extra.checksum).toBe(`sha256:${hex}`);
    }
    // binaries (not uploadable on their own) are not in the file
    expect(text).not.toMatch(/ {2}hello(\.exe)?$/m);
  });

  it('split mode writes one <name>.<algo> file per artifact holding only the hex; sha512; ids; extra_files', async () => {
    repo = await exampleRepo();
    await repo.write({ 'extra/notes.txt': 'notes\n', 'extra/sbom.json': '{}' });
    const { ctx } = await contextFor(repo, {
      builds: [{ ...EXAMPLE_BUILD, targets: ['linux_amd64'] }, { ...EXAMPLE_BUILD, id: 'other', binary: 'other', targets: ['linux_amd64'] }],
      archives: [{ id: 'a', ids: ['hello'] }, { id: 'b', ids: ['other'], name_template: 'other_{{ .Os }}' }],
      checksum: {
        split: true,
        algorithm: 'sha512',
        ids: ['a'],
        extra_files: ['extra/notes.txt', { glob: 'extra/*.json', name_template: '{{ .ProjectName }}.sbom.json' }],
      },
    });
    await runStages(ctx, [buildStage, archiveStage, checksumStage]);
    const sums = ctx.artifacts.filter({ types: ['checksum'] });
    expect(sums.map((s) => s.name).sort()).toEqual([
      'hello.sbom.json.sha512',
      'hello_1.2.3_linux_amd64.tar.gz.sha512',
      'notes.txt.sha512',
    ]);
    const hex = await readFile(join(ctx.distDir, 'notes.txt.sha512'), 'utf8');
    expect(hex).toMatch(/^[0-9a-f]{128}$/);
    expect(hex).toBe((await execa('sha512sum', ['extra/notes.txt'], { cwd: repo.dir })).stdout.split(' ')[0]);
    // Checksummed, not registered for upload.
    expect(ctx.artifacts.filter({ types: ['file'] })).toEqual([]);
    expect(ctx.artifacts.filter({ types: ['checksum'] }).find((c) => c.name === 'hello.sbom.json.sha512')?.extra.for).toBe('hello.sbom.json');
    expect(ctx.artifacts.filter({ types: ['archive'], ids: ['b'] })[0]!.extra.checksum).toBeUndefined();
  });

  it('is skipped when disabled, writes nothing without artifacts, and errors in split mode', async () => {
    repo = await exampleRepo();
    const { ctx } = await contextFor(repo, { checksum: { disable: true } });
    expect(checksumStage.skip(ctx)).toBe('checksum.disable is set');
    const { ctx: empty } = await contextFor(repo, { dist: 'd2' });
    await runStages(empty, [checksumStage]);
    expect(await readdir(empty.distDir)).toEqual([]);
    const { ctx: split } = await contextFor(repo, { dist: 'd3', checksum: { split: true } });
    await expect(runStages(split, [checksumStage])).rejects.toThrow('checksum: there are no artifacts to checksum');
  });

  it('is wired into the release pipeline in order', () => {
    const names = releaseStages().map((s) => s.name);
    const i = names.indexOf('build');
    expect(names.slice(i, i + 4)).toEqual(['build', 'archive', 'source', 'checksum']);
    expect(names.indexOf('metadata')).toBeLessThan(i);
    expect(names.indexOf('artifacts')).toBeGreaterThan(i + 3);
  });
});
