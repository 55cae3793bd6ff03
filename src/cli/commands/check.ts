import { Option, type Command } from 'commander';
import { parseSkip, SKIPPABLE } from './release.js';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate the config: syntax, unknown keys, types, templates; --preflight also checks what a release needs')
    .option('-f, --config <file>', 'config file (default: searched in the current folder)')
    .option('-q, --quiet', 'print nothing when the config is valid', false)
    .option('--preflight', "run the release's preflight without building: token and repository, keys and passwords, commands, release notes", false)
    .option('--snapshot', 'with --preflight: check a snapshot release (no publishing checks)', false)
    .addOption(new Option('--skip <list>', `with --preflight: as release --skip (${SKIPPABLE.join(', ')})`).argParser(parseSkip).default([]))
    .option('--release-notes <file>', 'with --preflight: the release notes file the release will use')
    .action(async (flags: { config?: string; quiet: boolean; preflight: boolean; snapshot: boolean; skip: string[]; releaseNotes?: string }) => {
      if (flags.preflight) {
        const { runRelease } = await import('../release.js');
        process.exitCode = await runRelease(
          {
            config: flags.config,
            clean: false,
            snapshot: flags.snapshot,
            skip: flags.skip,
            parallelism: 1,
            timeout: '10m',
            draft: false,
            releaseNotes: flags.releaseNotes,
            failFast: false,
            json: false,
            verbose: false,
          },
          'preflight',
        );
        return;
      }
      const { loadConfig } = await import('../../config/load.js');
      await loadConfig({ cwd: process.cwd(), configPath: flags.config });
      if (!flags.quiet) process.stdout.write('config is valid\n');
    });
}
