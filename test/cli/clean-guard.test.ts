import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli } from '../helpers/cli.js';

/**
 * `relsign release --clean` through the CLI with a dist that would make the
 * clean step delete something that is not the project's output: it must
 * refuse (non-zero exit, one line) and leave every file alone.
 */
let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

const CONFIG = (dist: string) =>
  [
    'version: 2',
    'project_name: demo',
    `dist: ${dist}`,
    'builds:',
    '  - id: demo',
    '    prebuilt: payload.bin',
    '    targets: [linux_amd64]',
    '    binary: demo',
    'archives:',
    '  - formats: [binary]',
    'checksum:',
    '  disable: true',
    'changelog:',
    '  disable: true',
    '',
  ].join('\n');

/** <root>/project (a git repository with one commit) and <root>/outside (a folder with a file). */
async function layout(dist: string): Promise<{ project: string; outside: string }> {
  root = await mkdtemp(join(tmpdir(), 'relsign-clean-guard-'));
  const project = join(root, 'project');
  const outside = join(root, 'outside');
  await mkdir(project);
  await mkdir(outside);
  await writeFile(join(outside, 'keep.txt'), 'not relsign output\n');
  await writeFile(join(project, 'relsign.config.yaml'), CONFIG(dist));
  await writeFile(join(project, 'payload.bin'), 'binary\n');
  const git = (...args: string[]) =>
    execa('git', args, {
      cwd: project,
      env: { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' },
    });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'initial');
  return { project, outside };
}

describe('release --clean refuses a dist that is not the project output folder', () => {
  it('dist: ../outside — refused, the outside folder keeps its files', async () => {
    const { project, outside } = await layout('../outside');
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: project });
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('relsign: '))).toHaveLength(1);
    expect(r.stderr).toMatch(/outside/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(await readdir(outside)).toEqual(['keep.txt']);
    expect(await readFile(join(outside, 'keep.txt'), 'utf8')).toBe('not relsign output\n');
  });

  it('dist: .git — refused, the repository survives', async () => {
    const { project, outside } = await layout('.git');
    const head = (await execa('git', ['rev-parse', 'HEAD'], { cwd: project })).stdout;
    const r = await runCli(['release', '--snapshot', '--clean'], { cwd: project });
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/\.git/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect((await execa('git', ['rev-parse', 'HEAD'], { cwd: project })).stdout).toBe(head);
    expect((await execa('git', ['status', '--porcelain'], { cwd: project })).stdout).toBe('');
    expect(await readdir(outside)).toEqual(['keep.txt']);
  });
});
