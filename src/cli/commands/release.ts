import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { UsageError } from '../../util/errors.js';

/** What --skip accepts (GoReleaser's names where they exist), and what each does. */
export const SKIP_EFFECTS = {
  announce: 'nothing: relsign has no announcers (accepted so GoReleaser command lines run unchanged)',
  archive: 'no archives and no source archive',
  before: 'no before hooks',
  changelog: 'no generated changelog (empty release notes unless --release-notes)',
  docker: 'no images, no docker_signs',
  publish: 'no GitHub release and none of its checks',
  sign: 'no signs, no docker_signs',
  validate: 'no dirty-tree and tag-at-HEAD checks (the latest reachable tag is released, with a warning)',
} as const;
export const SKIPPABLE = Object.keys(SKIP_EFFECTS) as Array<keyof typeof SKIP_EFFECTS>;

export interface ReleaseFlags {
  config?: string;
  clean: boolean;
  snapshot: boolean;
  skip: string[];
  parallelism: number;
  timeout: string;
  draft: boolean;
  releaseNotes?: string;
  failFast: boolean;
  json: boolean;
  verbose: boolean;
  /** release --split and its selection flags. */
  split?: boolean;
  targets?: string;
  splitBy?: string;
  shard?: string;
  splitId?: string;
}

export function parseSkip(value: string, previous: string[] = []): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!(SKIPPABLE as readonly string[]).includes(item)) {
      throw new UsageError(`--skip=${item} is not allowed; valid options are ${SKIPPABLE.join(', ')}`);
    }
  }
  return [...previous, ...items];
}

function parseParallelism(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--parallelism must be a whole number ≥ 1, got ${JSON.stringify(value)}`);
  return n;
}

export function registerRelease(program: Command): void {
  program
    .command('release')
    .description('run the release pipeline: build, archive, checksum, sign, publish')
    .option('-f, --config <file>', 'config file (default: searched in the current folder)')
    .option('--clean', 'remove the dist folder before starting', false)
    .option('--snapshot', 'local build: no tag or clean tree needed; implies --skip=publish,validate,announce', false)
    .addOption(
      new Option('--skip <list>', `comma list of steps to skip: ${SKIPPABLE.map((k) => `${k} (${SKIP_EFFECTS[k]})`).join('; ')}`)
        .argParser(parseSkip)
        .default([]),
    )
    .addOption(
      new Option('-p, --parallelism <n>', 'how many tasks run at once')
        .argParser(parseParallelism)
        .default(availableParallelism(), 'number of CPUs'),
    )
    .option('--timeout <duration>', 'abort the whole run after this long (e.g. 30m, 1h)', '1h')
    .option('--draft', 'leave the GitHub release as a draft', false)
    .option('--release-notes <file>', 'use this file as the release notes instead of a generated changelog')
    .option('--fail-fast', 'stop at the first publishing error', false)
    .option('--json', 'log one JSON object per line (for CI)', false)
    .option('--verbose', 'show debug logs and command output', false)
    .option('--split', 'build and archive only some targets into dist/<split-id>/, for `relsign continue --merge` (no checksums, signing or publishing)', false)
    .option('--split-by <how>', 'with --split: os (targets of this runner\'s OS; default, or $RELSIGN_SPLIT_BY) or target (with --shard)')
    .option('--targets <list>', 'with --split: comma list of targets to build, e.g. linux_amd64,linux_arm64')
    .option('--shard <n/m>', 'with --split --split-by target: build the n-th of m shares of the sorted targets')
    .option('--split-id <id>', 'with --split: folder name under dist (default: the os, the targets, or shard-n-of-m)')
    .action(async (flags: ReleaseFlags) => {
      const { runRelease } = await import('../release.js');
      process.exitCode = await runRelease(flags);
    });
}
