import { mkdir, readdir, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { execa } from 'execa';
import type { Context } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { RelsignError } from '../util/errors.js';
import { isWithin, resolveInside } from '../util/fs.js';

/**
 * Why `dist` (as configured, relative to the project folder) must not be used
 * as the output folder, or undefined when it is safe. relsign deletes dist
 * with --clean and writes into it otherwise, so it must be a folder of its
 * own strictly inside the project: not the project itself, not outside it
 * (also through a symlink), not git's own folder, and not a folder holding
 * files git tracks. Checked by `relsign check` and again before dist is
 * touched.
 */
export async function distProblem(projectDir: string, dist: string): Promise<string | undefined> {
  let inside;
  try {
    inside = await resolveInside(projectDir, dist, 'dist');
  } catch (err) {
    if (err instanceof RelsignError) return err.message.replace(/^dist: /, '');
    throw err;
  }
  if (inside.rel === '') return `${JSON.stringify(dist)} is the project folder itself; use a folder of its own such as "dist"`;
  if (inside.rel.split('/').some((s) => s.toLowerCase() === '.git')) {
    return `${JSON.stringify(dist)} is inside git's own folder (.git)`;
  }
  const gitDir = await git(projectDir, ['rev-parse', '--absolute-git-dir']);
  if (gitDir !== undefined) {
    if (isWithin(gitDir.trim(), inside.real)) {
      return `${JSON.stringify(dist)} is inside git's own folder (${gitDir.trim()})`;
    }
    const tracked = await git(projectDir, ['ls-files', '-z', '--', inside.real]);
    if (tracked) {
      const first = tracked.split('\0')[0]!;
      return `${JSON.stringify(dist)} holds files tracked by git (${JSON.stringify(first)}); --clean would delete them. Use a folder of its own such as "dist"`;
    }
  }
  return undefined;
}

/** Runs git in the project; undefined when it fails (not a repository, or no git). */
async function git(cwd: string, args: string[]): Promise<string | undefined> {
  const r = await execa('git', args, { cwd, reject: false, stdin: 'ignore' });
  return r.failed ? undefined : String(r.stdout);
}

/** Refuses, before anything is deleted or written, an output folder that is not safely inside the project. */
export async function assertSafeDist(ctx: Context): Promise<void> {
  const dist = relative(ctx.cwd, ctx.distDir) || '.';
  const problem = await distProblem(ctx.cwd, dist);
  if (problem) throw new RelsignError(`dist: refusing to use ${problem}`);
}

export const cleanStage: Stage = {
  name: 'clean',
  description: 'cleaning dist',
  skip: (ctx) => (ctx.options.clean ? false : 'no --clean'),
  async run(ctx) {
    await assertSafeDist(ctx);
    await rm(ctx.distDir, { recursive: true, force: true });
  },
};

export const distStage: Stage = {
  name: 'dist',
  description: 'preparing dist',
  skip: () => false,
  async run(ctx) {
    await assertSafeDist(ctx);
    let entries: string[] = [];
    try {
      entries = await readdir(ctx.distDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (entries.length > 0) {
      const shown = relative(ctx.cwd, ctx.distDir) || ctx.distDir;
      throw new RelsignError(`${shown}/ is not empty; remove it or run with --clean`);
    }
    await mkdir(ctx.distDir, { recursive: true });
  },
};
