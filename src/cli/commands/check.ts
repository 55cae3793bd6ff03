import type { Command } from 'commander';

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate the config: syntax, unknown keys, types, templates')
    .option('-f, --config <file>', 'config file (default: searched in the current folder)')
    .option('-q, --quiet', 'print nothing when the config is valid', false)
    .action(async (flags: { config?: string; quiet: boolean }) => {
      const { loadConfig } = await import('../../config/load.js');
      await loadConfig({ cwd: process.cwd(), configPath: flags.config });
      if (!flags.quiet) process.stdout.write('config is valid\n');
    });
}
