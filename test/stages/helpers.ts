import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { applyDefaults } from '../../src/config/defaults.js';
import { createContext, type Context } from '../../src/pipeline/context.js';
import { Logger } from '../../src/pipeline/logger.js';
import type { Stage } from '../../src/pipeline/stage.js';
import { TempRepo } from '../helpers/repo.js';

export const FIXTURE = join(import.meta.dirname, '../../fixtures/example');
export const COMMIT_DATE = '2024-01-02T03:04:05Z';

/** A temp git repo holding a copy of fixtures/example, committed at a fixed date and tagged v1.2.3. */
export async function exampleRepo(): Promise<TempRepo> {
  const repo = await TempRepo.create();
  await cp(FIXTURE, repo.dir, { recursive: true });
  await repo.commit('initial');
  await repo.tag('v1.2.3');
  return repo;
}

export interface TestRun {
  ctx: Context;
  log: () => string;
}

/** A context for the repo with `raw` config (defaults applied) and git info read from the repo. */
export async function contextFor(repo: TempRepo, raw: Record<string, unknown>, options: { parallelism?: number } = {}): Promise<TestRun> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const fullCommit = await repo.git('rev-parse', 'HEAD');
  const date = await repo.git('show', '-s', '--format=%cI', 'HEAD');
  const config = applyDefaults({ project_name: 'hello', ...raw }, { projectName: 'hello' });
  const ctx = createContext({
    cwd: repo.dir,
    config,
    log: new Logger({ stream }),
    options: { parallelism: options.parallelism ?? 4 },
    git: { tag: 'v1.2.3', fullCommit, shortCommit: fullCommit.slice(0, 7), commitDate: new Date(date) },
    version: '1.2.3',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
  });
  ctx.semver = { major: 1, minor: 2, patch: 3, prerelease: '', build: '' };
  await mkdir(ctx.distDir, { recursive: true });
  return { ctx, log: () => text };
}

export async function runStages(ctx: Context, stages: Stage[]): Promise<void> {
  for (const s of stages) {
    if (s.skip(ctx) === false) await s.run(ctx);
  }
}

export async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  return (await execa(cmd, args, { cwd })).stdout;
}

/** The build section the example project uses. */
export const EXAMPLE_BUILD = {
  id: 'hello',
  cmd: ['node', 'scripts/build.mjs'],
  env: ['HELLO_VERSION={{ .Version }}'],
  targets: ['linux_amd64', 'linux_arm64', 'darwin_arm64', 'windows_amd64'],
  binary: 'hello',
};
