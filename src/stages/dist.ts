import { mkdir, readdir, rm } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { Context } from '../pipeline/context.js';
import type { Stage } from '../pipeline/stage.js';
import { RelsignError } from '../util/errors.js';

/** Refuses to delete anything that is not strictly inside the project (a `dist: ..` typo must not wipe a home folder). */
function assertSafeToClean(ctx: Context): void {
  const rel = relative(resolve(ctx.cwd), resolve(ctx.distDir));
  if (!rel || rel.startsWith('..') || rel.split(sep).includes('..') || resolve(ctx.distDir) === sep) {
    throw new RelsignError(`refusing to clean dist ${ctx.distDir}: it is not inside the project folder ${ctx.cwd}`);
  }
}

export const cleanStage: Stage = {
  name: 'clean',
  description: 'cleaning dist',
  skip: (ctx) => (ctx.options.clean ? false : 'no --clean'),
  async run(ctx) {
    assertSafeToClean(ctx);
    await rm(ctx.distDir, { recursive: true, force: true });
  },
};

export const distStage: Stage = {
  name: 'dist',
  description: 'preparing dist',
  skip: () => false,
  async run(ctx) {
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
