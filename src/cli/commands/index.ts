import type { Command } from 'commander';

/**
 * Every subcommand registers itself here. Command modules declare their flags
 * and lazily import their implementation inside the action, so registering
 * them all costs almost nothing at start-up.
 */
export function registerCommands(program: Command): void {
  void program;
}
