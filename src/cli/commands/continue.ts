import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { UsageError } from '../../util/errors.js';
import { parseSkip, type ReleaseFlags } from './release.js';

export function registerContinue(program: Command): void {
  program
    .command('continue')
    .description('finish a split release: check and merge dist/*/ parts, then checksum, sign and publish once')
    .option('--merge', 'merge the parts written by `relsign release --split` (required)', false)
    .option('-f, --config <file>', 'config file (default: searched in the current folder)')
    .addOption(new Option('--skip <list>', 'comma list of steps to skip: announce, docker, publish, sign, validate').argParser(parseSkip).default([]))
    .addOption(
      new Option('-p, --parallelism <n>', 'how many tasks run at once')
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw new UsageError(`--parallelism must be a whole number ≥ 1, got ${JSON.stringify(v)}`);
          return n;
        })
        .default(availableParallelism(), 'number of CPUs'),
    )
    .option('--snapshot', 'merge parts built with --snapshot; implies --skip=publish,validate,announce', false)
    .option('--timeout <duration>', 'abort the whole run after this long (e.g. 30m, 1h)', '1h')
    .option('--draft', 'leave the GitHub release as a draft', false)
    .option('--release-notes <file>', 'use this file as the release notes instead of a generated changelog')
    .option('--fail-fast', 'stop at the first publishing error', false)
    .option('--json', 'log one JSON object per line (for CI)', false)
    .option('--verbose', 'show debug logs and command output', false)
    .action(async (flags: ReleaseFlags & { merge: boolean }) => {
      if (!flags.merge) throw new UsageError('continue: say what to continue; the only mode is --merge');
      const { runRelease } = await import('../release.js');
      process.exitCode = await runRelease({ ...flags, clean: false, split: false }, 'merge');
    });
}
